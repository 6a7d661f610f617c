"""Cost pages: the tenant's estimate, trend and waste; platform chargeback; CSV exports.

Pages read rows only (BucketUsage, CostRollup): a constant number of queries whatever the number
of buckets. Sizing and rollups run in Celery.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

import audit
from accounts.access import get_for_user, tenant_required
from accounts.models import AwsAccount, Role, Tenant

from .chart import stacked_svg
from .estimate import Estimate, money_str
from .models import BucketUsage, CostRollup
from .prices import load_table
from .queries import breakdown, estimate_rows, latest_usage
from .waste import lifecycle_editor_url, waste_items

TREND_DAYS = (30, 90, 365)
TOP_BUCKETS = 10


def _trend_days(request: HttpRequest) -> int:
    try:
        wanted = int(request.GET.get("days", "30"))
    except ValueError:
        return 30
    return wanted if wanted in TREND_DAYS else 30


def trend(
    rollups: QuerySet[CostRollup], days: int, today: date
) -> tuple[list[date], dict[str, dict[date, Decimal]]]:
    """Monthly-cost series per storage class over the last `days` days (one query)."""
    start = today - timedelta(days=days - 1)
    rows = (
        rollups.filter(day__gte=start, day__lte=today, monthly_cost_usd__isnull=False)
        .values("day", "storage_class")
        .annotate(cost=Sum("monthly_cost_usd"))
        .order_by()
    )
    series: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for r in rows:
        series[r["storage_class"]][r["day"]] = r["cost"]
    return [start + timedelta(days=i) for i in range(days)], dict(series)


def _tenant_estimate(tenant: Tenant) -> tuple[Estimate, list[BucketUsage]]:
    rows = latest_usage(BucketUsage.objects.for_tenant(tenant).filter(bucket__gone_at__isnull=True))
    return estimate_rows(rows)


@tenant_required(Role.VIEWER)
def tenant_cost(request: HttpRequest, *, tenant: Tenant, role: str) -> HttpResponse:
    table = load_table()
    est, rows = _tenant_estimate(tenant)
    days = _trend_days(request)
    today = timezone.now().date()
    day_list, series = trend(CostRollup.objects.for_tenant(tenant), days, today)
    waste = waste_items(est, rows, table)
    for item in waste:
        item.editor_url = lifecycle_editor_url(item.bucket_id, item.rule)
    buckets = breakdown(est, "bucket")
    measured = [r.day for r in rows]
    accounts = list(AwsAccount.objects.for_tenant(tenant).order_by("name"))
    return render(
        request,
        "cost/tenant.html",
        {
            "tenant": tenant,
            "role": role,
            "table": table,
            "estimate": est,
            "by_account": breakdown(est, "account"),
            "by_region": breakdown(est, "region"),
            "by_class": breakdown(est, "storage_class"),
            "top_buckets": buckets[:TOP_BUCKETS],
            "bucket_count": len(buckets),
            "chart": stacked_svg(day_list, series, f"Monthly cost by storage class, {days} days"),
            "days": days,
            "trend_choices": TREND_DAYS,
            "waste": waste,
            "waste_saving": sum((w.monthly_saving or Decimal(0) for w in waste), Decimal(0)),
            "oldest_measure": min(measured, default=None),
            "newest_measure": max(measured, default=None),
            "accounts": accounts,
            "may_measure": role in (Role.ADMIN, Role.OPERATOR),
        },
    )


def _csv_response(filename: str) -> tuple[HttpResponse, Any]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response, csv.writer(response)


ESTIMATE_COLUMNS = [
    "tenant",
    "account",
    "bucket",
    "region",
    "storage_class",
    "bytes",
    "billed_bytes",
    "objects",
    "monthly_cost_usd",
    "price_verified",
    "note",
    "price_table_date",
]


def write_estimate_csv(writer: Any, est: Estimate) -> None:
    writer.writerow(ESTIMATE_COLUMNS)
    for p in est.lines:
        u = p.usage
        writer.writerow(
            [
                u.tenant,
                u.account,
                u.bucket,
                u.region,
                u.storage_class,
                u.bytes,
                u.billed_bytes,
                "" if u.object_count is None else u.object_count,
                money_str(p.monthly_cost) or "",
                "yes" if p.verified else "no",
                p.note,
                est.table_date,
            ]
        )


@tenant_required(Role.VIEWER)
def tenant_cost_csv(request: HttpRequest, *, tenant: Tenant, role: str) -> HttpResponse:
    est, _ = _tenant_estimate(tenant)
    response, writer = _csv_response(f"cost-{tenant.slug}-{timezone.now().date()}.csv")
    write_estimate_csv(writer, est)
    return response


@tenant_required(Role.VIEWER)
def tenant_trend_csv(request: HttpRequest, *, tenant: Tenant, role: str) -> HttpResponse:
    days = _trend_days(request)
    start = timezone.now().date() - timedelta(days=days - 1)
    response, writer = _csv_response(f"cost-trend-{tenant.slug}-{days}d.csv")
    writer.writerow(
        [
            "day",
            "account",
            "bucket",
            "region",
            "storage_class",
            "billed_bytes",
            "monthly_cost_usd",
            "daily_cost_usd",
            "price_verified",
        ]
    )
    rows = (
        CostRollup.objects.for_tenant(tenant)
        .filter(day__gte=start)
        .select_related("account", "bucket")
        .order_by("day", "account__name", "bucket__name", "storage_class")
    )
    for r in rows:
        writer.writerow(
            [
                r.day,
                r.account.name,
                r.bucket.name,
                r.region,
                r.storage_class,
                r.bytes,
                money_str(r.monthly_cost_usd) or "",
                money_str(r.daily_cost_usd) or "",
                "yes" if r.price_verified else "no",
            ]
        )
    return response


@require_POST
@login_required
def request_measure(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for exact figures: list every bucket of the account (in a worker, resumable)."""
    account = get_for_user(request, AwsAccount, pk, role=Role.OPERATOR)
    from .tasks import size_account

    with transaction.atomic():
        audit.record(
            request.user,
            account.tenant,
            "cost.sizing.request",
            account,
            after={"source": "listing"},
        )
        transaction.on_commit(lambda: size_account.delay(account.pk, "listing"))
    messages.info(request, f"Listing every bucket of {account.name}; figures update when it ends.")
    return redirect("cost:tenant")


def _platform_rows(request: HttpRequest) -> tuple[Estimate, list[dict[str, Any]]]:
    # for_user: every tenant for the platform superusers who alone reach these pages
    usage = BucketUsage.objects.for_user(request.user).filter(bucket__gone_at__isnull=True)
    rows = latest_usage(usage)
    est, _ = estimate_rows(rows)
    return est, breakdown(est, "tenant")


@login_required
def platform_cost(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        raise PermissionDenied("Only platform staff see costs across tenants.")
    est, tenants = _platform_rows(request)
    return render(
        request,
        "cost/platform.html",
        {
            "estimate": est,
            "tenants": tenants,
            "table": load_table(),
            "by_account": breakdown(est, "account_label"),
        },
    )


@login_required
def platform_cost_csv(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        raise PermissionDenied("Only platform staff see costs across tenants.")
    est, tenants = _platform_rows(request)
    response, writer = _csv_response(f"chargeback-{timezone.now().date()}.csv")
    writer.writerow(
        [
            "tenant",
            "billed_bytes",
            "objects",
            "monthly_cost_usd",
            "unpriced_lines",
            "price_table_date",
        ]
    )
    for t in tenants:
        writer.writerow(
            [
                t["key"],
                t["bytes"],
                t["objects"],
                money_str(t["cost"]),
                t["unpriced"],
                est.table_date,
            ]
        )
    return response
