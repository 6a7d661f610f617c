"""manage.py fix ACTION BUCKET [options] [--dry-run]

ACTION: block-public-access, enable-versioning, default-encryption (--kms-key-id KEY),
access-logging (--target-bucket B [--target-prefix P]), reset-object-acls (--only/--except
GLOB), tls-only, remove-public-statement (--statement SID|#N).

--dry-run prints the exact request(s) and the document before and after, and changes nothing.
Otherwise the change is applied, recorded in the audit trail, and the bucket is rescanned.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from storage.management.commands._common import cli_actor, resolve_bucket
from storage.remediation import FIXES, FixError, FixPlan, run_fix
from storage.remediation.outcome_text import applied_message

ACTIONS = sorted(name.replace("_", "-") for name in FIXES)


class Command(BaseCommand):
    help = "Apply one fix to a bucket, or show its dry run (--dry-run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action",
            choices=ACTIONS + sorted(FIXES),
            metavar="ACTION",
            help="one of: " + ", ".join(ACTIONS),
        )
        parser.add_argument("bucket", metavar="BUCKET")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--tenant", metavar="SLUG")
        parser.add_argument("--account", metavar="NAME")
        parser.add_argument("--actor", metavar="USERNAME", help="user the audit event names")
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--kms-key-id", help="default-encryption: SSE-KMS with this key")
        parser.add_argument(
            "--no-bucket-key", action="store_true", help="default-encryption: no S3 Bucket Key"
        )
        parser.add_argument("--target-bucket", help="access-logging: the log bucket")
        parser.add_argument(
            "--target-prefix", default=None, help="access-logging: prefix ({bucket} = name)"
        )
        parser.add_argument("--only", action="append", default=[], metavar="GLOB")
        parser.add_argument("--except", dest="exclude", action="append", default=[], metavar="GLOB")
        parser.add_argument("--statement", help="remove-public-statement: Sid or #N (1-based)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"].replace("-", "_")
        bucket = resolve_bucket(options["bucket"], options["tenant"], options["account"])
        was_public = bucket.is_public
        actor, actor_name = cli_actor(options["actor"])
        params = {
            "kms_key_id": options["kms_key_id"],
            "bucket_key": (False if options["no_bucket_key"] else None),
            "target_bucket": options["target_bucket"],
            "target_prefix": options["target_prefix"],
            "only": options["only"],
            "exclude": options["exclude"],
            "statement": options["statement"],
        }
        try:
            outcome = run_fix(
                bucket,
                action,
                params,
                actor=actor,
                actor_name=actor_name,
                dry_run=options["dry_run"],
                limit=None if not options["dry_run"] else 10**9,
            )
        except FixError as exc:
            raise CommandError(str(exc)) from exc
        if options["format"] == "json":
            data = {
                **outcome.plan.to_dict(),
                "dry_run": options["dry_run"],
                "applied": outcome.applied,
            }
            if outcome.rescan is not None:
                bucket.refresh_from_db()
                data["public_after"] = bucket.is_public
            self.stdout.write(json.dumps(data, indent=2, default=str))
            return
        self._print_plan(outcome.plan, dry_run=options["dry_run"])
        if outcome.applied:
            bucket.refresh_from_db()
            self.stdout.write(
                self.style.SUCCESS(
                    applied_message(outcome.plan, was_public, bucket.is_public)
                    + " (recorded in the audit trail)"
                )
            )

    def _print_plan(self, plan: FixPlan, *, dry_run: bool) -> None:
        prefix = "DRY RUN: " if dry_run else ""
        self.stdout.write(f"{prefix}{plan.summary}")
        for note in plan.notes:
            self.stdout.write(f"  note: {note}")
        if plan.noop or (not dry_run and not plan.requests):
            return
        if plan.requests:
            shown = (
                f" (first {len(plan.requests)} of {plan.total_requests})" if plan.truncated else ""
            )
            self.stdout.write(f"Request(s){shown}:")
            for request in plan.requests:
                self.stdout.write(json.dumps(request.to_dict(), indent=2, default=str))
        self.stdout.write("Before:")
        self.stdout.write(json.dumps(plan.before, indent=2, default=str))
        self.stdout.write("After:")
        self.stdout.write(json.dumps(plan.after, indent=2, default=str))
