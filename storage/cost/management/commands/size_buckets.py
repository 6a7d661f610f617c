"""Measure buckets now (CloudWatch storage metrics or a listing) and print what was found."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import AwsAccount
from storage.cost import rollup, sizing
from storage.cost.models import Source

from ._cost_common import dump_json, write_rows

COLUMNS = [
    "tenant",
    "account",
    "bucket",
    "region",
    "storage_class",
    "bytes",
    "objects",
    "noncurrent_bytes",
    "noncurrent_objects",
    "delete_markers",
    "incomplete_upload_bytes",
    "incomplete_uploads",
    "source",
    "day",
]


class Command(BaseCommand):
    help = "Measure buckets now and print bytes and objects per bucket and storage class."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="tenant slug")
        parser.add_argument("--account", help="AWS account name")
        parser.add_argument("--bucket", action="append", help="only this bucket (repeatable)")
        parser.add_argument(
            "--source",
            choices=[Source.CLOUDWATCH, Source.LISTING],
            help="default: CloudWatch for AWS, listing for S3-compatible "
            "endpoints and buckets CloudWatch has no data for",
        )
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = AwsAccount.objects.select_related("tenant").order_by("tenant__slug", "name")
        if options["tenant"]:
            accounts = accounts.filter(tenant__slug=options["tenant"])
        if options["account"]:
            accounts = accounts.filter(name=options["account"])
        if not accounts.exists():
            raise CommandError("no AWS account matches")
        out: list[dict[str, Any]] = []
        errors: list[str] = []
        for account in accounts:
            report = sizing.size_account(
                account, source=options["source"], bucket_names=options["bucket"]
            )
            errors += report.errors
            for note in report.notes:
                self.stderr.write(note)
            if report.rows:
                rollup.rollup_day(account.pk, report.day)
            for row in report.rows:
                out.append(
                    {
                        "tenant": account.tenant.slug,
                        "account": account.name,
                        "bucket": row.bucket.name,
                        "region": row.bucket.region or account.default_region,
                        "storage_class": row.storage_class,
                        "bytes": row.bytes,
                        "objects": row.object_count,
                        "noncurrent_bytes": row.noncurrent_bytes,
                        "noncurrent_objects": row.noncurrent_objects,
                        "delete_markers": row.delete_markers,
                        "incomplete_upload_bytes": row.incomplete_upload_bytes,
                        "incomplete_uploads": row.incomplete_uploads,
                        "source": row.source,
                        "day": row.day.isoformat(),
                    }
                )
        if options["format"] == "json":
            dump_json(self.stdout, out)
        else:
            write_rows(self.stdout, out, COLUMNS, options["format"])
        if errors:
            for e in errors:
                self.stderr.write(e)
            raise CommandError(f"{len(errors)} bucket(s) could not be measured")
