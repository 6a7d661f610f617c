"""Issue 7, findings 7 (two admin 500s) and 8 (existence oracle in the auth admin).

- The tenant's own change page for a tenant admin was a 500 (slug pre-filled and read-only).
- The audit CSV export with a bad filter raised IncorrectLookupParameters (500).
- /admin/auth/user/<id>/... answered 403 for an existing id and a redirect for a missing one.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

import audit
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


# --- the tenant's own change page ------------------------------------------------------------
@pytest.mark.parametrize("persona", ["alice", "root"])
def test_tenant_change_page_renders(personas: Any, persona: str) -> None:
    url = reverse("admin:accounts_tenant_change", args=[personas.tenant_a.pk])
    response = personas.client_for(persona).get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "tenant-a" in body
    if persona == "alice":
        assert 'name="slug"' not in body  # read-only for a tenant admin
        assert "prepopulated" not in body or 'id="id_slug"' not in body
    else:
        assert 'name="slug"' in body


def test_tenant_admin_saves_own_tenant_and_slug_stays(personas: Any) -> None:
    url = reverse("admin:accounts_tenant_change", args=[personas.tenant_a.pk])
    response = personas.client_for("alice").post(
        url, {"name": "Tenant A renamed", "slug": "hijacked"}
    )
    assert response.status_code == 302
    personas.tenant_a.refresh_from_db()
    assert personas.tenant_a.name == "Tenant A renamed" and personas.tenant_a.slug == "tenant-a"


@pytest.mark.parametrize(("persona", "expected"), [("carol", 404), ("oscar", 403)])
def test_tenant_change_page_other_tenant_and_weaker_role(
    personas: Any, persona: str, expected: int
) -> None:
    url = reverse("admin:accounts_tenant_change", args=[personas.tenant_a.pk])
    assert personas.client_for(persona).get(url).status_code == expected


# --- audit export with bad filters -----------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        "created_at__gte=notadate",
        "created_at__lt=2026-13-45",
        "id__gt=abc",
        "tenant=notanumber&created_at__gte=x",
    ],
)
def test_audit_export_with_bad_filter_is_400_with_a_message(personas: Any, query: str) -> None:
    audit.record(personas.alice, personas.tenant_a, "test.a", personas.tenant_a)
    url = reverse("admin:audit_auditevent_export") + "?" + query
    for persona in ["alice", "root"]:
        response = personas.client_for(persona).get(url)
        assert response.status_code == 400, (persona, query)
        text = response.content.decode()
        assert "filter in this export link is not valid" in text
        assert response["Content-Type"].startswith("text/plain")


def test_audit_changelist_bad_filter_redirects_like_django(personas: Any) -> None:
    url = reverse("admin:audit_auditevent_changelist") + "?created_at__gte=notadate"
    response = personas.client_for("alice").get(url)
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_audit_export_good_filter_still_streams(personas: Any) -> None:
    audit.record(personas.alice, personas.tenant_a, "test.kept", personas.tenant_a)
    audit.record(personas.carol, personas.tenant_b, "test.other", personas.tenant_b)
    url = reverse("admin:audit_auditevent_export") + "?created_at__gte=2000-01-01"
    response = personas.client_for("alice").get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "test.kept" in body and "test.other" not in body


@pytest.mark.parametrize(("persona", "expected"), [("oscar", 403), ("bob", 302)])
def test_audit_export_weaker_roles(personas: Any, persona: str, expected: int) -> None:
    url = reverse("admin:audit_auditevent_export") + "?created_at__gte=notadate"
    assert personas.client_for(persona).get(url).status_code == expected


# --- no existence oracle in the auth admin ---------------------------------------------------
USER_SUFFIXES = ["change/", "history/", "delete/", "password/", ""]
GROUP_SUFFIXES = ["change/", "history/", "delete/", ""]


@pytest.mark.parametrize("persona", ["alice", "oscar", "carol"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_user_and_group_admin_answer_the_same_for_any_id(
    personas: Any, persona: str, method: str
) -> None:
    group = Group.objects.create(name="ops")
    client = personas.client_for(persona)
    cases = [
        ("user", personas.bob.pk, 999_999, USER_SUFFIXES),
        ("group", group.pk, 999_999, GROUP_SUFFIXES),
    ]
    for model, existing, missing, suffixes in cases:
        for suffix in suffixes:
            answers = []
            for object_id in (existing, missing):
                url = f"/admin/auth/{model}/{object_id}/{suffix}"
                response = getattr(client, method)(url)
                answers.append((response.status_code, response.get("Location")))
            assert answers[0] == answers[1] == (403, None), (model, suffix, answers)
    for url in ["/admin/auth/user/", "/admin/auth/user/add/", "/admin/auth/group/add/"]:
        assert getattr(client, method)(url).status_code == 403, url
    assert Group.objects.filter(name="ops").exists()
    personas.bob.refresh_from_db()
    assert personas.bob.is_active


def test_other_platform_admins_are_superuser_only_too(personas: Any) -> None:
    """2FA devices and login attempts (third-party admins) follow the same rule."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=personas.root, name="x", confirmed=True)
    client = personas.client_for("alice")
    for base in ["/admin/otp_totp/totpdevice/", "/admin/otp_static/staticdevice/"]:
        a = client.get(f"{base}{device.pk}/change/")
        b = client.get(f"{base}999999/change/")
        assert (a.status_code, b.status_code) == (403, 403), base


def test_superuser_still_uses_the_auth_admin(personas: Any) -> None:
    root = personas.client_for("root")
    assert root.get(f"/admin/auth/user/{personas.bob.pk}/change/").status_code == 200
    assert root.get(f"/admin/auth/user/{personas.bob.pk}/history/").status_code == 200
    missing = root.get("/admin/auth/user/999999/change/")
    assert missing.status_code == 302  # Django's own answer for platform staff


def test_tenant_scoped_admins_unchanged_by_the_guard(personas: Any) -> None:
    event = audit.record(personas.carol, personas.tenant_b, "test.b", personas.tenant_b)
    client = personas.client_for("alice")
    response = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert response.status_code == 404  # another tenant's: 404 as before, not 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
