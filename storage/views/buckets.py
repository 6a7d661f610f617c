"""Bucket pages: the tenant's bucket list with posture filters, and one bucket in detail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import get_for_user, role_at_least, tenant_required, user_role
from accounts.duplicates import shadowed_account_ids
from accounts.models import AwsAccount, Role, Tenant
from storage.models import SEVERITY_RANK, Bucket, BucketSnapshot, Finding, ScanRun, Severity
from storage.remediation import FIXES
from storage.remediation.forms import statement_value
from storage.scan.checks import CHECK_NAMES, CHECKS, label
from storage.views.rows import bucket_rows

PER_PAGE = 50


def filter_buckets(
    qs: QuerySet[Bucket], params: Any, accounts: QuerySet[AwsAccount]
) -> QuerySet[Bucket]:
    """Apply the list filters (public, failing check, account, region, gone) to a queryset."""
    public = params.get("public", "")
    if public == "yes":
        qs = qs.filter(is_public=True)
    elif public == "no":
        qs = qs.filter(is_public=False)
    elif public == "unknown":
        qs = qs.filter(is_public__isnull=True)
    check = params.get("check", "")
    if check == "any":
        qs = qs.filter(fail_count__gt=0)
    elif check == "errors":
        qs = qs.filter(error_count__gt=0)
    elif check in CHECKS:
        qs = qs.filter(**{f"checks__{check}__status": "fail"})
    severity = params.get("severity", "")
    if severity in Severity.values:
        qs = qs.filter(worst_severity=severity)
    account = params.get("account", "")
    if account.isdigit():
        qs = qs.filter(account__in=accounts.filter(pk=int(account)))
    region = params.get("region", "")
    if region:
        qs = qs.filter(region=region)
    if params.get("gone") != "1":
        qs = qs.filter(gone_at__isnull=True)
    search = params.get("q", "").strip()
    if search:
        qs = qs.filter(name__icontains=search)
    return qs


# What a findings row never shows of its bucket.
BUCKET_PAYLOAD = ("bucket__verdict", "bucket__checks", "bucket__public_reasons")
LIST_FIELDS = (
    "name",
    "region",
    "gone_at",
    "is_public",
    "fail_count",
    "error_count",
    "worst_severity",
    "last_scanned_at",
    "account__name",
)


@tenant_required(Role.VIEWER)
def bucket_list(request: HttpRequest, *, tenant: Tenant, role: str) -> HttpResponse:
    # The secret is never needed to list accounts: deferring it saves a decryption per row.
    accounts = AwsAccount.objects.for_tenant(tenant).defer("secret_access_key").order_by("name")
    # An AWS account connected twice shows its buckets once (accounts/duplicates.py).
    base = Bucket.objects.for_tenant(tenant)
    shadowed = shadowed_account_ids(tenant.pk)
    if shadowed:
        base = base.exclude(account_id__in=shadowed)
    # Only what a row shows: no scan JSON, no account secret.
    rows = base.select_related("account").only(*LIST_FIELDS)
    buckets = filter_buckets(rows, request.GET, accounts)
    page = Paginator(buckets.order_by("name", "account__name"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    live = base.filter(gone_at__isnull=True)
    totals = live.aggregate(
        buckets=Count("pk"),
        public=Count("pk", filter=Q(is_public=True)),
        unknown=Count("pk", filter=Q(is_public__isnull=True)),
    )
    active_runs = {
        run.account_id: run
        for run in ScanRun.objects.for_tenant(tenant).filter(
            kind=ScanRun.Kind.ACCOUNT,
            status__in=[ScanRun.Status.QUEUED, ScanRun.Status.RUNNING],
        )
    }
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "storage/bucket_list.html",
        {
            "tenant": tenant,
            "role": role,
            "page": page,
            "rows": bucket_rows(page.object_list),
            "accounts": accounts,
            "account_rows": [(a, active_runs.get(a.pk)) for a in accounts],
            "regions": live.exclude(region="")
            .values_list("region", flat=True)
            .distinct()
            .order_by("region"),
            "check_choices": [(name, label(name)) for name in CHECK_NAMES],
            "severities": Severity.choices,
            "filters": request.GET,
            "querystring": query.urlencode(),
            "totals": totals,
            "may_scan": role_at_least(role, Role.OPERATOR),
            "may_verify": role_at_least(role, Role.ADMIN),
        },
    )


def _checks_in_order(checks: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name in CHECK_NAMES:
        if name in checks:
            rows.append({"name": name, "label": label(name), **checks[name]})
    return rows


def _fix_rows(bucket: Bucket) -> list[dict[str, Any]]:
    failing = set(bucket.failing_checks())
    rows = []
    for fix in FIXES.values():
        rows.append(
            {
                "name": fix.name,
                "label": fix.label,
                "description": fix.description,
                "suggested": fix.fixes_check in failing,
            }
        )
    return rows


def _by_severity(findings: QuerySet[Finding]) -> list[Finding]:
    """Most serious first, then in the order of the checks."""
    order = {name: i for i, name in enumerate(CHECK_NAMES)}
    return sorted(
        findings,
        key=lambda f: (-SEVERITY_RANK.get(f.severity, 0), order.get(f.check_name, 99)),
    )


def _diff(current: BucketSnapshot, previous: BucketSnapshot | None) -> list[dict[str, Any]]:
    """Checks whose status changed from the previous snapshot."""
    if previous is None:
        return []
    changes = []
    for name in CHECK_NAMES:
        now = (current.checks or {}).get(name, {}).get("status")
        before = (previous.checks or {}).get(name, {}).get("status")
        if now != before:
            changes.append({"name": name, "label": label(name), "before": before, "now": now})
    return changes


@login_required
def bucket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    bucket = get_for_user(request, Bucket, pk)
    role = user_role(request.user, bucket.account.tenant_id)
    snapshots = list(bucket.snapshots.defer("data")[:21])
    history = [
        {
            "snapshot": snap,
            "changes": _diff(snap, snapshots[i + 1] if i + 1 < len(snapshots) else None),
        }
        for i, snap in enumerate(snapshots[:20])
    ]
    may_fix = role_at_least(role, Role.OPERATOR)
    verdict = bucket.verdict or {}
    return render(
        request,
        "storage/bucket_detail.html",
        {
            "bucket": bucket,
            "role": role,
            "verdict": verdict,
            "checks": _checks_in_order(bucket.checks or {}),
            "open_findings": _by_severity(bucket.findings.filter(resolved_at__isnull=True)),
            "resolved_findings": bucket.findings.filter(resolved_at__isnull=False).order_by(
                "-resolved_at"
            )[:20],
            "history": history,
            "may_fix": may_fix,
            "fixes": _fix_rows(bucket) if may_fix else [],
            "public_statements": [
                {**s, "value": statement_value(s)} for s in verdict.get("public_statements", [])
            ],
        },
    )


@login_required
def snapshot_detail(request: HttpRequest, pk: int, snapshot_pk: int) -> HttpResponse:
    bucket = get_for_user(request, Bucket, pk)
    snapshot = bucket.snapshots.filter(pk=snapshot_pk).first()
    if snapshot is None:
        raise Http404("No such snapshot.")
    previous = bucket.snapshots.filter(taken_at__lt=snapshot.taken_at).defer("data").first()
    return render(
        request,
        "storage/snapshot_detail.html",
        {
            "bucket": bucket,
            "snapshot": snapshot,
            "previous": previous,
            "changes": _diff(snapshot, previous),
            "checks": _checks_in_order(snapshot.checks or {}),
        },
    )
