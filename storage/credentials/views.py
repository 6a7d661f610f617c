"""Credentials pages: list + issue form -> dry run -> create -> the one-time secret page.

The secret is rendered once, in the response to the POST that created it (``no-store``), and is
never put in the session, a redirect, a message or a later page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.access import get_for_user, tenant_required
from accounts.models import Role, Tenant

from . import formats, lifecycle
from .forms import IssueForm, RevokeForm, RotateForm, may_issue
from .issuing import CredentialError, Secret, issue, plan_issue, planned_name
from .models import CredentialSettings, IssuedCredential, Kind
from .policies import PolicyError, pretty_json

LIST_LIMIT = 200


def _visible(request: HttpRequest, tenant: Tenant, role: str) -> list[IssuedCredential]:
    rows = IssuedCredential.objects.for_tenant(tenant).select_related("account", "tenant")
    if role not in (Role.ADMIN, Role.OPERATOR):
        rows = rows.filter(issuer=request.user)
    reminder_days = CredentialSettings.for_tenant(tenant).reminder_days
    shown = list(rows[:LIST_LIMIT])
    for credential in shown:
        credential.list_state = credential.state_at(reminder_days)
    return shown


def _own_buckets(tenant: Tenant) -> list[str]:
    from storage.models import Bucket

    names = Bucket.objects.for_tenant(tenant).filter(gone_at__isnull=True)
    return sorted(set(names.values_list("name", flat=True)))


def may_manage(request: HttpRequest, role: str | None, credential: IssuedCredential) -> bool:
    return role == Role.ADMIN or (
        role is not None and role != Role.VIEWER and credential.issuer_id == request.user.pk
    )


@tenant_required(Role.MEMBER)
def credential_list(request: HttpRequest, *, tenant: Tenant, role: str) -> HttpResponse:
    allowed = may_issue(role, tenant)
    form = IssueForm(tenant=tenant, user=request.user, role=role) if allowed else None
    return render(
        request,
        "credentials/list.html",
        {
            "tenant": tenant,
            "role": role,
            "credentials": _visible(request, tenant, role),
            "form": form,
            "own_buckets": _own_buckets(tenant) if form is not None and role != Role.MEMBER else [],
        },
    )


@tenant_required(Role.MEMBER)
@require_POST
@never_cache
def issue_view(request: HttpRequest, *, tenant: Tenant, role: str) -> HttpResponse:
    """step=plan: the dry run; step=create: create and show the secret once."""
    if not may_issue(role, tenant):
        raise PermissionDenied("Your role may not issue credentials in this tenant.")
    form = IssueForm(request.POST, tenant=tenant, user=request.user, role=role)
    context: dict[str, Any] = {"tenant": tenant, "role": role, "form": form}
    if not form.is_valid():
        return render(request, "credentials/list.html", context, status=400)
    try:
        plan = plan_issue(form.to_request())
    except (PolicyError, CredentialError) as exc:
        problems = exc.problems if isinstance(exc, PolicyError) else [str(exc)]
        context["problems"] = problems
        return render(request, "credentials/list.html", context, status=400)
    if request.POST.get("step") != "create":
        context.update(
            planned_name=planned_name(plan),
            plan=plan,
            policy_json=pretty_json(plan.policy),
            requests=[{**r, "params_json": pretty_json(r["params"])} for r in plan.requests],
        )
        return render(request, "credentials/plan.html", context)
    try:
        credential, secret = issue(plan)
    except CredentialError as exc:
        context["problems"] = [str(exc)]
        return render(request, "credentials/list.html", context, status=502)
    return _secret_page(request, tenant, credential, secret, notes=plan.notes)


def _secret_page(
    request: HttpRequest,
    tenant: Tenant,
    credential: IssuedCredential,
    secret: Secret,
    *,
    notes: list[str],
    status: int = 201,
) -> HttpResponse:
    profile = f"s3portal-{tenant.slug}-{credential.pk}"
    rendered = {fmt: formats.render(secret, fmt, profile=profile) for fmt in formats.FORMATS}
    response = render(
        request,
        "credentials/secret.html",
        {
            "tenant": tenant,
            "credential": credential,
            "secret": secret,
            "rendered": rendered,
            "profile": profile,
            "notes": notes,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


@tenant_required(Role.MEMBER)
def credential_detail(request: HttpRequest, pk: int, *, tenant: Tenant, role: str) -> HttpResponse:
    credential = get_for_user(request, IssuedCredential, pk, role=Role.MEMBER)
    if role not in (Role.ADMIN, Role.OPERATOR) and credential.issuer_id != request.user.pk:
        raise PermissionDenied("Members see only the credentials they issued.")
    return render(
        request,
        "credentials/detail.html",
        {
            "tenant": tenant,
            "credential": credential,
            "policy_json": pretty_json(credential.policy),
            "rotations": credential.rotations.all(),
            "may_manage": may_manage(request, role, credential),
            "rotate_form": RotateForm(),
            "revoke_form": RevokeForm(),
        },
    )


def _managed(request: HttpRequest, pk: int) -> IssuedCredential:
    credential = get_for_user(request, IssuedCredential, pk, role=Role.MEMBER)
    from accounts.access import user_role

    if not may_manage(request, user_role(request.user, credential.tenant_id), credential):
        raise PermissionDenied("Only tenant admins and the issuer may change this credential.")
    return credential


@require_POST
@never_cache
@tenant_required(Role.MEMBER)
def rotate_view(request: HttpRequest, pk: int, *, tenant: Tenant, role: str) -> HttpResponse:
    credential = _managed(request, pk)
    form = RotateForm(request.POST)
    if not form.is_valid() or credential.kind != Kind.PERMANENT:
        messages.error(request, "Give a grace period of 0 to 90 days (permanent credentials).")
        return redirect("credentials:detail", pk=credential.pk)
    grace = timedelta(days=form.cleaned_data["grace_days"])
    try:
        rotation, secret = lifecycle.rotate(credential, actor=request.user, grace=grace)
    except CredentialError as exc:
        messages.error(request, str(exc))
        return redirect("credentials:detail", pk=credential.pk)
    if grace == timedelta(0):
        from .tasks import finish_rotation

        transaction.on_commit(lambda: finish_rotation.delay(rotation.pk))
    note = (
        f"The old key {rotation.old_access_key_id} stays active until "
        f"{rotation.grace_until:%Y-%m-%d %H:%M} UTC."
    )
    return _secret_page(request, credential.tenant, credential, secret, notes=[note], status=200)


@require_POST
@tenant_required(Role.MEMBER)
def revoke_view(request: HttpRequest, pk: int, *, tenant: Tenant, role: str) -> HttpResponse:
    credential = _managed(request, pk)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the credential is revoked.")
        return redirect("credentials:detail", pk=credential.pk)
    try:
        done = lifecycle.revoke(credential, actor=request.user, reason=form.cleaned_data["reason"])
    except CredentialError as exc:
        messages.error(request, str(exc))
        return redirect("credentials:detail", pk=credential.pk)
    messages.success(request, f"Credential #{credential.pk} revoked: {'; '.join(done) or 'done'}.")
    return redirect("credentials:list")
