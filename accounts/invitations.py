"""Invitations: the only way a tenant admin brings a person into a tenant.

A tenant admin invites an e-mail address with a role. The person gets a single-use link that
expires after INVITATION_TTL_DAYS; they accept it logged in (an existing user) or by creating
an account. Nobody joins a tenant without accepting. The invite never looks the address up, so
its answer (and its timing) is the same whether or not a user with that address exists.

Only the SHA-256 of the token is stored; the token itself travels only in the e-mail. Every step
is audited (accounts.invitation.created / accepted / expired / revoked) in its transaction.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

import audit
from accounts import services
from accounts.models import Invitation, Membership, Tenant

logger = logging.getLogger(__name__)

TOKEN_BYTES = 32  # 256 bits: a stored hash without salt is enough for a random token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str  # only for the e-mail; never stored, logged or audited


@transaction.atomic
def create_invitation(
    actor: Any, *, tenant: Tenant, email: str, role: str, accept_url_base: str = ""
) -> NewInvitation:
    """Create an invitation and mail its link after commit.

    A pending invitation to the same address for the same tenant is revoked (replaced), so at
    most one link per address and tenant works at a time.
    """
    email = email.strip()
    for old in Invitation.objects.pending().filter(tenant=tenant, email__iexact=email):
        revoke_invitation(actor, old, reason="replaced by a new invitation")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = Invitation(
        tenant=tenant,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=actor if getattr(actor, "is_authenticated", False) else None,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    audit.record(
        actor, tenant, "accounts.invitation.created", invitation, after=invitation.audit_dict()
    )
    link = accept_url_base + reverse("portal:invitation_accept", args=[token])
    transaction.on_commit(lambda: _send_invitation_mail(invitation, link))
    return NewInvitation(invitation, token)


def _send_invitation_mail(invitation: Invitation, link: str) -> None:
    context = {
        "tenant": invitation.tenant,
        "role": invitation.get_role_display(),
        "link": link,
        "expires_at": invitation.expires_at,
        "invited_by": invitation.invited_by.get_username() if invitation.invited_by else "",
    }
    try:
        send_mail(
            f"You are invited to {invitation.tenant.name} on s3portal",
            render_to_string("invitations/email.txt", context),
            None,
            [invitation.email],
        )
    except Exception:  # the invitation stands; the admin sees it pending and may re-send
        logger.exception("could not send the invitation mail for invitation %s", invitation.pk)


@transaction.atomic
def revoke_invitation(actor: Any, invitation: Invitation, *, reason: str = "") -> bool:
    """Revoke a pending invitation; False if it was no longer pending."""
    now = timezone.now()
    claimed = (
        Invitation.objects.pending().filter(pk=invitation.pk).update(revoked_at=now)
    )  # conditional UPDATE: a concurrent accept and revoke cannot both win
    if not claimed:
        return False
    invitation.revoked_at = now
    after = {**invitation.audit_dict(), **({"reason": reason} if reason else {})}
    audit.record(actor, invitation.tenant, "accounts.invitation.revoked", invitation, after=after)
    return True


def _mark_expired(invitation: Invitation, now: Any) -> bool:
    claimed = (
        Invitation.objects.pending()
        .filter(pk=invitation.pk, expires_at__lte=now)
        .update(expired_at=now)
    )
    if not claimed:
        return False
    invitation.expired_at = now
    audit.record(
        None,
        invitation.tenant,
        "accounts.invitation.expired",
        invitation,
        after=invitation.audit_dict(),
    )
    return True


def expire_due_invitations(limit: int = 1000) -> int:
    """Mark (and audit) pending invitations past their expiry; the periodic task calls this."""
    now = timezone.now()
    count = 0
    due = Invitation.objects.pending().filter(expires_at__lte=now).select_related("tenant")
    for invitation in due.order_by("id")[:limit]:
        with transaction.atomic():
            count += _mark_expired(invitation, now)
    return count


def usable_invitation(token: str) -> Invitation | None:
    """The pending, unexpired invitation for token, or None (an expired one is marked now)."""
    if not token or len(token) > 200:
        return None
    invitation = (
        Invitation.objects.select_related("tenant").filter(token_hash=hash_token(token)).first()
    )
    if invitation is None or invitation.status in {"accepted", "revoked"}:
        return None
    if invitation.expired_at or invitation.expires_at <= timezone.now():
        with transaction.atomic():
            _mark_expired(invitation, timezone.now())
        return None
    return invitation


class InvitationNotUsable(Exception):
    """The link was used, revoked or has expired in the meantime."""


@dataclass(frozen=True)
class Acceptance:
    invitation: Invitation
    membership: Membership
    already_member: bool


@transaction.atomic
def accept_invitation(user: Any, invitation: Invitation) -> Acceptance:
    """Join invitation's tenant as user. Single use: a conditional UPDATE claims the link."""
    now = timezone.now()
    claimed = (
        Invitation.objects.pending()
        .filter(pk=invitation.pk, expires_at__gt=now)
        .update(accepted_at=now, accepted_by=user)
    )
    if not claimed:
        raise InvitationNotUsable
    invitation.accepted_at, invitation.accepted_by = now, user
    existing = Membership.objects.filter(user=user, tenant=invitation.tenant).first()
    audit.record(
        user,
        invitation.tenant,
        "accounts.invitation.accepted",
        invitation,
        after={
            **invitation.audit_dict(),
            "user": user.get_username(),
            "already_member": existing is not None,
        },
    )
    if existing is not None:
        # Accepting never changes a role the tenant already gave this person.
        return Acceptance(invitation, existing, already_member=True)
    membership = services.add_member(
        user, tenant=invitation.tenant, user=user, role=invitation.role
    )
    return Acceptance(invitation, membership, already_member=False)


@transaction.atomic
def accept_by_signing_up(invitation: Invitation, *, username: str, password: str) -> Acceptance:
    """Create the account (e-mail from the invitation) and accept in one transaction."""
    user = services.create_user(None, username=username, email=invitation.email, password=password)
    return accept_invitation(user, invitation)


def username_taken(username: str) -> bool:
    return get_user_model().objects.filter(username__iexact=username).exists()
