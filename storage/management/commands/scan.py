"""manage.py scan [PATTERN ...] [--tenant SLUG] [--account NAME] [--format table|json|ndjson]
[--skip CHECK ...] [--no-save] [--fail-on SEVERITY]

The output contract (later tooling depends on it): `json` prints a list, `ndjson` one object
per line; each object has tenant, account, bucket, region, public (bool), public_reasons
(list of strings), checks (name -> {"status": "pass"|"fail"|"error", "detail": ...}) and
findings. Exit status 0 unless --fail-on is met.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from storage.management.commands._common import (
    cli_actor,
    finding_dict,
    report,
    select_accounts,
    unsaved_findings,
)
from storage.models import Severity
from storage.scan.checks import CHECK_NAMES
from storage.scan.inventory import ListingError
from storage.scan.runner import (
    ScanOptions,
    TransientScanError,
    create_run,
    execute,
    fail_unfinished,
    meets_threshold,
    scan_account_results,
)

FAIL_ON_EXIT_STATUS = 1


class Command(BaseCommand):
    help = (
        "Scan buckets (all, or those matching PATTERN names/globs) of every AWS account, or "
        "of --tenant/--account. Prints table, json or ndjson; saves snapshots and findings "
        "unless --no-save. --fail-on SEVERITY exits with status 1 when a check fails (or "
        "cannot be read) at that severity or above, or an account cannot be listed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("patterns", nargs="*", metavar="PATTERN")
        parser.add_argument("--tenant", metavar="SLUG")
        parser.add_argument("--account", metavar="NAME")
        parser.add_argument("--format", choices=["table", "json", "ndjson"], default="table")
        parser.add_argument(
            "--skip",
            action="extend",
            nargs="+",
            default=[],
            choices=CHECK_NAMES,
            metavar="CHECK",
            help=f"checks to leave out: {', '.join(CHECK_NAMES)}",
        )
        parser.add_argument("--no-save", action="store_true", help="report only; write nothing")
        parser.add_argument("--fail-on", choices=Severity.values, metavar="SEVERITY")

    def handle(self, *args: Any, **options: Any) -> None:
        self.format = options["format"]
        self.fail_on: str | None = options["fail_on"]
        self.failed = False
        self.first_json = True
        self.rows: list[tuple[str, ...]] = []
        patterns = tuple(options["patterns"])
        skip = frozenset(options["skip"])
        # A list now: an unreadable account fails before any output starts.
        accounts = list(select_accounts(options["tenant"], options["account"]))
        _, actor_name = cli_actor(None)

        if self.format == "json":
            self.stdout.write("[", ending="")
        for account in accounts:
            if options["no_save"]:
                self._scan_unsaved(account, patterns, skip)
            else:
                self._scan_saved(account, patterns, skip, actor_name)
        if self.format == "json":
            self.stdout.write("\n]" if not self.first_json else "]")
        elif self.format == "table":
            self._print_table()
        if self.fail_on and self.failed:
            raise SystemExit(FAIL_ON_EXIT_STATUS)

    # --- scanning ---
    def _scan_unsaved(self, account: Any, patterns: tuple[str, ...], skip: frozenset[str]) -> None:
        try:
            for result in scan_account_results(account, ScanOptions(patterns=patterns, skip=skip)):
                self._emit(
                    report(
                        result, tenant_slug=account.tenant.slug, findings=unsaved_findings(result)
                    )
                )
        except ListingError as exc:
            self._account_failed(account, str(exc))

    def _scan_saved(
        self, account: Any, patterns: tuple[str, ...], skip: frozenset[str], actor_name: str
    ) -> None:
        run = create_run(
            account, trigger="cli", patterns=patterns, skip=skip, actor_name=actor_name
        )

        def emit(result: Any, bucket: Any, findings: list[Any]) -> None:
            self._emit(
                report(
                    result,
                    tenant_slug=account.tenant.slug,
                    findings=[finding_dict(f, run) for f in findings],
                )
            )

        try:
            execute(run, emit=emit)
        except TransientScanError as exc:
            # The command does not retry: the run ends here, failed with its reason.
            fail_unfinished(run, f"failed: {exc} (the command does not retry; run it again)")
            self._account_failed(account, f"scan #{run.pk} {run.message}")
            return
        run.refresh_from_db()
        if run.status in ("failed", "skipped"):
            self._account_failed(account, f"scan #{run.pk} {run.status}: {run.message}")

    def _account_failed(self, account: Any, message: str) -> None:
        self.stderr.write(f"{account.tenant.slug}/{account.name}: {message}")
        self.failed = True  # an account that could not be scanned never counts as clean

    # --- output ---
    def _emit(self, item: dict[str, Any]) -> None:
        if self.fail_on and meets_threshold(item["checks"], self.fail_on):
            self.failed = True
        if self.format == "ndjson":
            self.stdout.write(json.dumps(item, default=str))
        elif self.format == "json":
            prefix = "\n" if self.first_json else ",\n"
            self.first_json = False
            self.stdout.write(prefix + json.dumps(item, default=str), ending="")
        else:
            failing = [n for n, c in item["checks"].items() if c["status"] == "fail"]
            errors = [n for n, c in item["checks"].items() if c["status"] == "error"]
            public = (
                "yes"
                if item["public"] and item["public_determined"]
                else ("?" if not item["public_determined"] else "no")
            )
            self.rows.append(
                (
                    item["tenant"],
                    item["account"],
                    item["bucket"],
                    item["region"] or "?",
                    public,
                    str(len(failing)),
                    ",".join(errors) or "-",
                    "; ".join(item["public_reasons"]) if item["public"] else "",
                )
            )

    def _print_table(self) -> None:
        header = ("TENANT", "ACCOUNT", "BUCKET", "REGION", "PUBLIC", "FAILING", "ERRORS")
        rows = sorted(self.rows, key=lambda r: (r[0], r[1], r[2]))
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]

        def line(values: tuple[str, ...]) -> str:
            return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

        self.stdout.write(line(header))
        for row in rows:
            self.stdout.write(line(row[:7]))
            if row[7]:
                self.stdout.write(f"    why public: {row[7]}")
        if not rows:
            self.stdout.write("(no bucket matched)")
