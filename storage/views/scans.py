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


@tenant_required(Role.VIEWER)
def scan_list(request: HttpRequest, *, tenant: Tenant, role: str) -> HttpResponse:
    runs = ScanRun.objects.for_tenant(tenant).select_related("account")[:50]
    return render(
        request,
        "storage/scan_list.html",
        {
            "tenant": tenant,
            "runs": runs,
            "accounts": AwsAccount.objects.for_tenant(tenant).order_by("name"),
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
    run, created = enqueue_account_scan(account, trigger=ScanRun.Trigger.MANUAL, actor=request.user)
    if created:
        messages.success(request, f"Scan of {account.name} queued.")
    else:
        messages.info(request, f"A scan of {account.name} is already {run.status}.")
    return redirect("storage:scan_detail", pk=run.pk)


@login_required
def scan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_for_user(request, ScanRun, pk)
    return render(
        request,
        "storage/scan_detail.html",
        {
            "run": run,
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
