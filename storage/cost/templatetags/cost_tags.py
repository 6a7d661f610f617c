"""Cost snippets for other apps' templates: dashboard summary, bucket card, bucket list column."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from storage.cost.models import BucketUsage, CostRollup

register = template.Library()
CENT = Decimal("0.01")


@register.filter
def usd(value: Decimal | None) -> str:
    """Money rounded to the cent only when shown."""
    if value is None:
        return "no price"
    return f"${Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):,}"


@register.filter
def gib(value: int | None) -> str:
    if value is None:
        return "?"
    return f"{Decimal(value) / Decimal(2**30):,.3f} GB"


@register.inclusion_tag("cost/_dashboard_summary.html")
def cost_summary(tenant: Any) -> dict[str, Any]:
    """The tenant's monthly estimate (newest rollup) and its change over 30 days: 2 queries."""
    rollups = CostRollup.objects.for_tenant(tenant).filter(monthly_cost_usd__isnull=False)
    newest = rollups.order_by("-day").values_list("day", flat=True).first()
    if newest is None:
        return {"tenant": tenant, "newest": None}
    then = newest - timedelta(days=30)
    totals = dict(
        rollups.filter(day__in=[newest, then])
        .values("day")
        .annotate(total=Sum("monthly_cost_usd"))
        .values_list("day", "total")
        .order_by()
    )
    now_total, then_total = totals.get(newest, Decimal(0)), totals.get(then)
    change = None if then_total is None else now_total - then_total
    percent = None if not then_total or change is None else change / then_total * 100
    return {
        "tenant": tenant,
        "newest": newest,
        "total": now_total,
        "change": change,
        "percent": percent,
        "stale": newest < timezone.now().date() - timedelta(days=2),
    }


def _summaries(rows: Iterable[BucketUsage]) -> dict[int, dict[str, Any]]:
    result: dict[int, dict[str, Any]] = {}
    for r in rows:
        s = result.setdefault(
            r.bucket_id,
            {
                "bytes": 0,
                "objects": 0,
                "objects_known": True,
                "classes": [],
                "day": r.day,
                "source": r.get_source_display(),
                "bucket_objects": r.bucket_objects,
            },
        )
        stored = r.bytes + r.noncurrent_bytes + r.incomplete_upload_bytes
        s["bytes"] += stored
        if r.object_count is None:
            s["objects_known"] = False
        else:
            s["objects"] += r.object_count
        s["classes"].append(
            {"name": r.storage_class, "bytes": stored, "objects": r.object_count, "row": r}
        )
    for s in result.values():
        if not s["objects_known"] and s["bucket_objects"] is not None:
            s["objects"], s["objects_known"] = s["bucket_objects"], True
    return result


@register.simple_tag
def usage_for_buckets(buckets: Iterable[Any]) -> dict[int, dict[str, Any]]:
    """Latest size of each bucket on a page: one query, whatever the number of buckets."""
    from storage.cost.queries import latest_usage

    ids = [b.pk for b in buckets]
    return _summaries(latest_usage(BucketUsage.objects.filter(bucket_id__in=ids)))


@register.simple_tag
def bucket_size(usage: dict[int, dict[str, Any]], bucket_id: int) -> SafeString:
    """Size · objects, and the storage classes below it (for the bucket list)."""
    s = usage.get(bucket_id)
    if s is None:
        return format_html('<span class="muted">{}</span>', "not measured")
    objects = f"{s['objects']:,} objects" if s["objects_known"] else "? objects"
    classes = " · ".join(
        f"{c['name']} {filesizeformat(c['bytes'])}"
        for c in sorted(s["classes"], key=lambda c: -c["bytes"])
    )
    return format_html(
        '{} · {}<br><small class="muted bucket-classes">{}</small>',
        filesizeformat(s["bytes"]),
        objects,
        classes,
    )


@register.inclusion_tag("cost/_bucket_usage.html")
def bucket_usage_card(bucket: Any) -> dict[str, Any]:
    from storage.cost.queries import latest_usage

    summary = _summaries(latest_usage(BucketUsage.objects.filter(bucket_id=bucket.pk)))
    return {"bucket": bucket, "usage": summary.get(bucket.pk)}
