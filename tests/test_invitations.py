"""Invitations (issue 7, finding 5): nobody joins a tenant without accepting; no enumeration.

Personas: alice (A admin) invites; oscar/bob/vera (weaker roles) get 403; carol (B admin) never
sees or revokes A's invitations (404); root and the CLI still add members directly.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import invitations
from accounts.models import Invitation, Membership, Role
from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s]+/invitations/accept/([A-Za-z0-9_-]+)/")


def invite(
    client: Client, email: str, role: str = Role.MEMBER, capture: Any = None
) -> tuple[Any, str | None]:
    """POST the portal's invite form; returns the response and the token mailed (if any)."""
    before = len(mail.outbox)
    if capture is not None:
        with capture(execute=True):
            response = client.post(reverse("portal:members"), {"email": email, "role": role})
    else:
        response = client.post(reverse("portal:members"), {"email": email, "role": role})
    sent = mail.outbox[before:]
    token = None
    if sent:
        match = LINK.search(sent[-1].body)
        token = match.group(1) if match else None
    return response, token


def accept_url(token: str) -> str:
    return reverse("portal:invitation_accept", args=[token])


def test_invite_mails_a_link_and_stores_only_the_hash(
    personas: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response, token = invite(
        personas.client_for("alice"), "new@example.org", capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    assert token and len(token) >= 43  # 32 random bytes, URL-safe base64
    invitation = Invitation.objects.get(email="new@example.org")
    assert invitation.token_hash == invitations.hash_token(token)
    assert token not in invitation.token_hash
    assert mail.outbox[-1].to == ["new@example.org"]
    assert "Tenant A" in mail.outbox[-1].subject
    ttl = invitation.expires_at - invitation.created_at
    assert timedelta(days=6, hours=23) < ttl <= timedelta(days=7)
    event = AuditEvent.objects.get(action="accounts.invitation.created")
    assert event.tenant_slug == "tenant-a" and event.actor_name == "alice"
    assert token not in str(event.after) and invitation.token_hash not in str(event.after)
    # Nobody joined yet.
    assert not Membership.objects.filter(tenant=personas.tenant_a, user__email="new@example.org")


def test_invitation_ttl_is_a_setting(personas: Any, settings: Any) -> None:
    settings.INVITATION_TTL_DAYS = 2
    created = invitations.create_invitation(
        personas.alice, tenant=personas.tenant_a, email="x@example.org", role=Role.VIEWER
    )
    ttl = created.invitation.expires_at - timezone.now()
    assert timedelta(days=1, hours=23) < ttl <= timedelta(days=2)


def _messages(response: Any, email: str) -> str:
    body = response.content.decode()
    found = re.search(r'<ul class="messages"[^>]*>(.*?)</ul>', body, re.S)
    return found.group(1).replace(email, "EMAIL") if found else ""


def test_invite_answers_the_same_for_known_and_unknown_addresses(personas: Any) -> None:
    """No enumeration: carol's address (a user of tenant B), bob's (already in A) and an address
    nobody has get the same status, redirect and message (the invite never looks them up)."""
    client = personas.client_for("alice")
    answers = []
    for email in ["carol@example.com", "bob@example.com", "nobody-at-all@example.net"]:
        response = client.post(reverse("portal:members"), {"email": email, "role": "member"})
        page = client.get(response["Location"])
        answers.append((response.status_code, response["Location"], _messages(page, email)))
    assert answers[0][0] == 302
    assert answers[0] == answers[1] == answers[2]
    assert "Invitation sent to EMAIL" in answers[0][2]
    assert Invitation.objects.filter(tenant=personas.tenant_a).count() == 3
    # ... and none of them joined.
    assert not Membership.objects.filter(user=personas.carol, tenant=personas.tenant_a).exists()


def test_admin_invitation_form_answers_the_same_for_any_address(personas: Any) -> None:
    client = personas.client_for("alice")
    add = reverse("admin:accounts_invitation_add")
    answers = []
    for email in ["carol@example.com", "nobody-at-all@example.net"]:
        data = {"tenant": personas.tenant_a.pk, "email": email, "role": "viewer"}
        response = client.post(add, data)
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        messages = re.findall(r'<li class="success">(.*?)</li>', page)
        answers.append([m.replace(email, "EMAIL") for m in messages])
    assert answers[0] == answers[1] and answers[0]
    assert Invitation.objects.filter(tenant=personas.tenant_a).count() == 2
    assert not Membership.objects.filter(user=personas.carol, tenant=personas.tenant_a).exists()


def test_other_tenants_existing_user_joins_only_after_accepting(
    personas: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _, token = invite(
        personas.client_for("alice"),
        "carol@example.com",
        Role.OPERATOR,
        capture=django_capture_on_commit_callbacks,
    )
    assert token
    assert not Membership.objects.filter(user=personas.carol, tenant=personas.tenant_a).exists()
    carol = personas.client_for("carol")
    page = carol.get(accept_url(token))
    assert page.status_code == 200 and "Join Tenant A" in page.content.decode()
    assert not Membership.objects.filter(user=personas.carol, tenant=personas.tenant_a).exists()
    response = carol.post(accept_url(token))
    assert response.status_code == 302
    membership = Membership.objects.get(user=personas.carol, tenant=personas.tenant_a)
    assert membership.role == Role.OPERATOR
    event = AuditEvent.objects.get(action="accounts.invitation.accepted")
    assert event.actor_name == "carol" and event.tenant_slug == "tenant-a"
    assert AuditEvent.objects.filter(action="accounts.membership.create").exists()
    # Reuse refused, for anybody.
    again = personas.client_for("stranger").post(accept_url(token))
    assert again.status_code == 404
    assert "not valid" in again.content.decode()
    assert not Membership.objects.filter(user=personas.stranger).exists()


def test_anonymous_sees_login_or_signup_and_a_new_person_signs_up(personas: Any) -> None:
    created = invitations.create_invitation(
        personas.alice, tenant=personas.tenant_a, email="newbie@example.org", role=Role.VIEWER
    )
    client = Client()
    page = client.get(accept_url(created.token)).content.decode()
    assert "log in to accept" in page and "Create account and join" in page
    # Password rules apply; a taken username is refused.
    weak = client.post(
        accept_url(created.token),
        {"username": "newbie", "password1": "123", "password2": "123"},
    )
    assert weak.status_code == 400
    taken = client.post(
        accept_url(created.token),
        {"username": "bob", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert taken.status_code == 400 and "taken" in taken.content.decode()
    ok = client.post(
        accept_url(created.token),
        {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert ok.status_code == 302
    membership = Membership.objects.get(user__username="newbie")
    assert membership.tenant == personas.tenant_a and membership.role == Role.VIEWER
    assert membership.user.email == "newbie@example.org"
    assert membership.user.check_password(PASSWORD)
    assert client.get(reverse("portal:dashboard")).status_code == 200  # logged in
    assert AuditEvent.objects.filter(action="accounts.invitation.accepted").count() == 1
    assert Client().get(accept_url(created.token)).status_code == 404  # single use


def test_existing_user_logs_in_then_accepts(personas: Any) -> None:
    created = invitations.create_invitation(
        personas.alice, tenant=personas.tenant_a, email="stranger@example.com", role=Role.MEMBER
    )
    client = Client()
    page = client.get(accept_url(created.token)).content.decode()
    login_link = re.search(r'href="([^"]+)" id="login-to-accept"', page).group(1)
    assert login_link == f"{reverse('login')}?next={accept_url(created.token)}"
    response = client.post(
        reverse("login"),
        {"username": "stranger", "password": PASSWORD, "next": accept_url(created.token)},
    )
    assert response["Location"] == accept_url(created.token)
    assert client.post(accept_url(created.token)).status_code == 302
    assert Membership.objects.get(user=personas.stranger).tenant == personas.tenant_a


def test_accepting_when_already_a_member_keeps_the_role(personas: Any) -> None:
    created = invitations.create_invitation(
        personas.alice, tenant=personas.tenant_a, email="v@example.org", role=Role.ADMIN
    )
    response = personas.client_for("vera").post(accept_url(created.token), follow=True)
    assert "already a member" in response.content.decode()
    assert Membership.objects.get(user=personas.vera).role == Role.VIEWER


def test_expired_link_is_refused_and_audited_on_access(personas: Any) -> None:
    created = invitations.create_invitation(
        personas.alice, tenant=personas.tenant_a, email="late@example.org", role=Role.MEMBER
    )
    Invitation.objects.filter(pk=created.invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = personas.client_for("stranger").post(accept_url(created.token))
    assert response.status_code == 404
    assert not Membership.objects.filter(user=personas.stranger).exists()
    created.invitation.refresh_from_db()
    assert created.invitation.status == "expired" and created.invitation.expired_at
    assert AuditEvent.objects.filter(action="accounts.invitation.expired").count() == 1
    personas.client_for("stranger").get(accept_url(created.token))
    assert AuditEvent.objects.filter(action="accounts.invitation.expired").count() == 1


def test_periodic_task_expires_due_invitations_once(personas: Any, settings: Any) -> None:
    from accounts.tasks import expire_invitations

    assert "expire-invitations" in settings.CELERY_BEAT_SCHEDULE
    due = invitations.create_invitation(
        personas.alice, tenant=personas.tenant_a, email="a@example.org", role=Role.MEMBER
    )
    fresh = invitations.create_invitation(
        personas.alice, tenant=personas.tenant_a, email="b@example.org", role=Role.MEMBER
    )
    Invitation.objects.filter(pk=due.invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert expire_invitations() == 1
    assert expire_invitations() == 0  # idempotent
    assert Invitation.objects.get(pk=due.invitation.pk).status == "expired"
    assert Invitation.objects.get(pk=fresh.invitation.pk).status == "pending"
    event = AuditEvent.objects.get(action="accounts.invitation.expired")
    assert event.target_id == str(due.invitation.pk) and event.actor_name == ""


def test_revoke_by_tenant_admin_and_link_dies(personas: Any) -> None:
    created = invitations.create_invitation(
        personas.alice, tenant=personas.tenant_a, email="gone@example.org", role=Role.MEMBER
    )
    url = reverse("portal:invitation_revoke", args=[created.invitation.pk])
    assert personas.client_for("carol").post(url).status_code == 404  # other tenant
    for weaker in ["oscar", "bob", "vera"]:
        assert personas.client_for(weaker).post(url).status_code == 403, weaker
    assert Invitation.objects.get(pk=created.invitation.pk).status == "pending"
    assert personas.client_for("alice").post(url).status_code == 302
    assert Invitation.objects.get(pk=created.invitation.pk).status == "revoked"
    event = AuditEvent.objects.get(action="accounts.invitation.revoked")
    assert event.actor_name == "alice" and event.tenant_slug == "tenant-a"
    assert personas.client_for("stranger").post(accept_url(created.token)).status_code == 404
    assert not Membership.objects.filter(user=personas.stranger).exists()


def test_a_new_invitation_replaces_the_pending_one(personas: Any) -> None:
    first = invitations.create_invitation(
        personas.alice, tenant=personas.tenant_a, email="twice@example.org", role=Role.MEMBER
    )
    second = invitations.create_invitation(
        personas.alice, tenant=personas.tenant_a, email="Twice@example.org", role=Role.VIEWER
    )
    assert Invitation.objects.get(pk=first.invitation.pk).status == "revoked"
    assert Client().get(accept_url(first.token)).status_code == 404
    assert Client().get(accept_url(second.token)).status_code == 200


def test_accept_and_revoke_race_has_one_winner(personas: Any) -> None:
    created = invitations.create_invitation(
        personas.alice, tenant=personas.tenant_a, email="race@example.org", role=Role.MEMBER
    )
    invitation = Invitation.objects.get(pk=created.invitation.pk)  # a stale copy
    assert invitations.revoke_invitation(personas.alice, created.invitation)
    with pytest.raises(invitations.InvitationNotUsable):
        invitations.accept_invitation(personas.stranger, invitation)
    assert not Membership.objects.filter(user=personas.stranger).exists()


def test_unknown_or_garbage_token_is_404(personas: Any) -> None:
    for token in ["nope", "x" * 300, "A" * 43]:
        assert Client().get(accept_url(token)).status_code == 404


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("alice", 200), ("root", 200), ("carol", 200), ("oscar", 403), ("bob", 403), ("vera", 403)],
)
def test_members_page_by_persona(personas: Any, persona: str, expected: int) -> None:
    invitations.create_invitation(
        personas.alice, tenant=personas.tenant_a, email="pending-a@example.org", role=Role.MEMBER
    )
    invitations.create_invitation(
        personas.carol, tenant=personas.tenant_b, email="pending-b@example.org", role=Role.MEMBER
    )
    response = personas.client_for(persona).get(reverse("portal:members"))
    assert response.status_code == expected
    if expected == 200:
        body = response.content.decode()
        own, other = (
            ("pending-b", "pending-a") if persona == "carol" else ("pending-a", "pending-b")
        )
        if persona != "root":  # root's current tenant is the first by name (A)
            assert own in body and other not in body
        assert ("bob" in body) == (persona != "carol")


def test_weaker_roles_cannot_invite(personas: Any) -> None:
    for weaker in ["oscar", "bob", "vera"]:
        response, _ = invite(personas.client_for(weaker), "x@example.org")
        assert response.status_code == 403, weaker
    assert not Invitation.objects.exists()


def test_invalid_invite_form_is_400_not_500(personas: Any) -> None:
    response, _ = invite(personas.client_for("alice"), "not-an-address")
    assert response.status_code == 400
    response = personas.client_for("alice").post(
        reverse("portal:members"), {"email": "a@example.org", "role": "emperor"}
    )
    assert response.status_code == 400


def test_admin_invitations_scoped_and_revocable(personas: Any) -> None:
    a = invitations.create_invitation(
        personas.alice, tenant=personas.tenant_a, email="adm-a@example.org", role=Role.MEMBER
    )
    b = invitations.create_invitation(
        personas.carol, tenant=personas.tenant_b, email="adm-b@example.org", role=Role.MEMBER
    )
    client = personas.client_for("alice")
    listing = client.get(reverse("admin:accounts_invitation_changelist")).content.decode()
    assert "adm-a@example.org" in listing and "adm-b@example.org" not in listing
    foreign = client.get(reverse("admin:accounts_invitation_change", args=[b.invitation.pk]))
    assert foreign.status_code == 404
    assert (
        personas.client_for("oscar")
        .get(reverse("admin:accounts_invitation_changelist"))
        .status_code
        == 403
    )
    # Another tenant in the add form is refused (its choices are alice's tenants only).
    smuggled = client.post(
        reverse("admin:accounts_invitation_add"),
        {"tenant": personas.tenant_b.pk, "email": "s@example.org", "role": "admin"},
    )
    assert smuggled.status_code == 200 and not Invitation.objects.filter(email="s@example.org")
    client.post(
        reverse("admin:accounts_invitation_changelist"),
        {
            "action": "revoke_selected",
            "_selected_action": [a.invitation.pk, b.invitation.pk],
        },
    )
    assert Invitation.objects.get(pk=a.invitation.pk).status == "revoked"
    assert Invitation.objects.get(pk=b.invitation.pk).status == "pending"


def test_cli_still_adds_members_directly(personas: Any) -> None:
    from django.core.management import call_command

    call_command("add_member", "tenant-a", "stranger", "viewer")
    assert Membership.objects.get(user=personas.stranger).role == Role.VIEWER


def test_password_reset_by_email_uses_portal_templates(
    personas: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    form = client.get(reverse("password_reset"))
    assert form.status_code == 200 and "s3portal" in form.content.decode()
    response = client.post(reverse("password_reset"), {"email": "bob@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    unknown = client.post(reverse("password_reset"), {"email": "ghost@example.com"})
    assert unknown["Location"] == response["Location"]  # Django's: no enumeration either
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["bob@example.com"]
    link = re.search(r"https?://[^/]+(/password-reset/[^\s]+/)", mail.outbox[0].body).group(1)
    page = client.get(link, follow=True)
    assert page.status_code == 200 and "Choose a new password" in page.content.decode()
    new_password = "another long passphrase 42"
    done = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done["Location"] == reverse("password_reset_complete")
    personas.bob.refresh_from_db()
    assert personas.bob.check_password(new_password)
