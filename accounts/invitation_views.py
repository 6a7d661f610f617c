"""Members and invitations on the portal's pages.

Tenant admins see the tenant's members and pending invitations, invite by e-mail and revoke.
The invitee accepts logged in, or creates an account from the link.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import invitations
from accounts.access import SESSION_TENANT_KEY, get_for_user, tenant_required
from accounts.forms import InvitationForm, SignUpForm
from accounts.models import Invitation, Membership, Role, Tenant

INVITED_MESSAGE = (
    "Invitation sent to {email}. The link works once and expires in {days} days; "
    "the person joins when they accept it."
)


def invited_message(email: str) -> str:
    """One answer for every address, known to the platform or not (no enumeration)."""
    from django.conf import settings

    return INVITED_MESSAGE.format(email=email, days=settings.INVITATION_TTL_DAYS)


@tenant_required(Role.ADMIN)
def members(request: HttpRequest, *, tenant: Tenant, role: str) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        with transaction.atomic():
            invitations.create_invitation(
                request.user,
                tenant=tenant,
                email=email,
                role=form.cleaned_data["role"],
                accept_url_base=request.build_absolute_uri("/").rstrip("/"),
            )
        messages.success(request, invited_message(email))
        return redirect("portal:members")
    return render(
        request,
        "portal/members.html",
        {
            "tenant": tenant,
            "form": form,
            "memberships": Membership.objects.filter(tenant=tenant).select_related("user"),
            "pending": Invitation.objects.pending().filter(tenant=tenant).order_by("email"),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_for_user(request, Invitation, pk, role=Role.ADMIN)
    if invitations.revoke_invitation(request.user, invitation):
        messages.success(request, f"Invitation for {invitation.email} revoked.")
    else:
        messages.info(request, f"The invitation for {invitation.email} was no longer pending.")
    request.session[SESSION_TENANT_KEY] = invitation.tenant_id
    return redirect("portal:members")


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "invitations/invalid.html", status=404)


def accept(request: HttpRequest, token: str) -> HttpResponse:
    """GET: what the invitation is for. POST (logged in): join. Anonymous: log in or sign up."""
    invitation = invitations.usable_invitation(token)
    if invitation is None:
        return _invalid(request)
    here = reverse("portal:invitation_accept", args=[token])
    signup = SignUpForm(email=invitation.email)
    if request.method == "POST":
        if request.user.is_authenticated:
            return _accept_as(request, invitation, request.user)
        signup = SignUpForm(request.POST, email=invitation.email)
        if signup.is_valid():
            try:
                with transaction.atomic():
                    result = invitations.accept_by_signing_up(
                        invitation,
                        username=signup.cleaned_data["username"],
                        password=signup.cleaned_data["password1"],
                    )
            except invitations.InvitationNotUsable:
                return _invalid(request)
            auth_login(request, result.membership.user, backend=_MODEL_BACKEND)
            return _joined(request, result)
    return render(
        request,
        "invitations/accept.html",
        {
            "invitation": invitation,
            "signup": signup,
            "login_url": f"{reverse('login')}?next={here}",
        },
        status=400 if signup.errors else 200,
    )


_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _accept_as(request: HttpRequest, invitation: Invitation, user: object) -> HttpResponse:
    try:
        with transaction.atomic():
            result = invitations.accept_invitation(user, invitation)
    except invitations.InvitationNotUsable:
        return _invalid(request)
    return _joined(request, result)


def _joined(request: HttpRequest, result: invitations.Acceptance) -> HttpResponse:
    tenant = result.invitation.tenant
    request.session[SESSION_TENANT_KEY] = tenant.pk
    if result.already_member:
        messages.info(request, f"You were already a member of {tenant.name}; nothing changed.")
    else:
        messages.success(
            request, f"Welcome to {tenant.name} ({result.membership.get_role_display()})."
        )
    return redirect("portal:dashboard")
