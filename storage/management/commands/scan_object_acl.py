"""manage.py scan_object_acl BUCKET [--only GLOB] [--except GLOB]

Reads every matching object's ACL (paginated listing, concurrent reads, flat memory) and
prints the objects that are not private, then a summary by canned ACL.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import aws
from storage.management.commands._common import resolve_bucket
from storage.scan.collect import bucket_region
from storage.scan.object_acl import ERROR, PRIVATE, ObjectAclError, scan_object_acls

ERRORS_EXIT_STATUS = 1


class Command(BaseCommand):
    help = "List objects of BUCKET whose ACL is not private (s3tk's scan-object-acl)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bucket", metavar="BUCKET")
        parser.add_argument("--only", action="append", default=[], metavar="GLOB")
        parser.add_argument("--except", dest="exclude", action="append", default=[], metavar="GLOB")
        parser.add_argument("--tenant", metavar="SLUG")
        parser.add_argument("--account", metavar="NAME")
        parser.add_argument("--format", choices=["table", "ndjson"], default="table")
        parser.add_argument(
            "--all", action="store_true", help="also list private objects (table format)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bucket = resolve_bucket(options["bucket"], options["tenant"], options["account"])
        account = bucket.account
        region: str | None = bucket.region
        if not region:
            region, fetched = bucket_region(
                aws.client(account, "s3"), bucket.name, account_name=account.name
            )
            if not region:
                raise CommandError(fetched.error)
        client = aws.client(account, "s3", region=region)
        summary: Counter[str] = Counter()
        public = 0
        try:
            for acl in scan_object_acls(
                client,
                bucket.name,
                only=options["only"],
                exclude=options["exclude"],
                pool_size=settings.SCAN_OBJECT_ACL_POOL_SIZE,
                account_name=account.name,
            ):
                summary[acl.mode] += 1
                public += int(acl.is_public)
                if options["format"] == "ndjson":
                    self.stdout.write(json.dumps(acl.to_dict()))
                elif acl.mode == ERROR:
                    self.stdout.write(f"{acl.key}  error: {acl.error}")
                elif acl.mode != PRIVATE or options["all"]:
                    why = f"  ({'; '.join(acl.public_reasons)})" if acl.public_reasons else ""
                    self.stdout.write(f"{acl.key}  {acl.mode}{why}")
        except ObjectAclError as exc:
            raise CommandError(str(exc)) from exc
        total = sum(summary.values())
        lines = [f"{mode}: {n}" for mode, n in summary.most_common()]
        text = f"{total} object(s) in {bucket.name}; {public} public. " + ", ".join(lines)
        if options["format"] == "ndjson":
            self.stderr.write(text)
        else:
            self.stdout.write("")
            self.stdout.write("Summary: " + text)
        if summary[ERROR]:
            # An object whose ACL could not be read is never counted as private: fail.
            self.stderr.write(
                f"{summary[ERROR]} object ACL(s) in {bucket.name} could not be read; "
                "see the errors above"
            )
            raise SystemExit(ERRORS_EXIT_STATUS)
