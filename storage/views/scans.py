"""Scan runs: start one (operators), watch its progress live, list past runs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import get_for_user, role_at_least, tenant_required, user_role
from accounts.models import AwsAccount, Role, Tenant
from accounts.users import AuthenticatedRequest
from storage.models import Bucket, ScanRun
from storage.scan.runner import rescan_bucket
from storage.tasks import enqueue_account_scan

SCAN_DETAIL_BUCKETS = 500  # buckets listed on a scan run's page


@tenant_required(Role.VIEWER)
def scan_list(request: HttpRequest, *, tenant: Tenant, role: str) -> HttpResponse:
    runs = ScanRun.objects.for_tenant(tenant).select_related("account")[:50]
    accounts = AwsAccount.objects.for_tenant(tenant).defer("secret_access_key").order_by("name")
    return render(
        request,
        "storage/scan_list.html",
        {
            "tenant": tenant,
            "runs": runs,
            # Only verified accounts can be scanned; the others are verified first.
            "accounts": [a for a in accounts if a.is_verified],
            "may_scan": role_at_least(role, Role.OPERATOR),
        },
    )


@login_required
@require_POST
def start_scan(request: AuthenticatedRequest) -> HttpResponse:
    account_id = request.POST.get("account", "")
    account = get_for_user(
        request, AwsAccount, int(account_id) if account_id.isdigit() else 0, role=Role.OPERATOR
    )
    if not account.is_verified:
        state = "failed verification" if account.last_error else "is not verified yet"
        messages.error(
            request,
            f"{account.name} {state}, so it cannot be scanned: a tenant admin verifies it first.",
        )
        return redirect("storage:bucket_list")
    run, created = enqueue_account_scan(account, trigger=ScanRun.Trigger.MANUAL, actor=request.user)
    if created:
        messages.success(request, f"Scan of {account.name} queued.")
    else:
        messages.info(request, f"A scan of {account.name} is already {run.status}.")
    return redirect("storage:scan_detail", pk=run.pk)


@login_required
def scan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_for_user(request, ScanRun, pk)
    opened: dict[int, list[str]] = {}
    for bucket_id, check_name in run.opened_findings.values_list("bucket_id", "check_name"):
        opened.setdefault(bucket_id, []).append(check_name)
    found = [
        {
            "snapshot": snap,
            "failing": sorted(n for n, c in snap.checks.items() if c.get("status") == "fail"),
            "errors": sorted(n for n, c in snap.checks.items() if c.get("status") == "error"),
            "opened": sorted(opened.get(snap.bucket_id, [])),
        }
        for snap in run.snapshots.select_related("bucket")
        .defer("data", "verdict")
        .order_by("bucket__name")[:SCAN_DETAIL_BUCKETS]
    ]
    return render(
        request,
        "storage/scan_detail.html",
        {
            "run": run,
            "found": found,
            "progress": run.progress_dict(),
            "may_scan": role_at_least(
                user_role(request.user, run.account.tenant_id), Role.OPERATOR
            ),
        },
    )


@login_required
def scan_status(request: HttpRequest, pk: int) -> JsonResponse:
    run = get_for_user(request, ScanRun, pk)
    return JsonResponse(run.progress_dict())


@login_required
@require_POST
def rescan(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    bucket = get_for_user(request, Bucket, pk, role=Role.OPERATOR)
    run = rescan_bucket(bucket, actor=request.user, trigger=ScanRun.Trigger.MANUAL)
    if run.status == ScanRun.Status.SUCCEEDED:
        messages.success(request, f"{bucket.name} rescanned.")
    else:
        messages.error(request, f"Rescan of {bucket.name} failed: {run.message}")
    return redirect("storage:bucket_detail", pk=bucket.pk)
