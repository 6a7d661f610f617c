"""Portal pages: the tenant dashboard, the tenant switcher, and account verification."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.access import (
    SESSION_TENANT_KEY,
    get_for_user,
    role_at_least,
    tenant_required,
    tenants_for,
)
from accounts.models import AwsAccount, Role, Tenant
from accounts.scoping import scope_for_tenant
from accounts.users import AuthenticatedRequest
from accounts.verification import verify_account
from audit.models import AuditEvent

DASHBOARD_EVENTS = 15


@tenant_required(Role.VIEWER)
def dashboard(request: HttpRequest, *, tenant: Tenant, role: str) -> HttpResponse:
    accounts = AwsAccount.objects.for_tenant(tenant).order_by("name")
    events = scope_for_tenant(AuditEvent.objects.all(), tenant)
    if not role_at_least(role, Role.OPERATOR):
        # Members and viewers see their own actions only; the full trail is for admins/operators.
        events = events.filter(actor_id=request.user.pk)
    return render(
        request,
        "portal/dashboard.html",
        {
            "tenant": tenant,
            "role": role,
            "accounts": accounts,
            "events": events.order_by("-id")[:DASHBOARD_EVENTS],
            "may_verify": role_at_least(role, Role.ADMIN),
        },
    )


@login_required
@require_POST
def switch_tenant(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("tenant", "")
    tenant = tenants_for(request.user).filter(slug=slug).first()
    if tenant is None:
        raise Http404("No such tenant.")
    request.session[SESSION_TENANT_KEY] = tenant.pk
    messages.info(request, f"Switched to {tenant.name}.")
    return _back(request, "portal:dashboard")


@login_required
@require_POST
def verify_aws_account_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    account = get_for_user(request, AwsAccount, pk, role=Role.ADMIN)
    with transaction.atomic():
        result = verify_account(account, actor=request.user)
    if result.ok:
        messages.success(request, f"{account.name} verified: {result.arn}")
    else:
        messages.error(request, result.error)
    for warning in result.warnings:
        messages.warning(request, warning)
    request.session[SESSION_TENANT_KEY] = account.tenant_id
    return _back(request, "portal:dashboard")


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """To the form's `next` page when it is one of ours (the admin, the bucket list), else
    `default`."""
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect(default)
