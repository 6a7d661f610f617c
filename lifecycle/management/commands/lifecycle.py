"""manage.py lifecycle show|plan|apply|history|rollback|apply-template

  show BUCKET [--format table|json]         every rule with its owner (portal/foreign) and
                                            TransitionDefaultMinimumObjectSize
  plan BUCKET --rules-file FILE             exact requests and before/after; changes nothing
  apply BUCKET --rules-file FILE            writes; foreign rules are kept
  history BUCKET                            the recorded versions
  rollback BUCKET --to N [--dry-run] [--restore-foreign]
  apply-template TEMPLATE BUCKET... [--dry-run]

FILE is a JSON list of rules in S3's shape: the desired set of the portal's rules. Buckets take
--tenant SLUG / --account NAME. Exit codes: 0 done or nothing to change; 1 refused
(validation, a foreign rule's ID, or the configuration changed); 2 AWS failed (read or write),
with the reason on one stderr line. Nothing is half-written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lifecycle.models import LifecycleTemplate, LifecycleVersion
from lifecycle.plan import (
    FixConflict,
    FixError,
    LifecycleInvalid,
    owned_ids,
    portal_rules,
    read_current,
    rollback_rules,
    run_rules,
)
from lifecycle.s3shape import TDMOS, describe_rule
from lifecycle.starters import with_template
from storage.management.commands._common import cli_actor, resolve_bucket
from storage.models import Bucket
from storage.remediation import FixOutcome
from storage.remediation.base import FixContext, FixPlan

REFUSED, AWS_FAILED = 1, 2


def _fail(exc: FixError) -> CommandError:
    code = REFUSED if isinstance(exc, LifecycleInvalid | FixConflict) else AWS_FAILED
    return CommandError(" ".join(str(exc).split()), returncode=code)


def _load_rules(path: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=REFUSED) from exc
    except ValueError as exc:
        raise CommandError(f"{path} is not valid JSON: {exc}", returncode=REFUSED) from exc
    if isinstance(data, dict) and isinstance(data.get("Rules"), list):
        data = data["Rules"]  # also take a whole configuration as S3 prints it
    if not isinstance(data, list):
        raise CommandError(f"{path} must hold a JSON list of rules", returncode=REFUSED)
    return data


class Command(BaseCommand):
    help = "Show, plan, apply, list history of, and roll back a bucket's lifecycle rules."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True, parser_class=CommandParser)

        def bucket_cmd(name: str, help_text: str) -> CommandParser:
            cmd = sub.add_parser(name, help=help_text)
            cmd.add_argument("bucket", metavar="BUCKET")
            cmd.add_argument("--tenant", metavar="SLUG")
            cmd.add_argument("--account", metavar="NAME")
            cmd.add_argument("--actor", metavar="USERNAME", help="user the audit event names")
            return cmd

        show = bucket_cmd("show", "every rule with its owner, and the minimum-size setting")
        show.add_argument("--format", choices=["table", "json"], default="table")
        for verb in ("plan", "apply"):
            cmd = bucket_cmd(verb, f"{verb} the portal's rules from a JSON file")
            cmd.add_argument("--rules-file", required=True, metavar="FILE")
            cmd.add_argument("--format", choices=["text", "json"], default="text")
        history = bucket_cmd("history", "the recorded versions of the configuration")
        history.add_argument("--format", choices=["table", "json"], default="table")
        rollback = bucket_cmd("rollback", "go back to an earlier version")
        rollback.add_argument("--to", type=int, required=True, metavar="VERSION")
        rollback.add_argument("--dry-run", action="store_true")
        rollback.add_argument(
            "--restore-foreign", action="store_true", help="also restore foreign rules as then"
        )
        rollback.add_argument("--format", choices=["text", "json"], default="text")
        tpl = sub.add_parser("apply-template", help="apply a tenant template to buckets")
        tpl.add_argument("template", metavar="TEMPLATE", help="template name or id")
        tpl.add_argument("buckets", nargs="+", metavar="BUCKET")
        tpl.add_argument("--tenant", metavar="SLUG")
        tpl.add_argument("--account", metavar="NAME")
        tpl.add_argument("--actor", metavar="USERNAME")
        tpl.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"].replace("-", "_")
        getattr(self, f"do_{verb}")(options)

    def _bucket(self, options: dict[str, Any], name: str | None = None) -> Bucket:
        return resolve_bucket(name or options["bucket"], options["tenant"], options["account"])

    # --- show / history ---------------------------------------------------------------
    def do_show(self, options: dict[str, Any]) -> None:
        bucket = self._bucket(options)
        try:
            current = read_current(FixContext.for_bucket(bucket))
        except FixError as exc:
            raise _fail(exc) from exc
        owned = owned_ids(bucket, current.rules)
        owners = {
            r.get("ID"): ("portal" if r.get("ID") in owned else "foreign") for r in current.rules
        }
        if options["format"] == "json":
            # Rules exactly in S3's shape (feed them back to --rules-file); owners beside them.
            data = {**current.config, "Owners": owners}
            self.stdout.write(json.dumps(data, indent=4, default=str))
            return
        self.stdout.write(f"{TDMOS}: {current.config.get(TDMOS, '(not set: the S3 default)')}")
        if not current.rules:
            self.stdout.write("No lifecycle rules.")
        for rule in current.rules:
            self.stdout.write(f"{owners[rule.get('ID')]:8} {rule.get('ID')}: {describe_rule(rule)}")

    def do_history(self, options: dict[str, Any]) -> None:
        bucket = self._bucket(options)
        versions = LifecycleVersion.objects.filter(bucket=bucket).order_by("number")
        if options["format"] == "json":
            rows = [
                {
                    "version": v.number,
                    "at": v.created_at.isoformat(),
                    "reason": v.reason,
                    "detail": v.detail,
                    "actor": v.actor_name,
                    "portal_rules": v.owned_ids,
                    "configuration": v.configuration,
                }
                for v in versions
            ]
            self.stdout.write(json.dumps(rows, indent=2, default=str))
            return
        if not versions:
            self.stdout.write("No recorded versions.")
        for v in versions:
            self.stdout.write(
                f"{v.number:4}  {v.created_at:%Y-%m-%d %H:%M:%S}  {v.reason:9} "
                f"{len(v.rules):3} rule(s)  {v.actor_name or '-'}  {v.detail}"
            )

    # --- plan / apply / rollback --------------------------------------------------------
    def do_plan(self, options: dict[str, Any]) -> None:
        self._run(options, _load_rules(options["rules_file"]), dry_run=True)

    def do_apply(self, options: dict[str, Any]) -> None:
        self._run(options, _load_rules(options["rules_file"]), dry_run=False)

    def do_rollback(self, options: dict[str, Any]) -> None:
        bucket = self._bucket(options)
        version = LifecycleVersion.objects.filter(bucket=bucket, number=options["to"]).first()
        if version is None:
            raise CommandError(
                f"bucket {bucket.name} has no version {options['to']} (see: lifecycle history)",
                returncode=REFUSED,
            )
        rules, exact = rollback_rules(bucket, version, restore_foreign=options["restore_foreign"])
        self._run(
            options,
            rules,
            dry_run=options["dry_run"],
            bucket=bucket,
            reason=LifecycleVersion.Reason.ROLLBACK,
            detail=f"to version {version.number}",
            exact_rules=exact,
        )

    def _run(
        self,
        options: dict[str, Any],
        rules: list[dict[str, Any]],
        *,
        dry_run: bool,
        bucket: Bucket | None = None,
        **kwargs: Any,
    ) -> None:
        bucket = bucket or self._bucket(options)
        actor, actor_name = cli_actor(options.get("actor"))
        try:
            outcome = run_rules(
                bucket, rules, actor=actor, actor_name=actor_name, dry_run=dry_run, **kwargs
            )
        except FixError as exc:
            raise _fail(exc) from exc
        self._print(outcome, dry_run=dry_run, fmt=options.get("format", "text"))

    def _print(self, outcome: FixOutcome, *, dry_run: bool, fmt: str) -> None:
        plan: FixPlan = outcome.plan
        if fmt == "json":
            data = {**plan.to_dict(), "dry_run": dry_run, "applied": outcome.applied}
            self.stdout.write(json.dumps(data, indent=2, default=str))
            return
        self.stdout.write(("DRY RUN: " if dry_run else "") + plan.summary)
        for note in plan.notes:
            self.stdout.write(f"  note: {note}")
        if plan.noop:
            return
        self.stdout.write("Request(s):")
        for request in plan.requests:
            self.stdout.write(json.dumps(request.to_dict(), indent=2, default=str))
        self.stdout.write("Before:")
        self.stdout.write(json.dumps(plan.before, indent=2, default=str))
        self.stdout.write("After:")
        self.stdout.write(json.dumps(plan.after, indent=2, default=str))
        if outcome.applied:
            self.stdout.write(self.style.SUCCESS("Applied; recorded in the history and audit."))

    # --- templates ----------------------------------------------------------------------
    def do_apply_template(self, options: dict[str, Any]) -> None:
        templates = LifecycleTemplate.objects.select_related("tenant")
        if options["tenant"]:
            templates = templates.filter(tenant__slug=options["tenant"])
        wanted = options["template"]
        found = list(
            templates.filter(pk=int(wanted)) if wanted.isdigit() else templates.filter(name=wanted)
        )
        if len(found) != 1:
            hint = " (several tenants have it: pass --tenant)" if found else ""
            raise CommandError(f"no single template {wanted!r}{hint}", returncode=REFUSED)
        template = found[0]
        actor, actor_name = cli_actor(options["actor"])
        worst = 0
        last_error = ""
        for name in options["buckets"]:
            bucket = resolve_bucket(name, template.tenant.slug, options["account"])
            desired = with_template(portal_rules(bucket), list(template.rules))
            try:
                outcome = run_rules(
                    bucket,
                    desired,
                    reason=LifecycleVersion.Reason.TEMPLATE,
                    detail=f"template {template.name}",
                    actor=actor,
                    actor_name=actor_name,
                    dry_run=options["dry_run"],
                )
            except FixError as exc:
                error = _fail(exc)
                worst = max(worst, error.returncode)
                last_error = str(error)
                self.stdout.write(f"{bucket.name}: refused: {error}")
                continue
            state = (
                "nothing to change"
                if outcome.plan.noop
                else ("would apply" if options["dry_run"] else "applied")
            )
            self.stdout.write(f"{bucket.name}: {state}: {outcome.plan.summary}")
        if worst:
            raise CommandError(last_error, returncode=worst)
