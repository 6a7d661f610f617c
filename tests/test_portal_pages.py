"""Portal pages by persona: dashboard, tenant switcher, verify button; other tenants get 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from accounts.access import SESSION_TENANT_KEY, get_for_user, tenants_for
from accounts.models import AwsAccount, Membership, Role
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client: Any) -> None:
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["alice", "oscar", "bob", "vera"])
def test_dashboard_shows_own_tenant_accounts_only(personas: Any, persona: str) -> None:
    AwsAccount.objects.create(tenant=personas.tenant_a, name="a-prod", access_key_id="")
    AwsAccount.objects.create(tenant=personas.tenant_b, name="b-secret-project")
    response = personas.client_for(persona).get(reverse("portal:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "a-prod" in body
    assert "b-secret-project" not in body
    assert "Tenant B" not in body  # not even in the tenant switcher


def test_user_without_tenant_gets_403(personas: Any) -> None:
    response = personas.client_for("stranger").get(reverse("portal:dashboard"))
    assert response.status_code == 403


def test_dashboard_shows_verification_state_and_error(personas: Any) -> None:
    AwsAccount.objects.create(
        tenant=personas.tenant_a, name="broken", last_error="AWS rejected the secret access key"
    )
    body = personas.client_for("vera").get(reverse("portal:dashboard")).content.decode()
    assert "failed" in body
    assert "AWS rejected the secret access key" in body


def test_audit_events_on_dashboard_respect_role(personas: Any) -> None:
    import audit

    audit.record(personas.alice, personas.tenant_a, "accounts.tenant.update", personas.tenant_a)
    audit.record(personas.bob, personas.tenant_a, "storage.file.upload", personas.tenant_a)
    audit.record(personas.carol, personas.tenant_b, "accounts.tenant.update", personas.tenant_b)

    admin_body = personas.client_for("alice").get(reverse("portal:dashboard")).content.decode()
    assert "storage.file.upload" in admin_body and "accounts.tenant.update" in admin_body
    assert "carol" not in admin_body

    member_body = personas.client_for("bob").get(reverse("portal:dashboard")).content.decode()
    assert "storage.file.upload" in member_body  # his own
    assert "accounts.tenant.update" not in member_body  # alice's is not his to see


def test_switch_tenant_between_own_tenants(personas: Any) -> None:
    Membership.objects.create(user=personas.alice, tenant=personas.tenant_b, role=Role.VIEWER)
    client = personas.client_for("alice")
    response = client.post(reverse("portal:switch_tenant"), {"tenant": "tenant-b"})
    assert response.status_code == 302
    assert client.session[SESSION_TENANT_KEY] == personas.tenant_b.pk
    body = client.get(reverse("portal:dashboard")).content.decode()
    assert "<h1>Tenant B</h1>" in body
    assert "viewer" in body


def test_switch_to_foreign_tenant_is_404(personas: Any) -> None:
    client = personas.client_for("bob")
    response = client.post(reverse("portal:switch_tenant"), {"tenant": "tenant-b"})
    assert response.status_code == 404
    assert SESSION_TENANT_KEY not in client.session


def test_stale_session_tenant_falls_back_to_own(personas: Any) -> None:
    client = personas.client_for("bob")
    session = client.session
    session[SESSION_TENANT_KEY] = personas.tenant_b.pk  # e.g. membership removed meanwhile
    session.save()
    body = client.get(reverse("portal:dashboard")).content.decode()
    assert "<h1>Tenant A</h1>" in body


def test_superuser_sees_every_tenant(personas: Any) -> None:
    assert set(tenants_for(personas.root)) == {personas.tenant_a, personas.tenant_b}
    assert list(tenants_for(personas.carol)) == [personas.tenant_b]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("alice", 302), ("root", 302), ("oscar", 403), ("bob", 403), ("vera", 403), ("carol", 404)],
)
def test_verify_button_by_role_and_tenant(
    personas: Any, account_a: Any, persona: str, expected: int
) -> None:
    response = personas.client_for(persona).post(
        reverse("portal:verify_account", args=[account_a.pk])
    )
    assert response.status_code == expected
    account_a.refresh_from_db()
    if expected == 302:
        assert account_a.verified_account_id == "123456789012"  # moto's default account
        assert AuditEvent.objects.filter(action="accounts.aws_account.verify").count() == 1
    else:
        assert account_a.last_verified_at is None


def test_verify_requires_post(personas: Any, account_a: Any) -> None:
    response = personas.client_for("alice").get(
        reverse("portal:verify_account", args=[account_a.pk])
    )
    assert response.status_code == 405


def test_get_for_user_fails_closed(personas: Any, rf: Any) -> None:
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    account = AwsAccount.objects.create(tenant=personas.tenant_a, name="x")
    for user, role, outcome in [
        (personas.alice, Role.ADMIN, "ok"),
        (personas.bob, Role.ADMIN, PermissionDenied),
        (personas.carol, Role.VIEWER, Http404),
        (personas.stranger, Role.VIEWER, Http404),
    ]:
        request = rf.get("/")
        request.user = user
        if outcome == "ok":
            assert get_for_user(request, AwsAccount, account.pk, role=role) == account
        else:
            with pytest.raises(outcome):
                get_for_user(request, AwsAccount, account.pk, role=role)
    request = rf.get("/")
    request.user = personas.alice
    with pytest.raises(Http404):
        get_for_user(request, AwsAccount, 999999)
