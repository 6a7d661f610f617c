"""Reading cost rows for pages and commands: constant query counts, whatever the bucket count."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from .estimate import Estimate, Override, UsageLine, estimate
from .models import BucketUsage, TenantPricing
from .prices import PriceTable, load_table


def latest_usage(
    rows: QuerySet[BucketUsage], on_or_before: date | None = None
) -> QuerySet[BucketUsage]:
    """Each bucket's rows of its newest measured day (on or before a day, if given): one query."""
    newest = BucketUsage.objects.filter(bucket=OuterRef("bucket"))
    if on_or_before is not None:
        newest = newest.filter(day__lte=on_or_before)
        rows = rows.filter(day__lte=on_or_before)
    newest_day = newest.order_by("-day").values("day")[:1]
    return rows.filter(day=Subquery(newest_day)).select_related("bucket__account__tenant")


def to_line(row: BucketUsage) -> UsageLine:
    bucket = row.bucket
    account = bucket.account
    return UsageLine(
        tenant_id=account.tenant_id,
        tenant=account.tenant.slug,
        account_id=account.pk,
        account=account.name,
        s3_compatible=bool(account.endpoint_url),
        bucket_id=bucket.pk,
        bucket=bucket.name,
        region=bucket.region or account.default_region,
        storage_class=row.storage_class,
        bytes=row.bytes,
        object_count=row.object_count,
        noncurrent_bytes=row.noncurrent_bytes,
        incomplete_upload_bytes=row.incomplete_upload_bytes,
        class_overhead_bytes=row.class_overhead_bytes,
        standard_overhead_bytes=row.standard_overhead_bytes,
        monitored_objects=row.monitored_objects,
    )


def overrides_for(tenant_ids: set[int] | None = None) -> dict[int, Override]:
    """Tenant price overrides (one query)."""
    qs = TenantPricing.objects.all()
    if tenant_ids is not None:
        qs = qs.filter(tenant_id__in=tenant_ids)
    result = {}
    for p in qs:
        result[p.tenant_id] = Override(
            discount_percent=p.discount_percent,
            compatible_usd_per_gb=p.compatible_usd_per_gb,
            compatible_class_prices={
                k.upper(): Decimal(str(v)) for k, v in (p.compatible_class_prices or {}).items()
            },
        )
    return result


def estimate_rows(
    rows: QuerySet[BucketUsage] | list[BucketUsage], table: PriceTable | None = None
) -> tuple[Estimate, list[BucketUsage]]:
    rows = list(rows)
    lines = [to_line(r) for r in rows]
    tenant_ids = {line.tenant_id for line in lines}
    return estimate(lines, table or load_table(), overrides_for(tenant_ids)), rows


def breakdown(est: Estimate, attribute: str) -> list[dict[str, Any]]:
    """Cost, bytes and objects grouped by one attribute of the usage lines, biggest first."""
    groups: dict[str, dict[str, Any]] = {}
    for priced in est.lines:
        key = str(getattr(priced.usage, attribute))
        g = groups.setdefault(
            key, {"key": key, "cost": Decimal(0), "bytes": 0, "objects": 0, "unpriced": 0}
        )
        g["bytes"] += priced.usage.billed_bytes
        g["objects"] += priced.usage.object_count or 0
        if priced.monthly_cost is None:
            g["unpriced"] += 1
        else:
            g["cost"] += priced.monthly_cost
    return sorted(groups.values(), key=lambda g: (-g["cost"], -g["bytes"], g["key"]))
