"""Daily CostRollup rows: per day x tenant x account x bucket x storage class.

Idempotent per day (a unique constraint; re-running a day replaces its rows) and catching up:
missing days after downtime are filled from the newest sizing on or before each day.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from .models import BucketUsage, CostRollup
from .prices import load_table
from .queries import estimate_rows, latest_usage

MAX_CATCH_UP_DAYS = 400


def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def rollup_day(account_id: int, day: date) -> int:
    """Write the account's rollup of `day` (replacing any). Returns the rows written."""
    table = load_table()
    usage = latest_usage(
        BucketUsage.objects.filter(bucket__account_id=account_id, bucket__gone_at__isnull=True),
        on_or_before=day,
    )
    est, usage_rows = estimate_rows(usage, table)
    per_day = Decimal(days_in_month(day))
    rows = [
        CostRollup(
            day=day,
            tenant_id=p.usage.tenant_id,
            account_id=p.usage.account_id,
            bucket_id=p.usage.bucket_id,
            region=p.usage.region,
            storage_class=p.usage.storage_class,
            bytes=p.usage.billed_bytes,
            object_count=p.usage.object_count,
            monthly_cost_usd=p.monthly_cost,
            daily_cost_usd=None if p.monthly_cost is None else p.monthly_cost / per_day,
            price_verified=p.verified,
            usage_day=row.day,
            table_date=table.table_date,
        )
        for p, row in zip(est.lines, usage_rows, strict=True)
    ]
    with transaction.atomic():
        CostRollup.objects.filter(account_id=account_id, day=day).delete()
        CostRollup.objects.bulk_create(rows)
    return len(rows)


def days_to_roll(account_id: int, up_to: date) -> list[date]:
    """`up_to`, and every day since the account's last rollup (or its first sizing)."""
    last = (
        CostRollup.objects.filter(account_id=account_id, day__lt=up_to)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    if last is None:
        last = (
            BucketUsage.objects.filter(bucket__account_id=account_id, day__lte=up_to)
            .order_by("day")
            .values_list("day", flat=True)
            .first()
        )
        if last is None:
            return []
        last -= timedelta(days=1)
    start = max(last + timedelta(days=1), up_to - timedelta(days=MAX_CATCH_UP_DAYS))
    return [start + timedelta(days=i) for i in range((up_to - start).days + 1)]


def rollup_account(account_id: int, up_to: date | None = None) -> dict[str, int]:
    up_to = up_to or timezone.now().date()
    written = 0
    days = days_to_roll(account_id, up_to)
    for day in days:
        written += rollup_day(account_id, day)
    return {"days": len(days), "rows": written}
