"""Print the storage cost estimate from the latest sizing."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from storage.cost.estimate import money_str
from storage.cost.models import BucketUsage
from storage.cost.queries import estimate_rows, latest_usage

from ._cost_common import FORMATS, dump_json, write_rows

TABLE_COLUMNS = [
    "tenant",
    "account",
    "bucket",
    "region",
    "storage_class",
    "bytes",
    "objects",
    "monthly_cost_usd",
    "note",
]


def month_end(value: str) -> date:
    try:
        year, month = (int(p) for p in value.split("-"))
        return date(year, month, calendar.monthrange(year, month)[1])
    except (ValueError, TypeError) as exc:
        raise CommandError(f"--month must be YYYY-MM, not {value!r}") from exc


class Command(BaseCommand):
    help = "Print the monthly storage cost estimate (from the latest sizing of each bucket)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="tenant slug")
        parser.add_argument("--account", help="AWS account name")
        parser.add_argument("--bucket", help="bucket name")
        parser.add_argument("--month", help="YYYY-MM: the latest sizing up to that month's end")
        parser.add_argument("--format", choices=FORMATS, default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = BucketUsage.objects.filter(bucket__gone_at__isnull=True)
        if options["tenant"]:
            rows = rows.filter(bucket__account__tenant__slug=options["tenant"])
        if options["account"]:
            rows = rows.filter(bucket__account__name=options["account"])
        if options["bucket"]:
            rows = rows.filter(bucket__name=options["bucket"])
        until = None
        if options["month"]:
            until = min(month_end(options["month"]), timezone.now().date())
        est, usage = estimate_rows(latest_usage(rows, on_or_before=until))
        out = [
            {
                "tenant": p.usage.tenant,
                "account": p.usage.account,
                "bucket": p.usage.bucket,
                "region": p.usage.region,
                "storage_class": p.usage.storage_class,
                "bytes": p.usage.bytes,
                "objects": p.usage.object_count,
                "noncurrent_bytes": p.usage.noncurrent_bytes,
                "incomplete_upload_bytes": p.usage.incomplete_upload_bytes,
                "billed_bytes": p.usage.billed_bytes,
                "monthly_cost_usd": money_str(p.monthly_cost),
                "price_verified": p.verified,
                "note": p.note,
                "usage_day": row.day.isoformat(),
                "source": row.source,
            }
            for p, row in zip(est.lines, usage, strict=True)
        ]
        total = money_str(est.total)
        if options["format"] == "json":
            dump_json(
                self.stdout,
                {
                    "rows": out,
                    "total_monthly_cost_usd": total,
                    "price_table_date": est.table_date,
                    "unverified_prices_used": est.uses_unverified,
                    "unpriced_rows": len(est.unpriced),
                },
            )
            return
        write_rows(
            self.stdout,
            out,
            TABLE_COLUMNS
            if options["format"] == "table"
            else list(out[0])
            if out
            else TABLE_COLUMNS,
            options["format"],
        )
        if options["format"] == "table":
            self.stdout.write(
                f"total monthly cost: {total} USD (price table {est.table_date}"
                f"{'; unverified prices used' if est.uses_unverified else ''})\n"
            )
