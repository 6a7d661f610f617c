"""Every admin page by persona: the right role gets in, a weaker one 403, another tenant 404."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import AwsAccount, Membership, Role
from audit.models import AuditEvent
from tests.conftest import ADMIN_SITE_USERS, NOT_ADMIN_SITE_USERS

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(personas: Any) -> dict[str, Any]:
    import audit

    a_account = AwsAccount.objects.create(
        tenant=personas.tenant_a, name="a-acct", secret_access_key="a-very-secret-value-111"
    )
    b_account = AwsAccount.objects.create(
        tenant=personas.tenant_b, name="b-acct", secret_access_key="b-very-secret-value-222"
    )
    return {
        "a_account": a_account,
        "b_account": b_account,
        "a_membership": Membership.objects.get(user=personas.bob),
        "b_membership": Membership.objects.get(user=personas.carol),
        "a_event": audit.record(personas.alice, personas.tenant_a, "test.a", a_account),
        "b_event": audit.record(personas.carol, personas.tenant_b, "test.b", b_account),
    }


def test_admin_index_only_for_admins_and_operators(personas: Any) -> None:
    url = reverse("admin:index")
    for persona in ADMIN_SITE_USERS:
        assert personas.client_for(persona).get(url).status_code == 200, persona
    for persona in NOT_ADMIN_SITE_USERS:
        response = personas.client_for(persona).get(url)
        assert response.status_code == 302, persona  # to the admin login: never inside
        assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    ("model", "persona", "expected"),
    [
        ("accounts_awsaccount", "alice", 200),
        ("accounts_awsaccount", "oscar", 200),  # operators see accounts, cannot change keys
        ("accounts_awsaccount", "carol", 200),
        ("accounts_membership", "alice", 200),
        ("accounts_membership", "oscar", 403),
        ("accounts_tenant", "alice", 200),
        ("accounts_tenant", "oscar", 403),
        ("audit_auditevent", "alice", 200),
        ("audit_auditevent", "oscar", 403),
        ("audit_auditevent", "root", 200),
    ],
)
def test_changelist_by_role(
    personas: Any, objects: Any, model: str, persona: str, expected: int
) -> None:
    response = personas.client_for(persona).get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("model", "visible", "hidden"),
    [
        ("accounts_awsaccount", "a-acct", "b-acct"),
        ("accounts_membership", "bob", "carol"),
        ("audit_auditevent", "test.a", "test.b"),
        ("accounts_tenant", "Tenant A", "Tenant B"),
    ],
)
def test_changelists_list_own_tenant_only(
    personas: Any, objects: Any, model: str, visible: str, hidden: str
) -> None:
    body = personas.client_for("alice").get(reverse(f"admin:{model}_changelist")).content.decode()
    assert visible in body
    assert hidden not in body
    root_body = personas.client_for("root").get(reverse(f"admin:{model}_changelist"))
    assert hidden in root_body.content.decode()


@pytest.mark.parametrize(
    ("model", "key", "view"),
    [
        ("accounts_awsaccount", "b_account", "change"),
        ("accounts_awsaccount", "b_account", "delete"),
        ("accounts_awsaccount", "b_account", "history"),
        ("accounts_membership", "b_membership", "change"),
        ("accounts_membership", "b_membership", "delete"),
        ("audit_auditevent", "b_event", "change"),
    ],
)
def test_other_tenant_object_pages_are_404(
    personas: Any, objects: Any, model: str, key: str, view: str
) -> None:
    url = reverse(f"admin:{model}_{view}", args=[objects[key].pk])
    assert personas.client_for("alice").get(url).status_code == 404
    # The audit admin is read-only: any POST is refused before the lookup, own tenant or not.
    post_status = 403 if model == "audit_auditevent" else 404
    assert personas.client_for("alice").post(url, {"post": "yes"}).status_code == post_status
    assert personas.client_for("root").get(url).status_code == 200


def test_other_tenant_delete_via_post_changes_nothing(personas: Any, objects: Any) -> None:
    url = reverse("admin:accounts_awsaccount_delete", args=[objects["b_account"].pk])
    personas.client_for("alice").post(url, {"post": "yes"})
    assert AwsAccount.objects.filter(pk=objects["b_account"].pk).exists()


def test_operator_cannot_change_aws_account(personas: Any, objects: Any) -> None:
    client = personas.client_for("oscar")
    url = reverse("admin:accounts_awsaccount_change", args=[objects["a_account"].pk])
    page = client.get(url)
    assert page.status_code == 200  # view-only page
    assert b'name="_save"' not in page.content
    response = client.post(url, {"name": "renamed"})
    assert response.status_code == 403
    assert client.get(reverse("admin:accounts_awsaccount_add")).status_code == 403


def test_tenant_admin_cannot_add_tenant(personas: Any) -> None:
    assert personas.client_for("alice").get(reverse("admin:accounts_tenant_add")).status_code == 403
    assert personas.client_for("root").get(reverse("admin:accounts_tenant_add")).status_code == 200


def _account_post(tenant: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "tenant": tenant.pk,
        "name": "new-acct",
        "auth_method": "access_key",
        "access_key_id": "AKIANEWNEWNEWNEWNEW1",
        "secret_access_key": "brand-new-secret-abcdef",
        "role_arn": "",
        "external_id": "",
        "role_session_name": "s3portal",
        "default_region": "us-east-1",
        "endpoint_url": "",
    }
    data.update(overrides)
    return data


def test_tenant_admin_adds_account_to_own_tenant_with_audit(personas: Any) -> None:
    client = personas.client_for("alice")
    response = client.post(
        reverse("admin:accounts_awsaccount_add"), _account_post(personas.tenant_a)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    account = AwsAccount.objects.get(name="new-acct")
    assert account.tenant == personas.tenant_a
    assert account.secret_access_key == "brand-new-secret-abcdef"
    event = AuditEvent.objects.get(action="accounts.aws_account.create")
    assert event.actor_name == "alice" and event.tenant_id == personas.tenant_a.pk
    assert "brand-new-secret" not in str(event.after) and event.after["secret_set"] is True


def test_tenant_admin_cannot_add_account_to_other_tenant(personas: Any) -> None:
    client = personas.client_for("alice")
    response = client.post(
        reverse("admin:accounts_awsaccount_add"), _account_post(personas.tenant_b)
    )
    assert response.status_code == 200  # form redisplayed with an error
    assert "Select a valid choice" in response.content.decode()
    assert not AwsAccount.objects.filter(name="new-acct").exists()


def test_secret_is_write_only_in_admin(personas: Any, objects: Any) -> None:
    client = personas.client_for("alice")
    url = reverse("admin:accounts_awsaccount_change", args=[objects["a_account"].pk])
    page = client.get(url).content.decode()
    assert "a-very-secret-value-111" not in page
    # Saving with an empty secret field keeps the stored secret.
    data = _account_post(
        personas.tenant_a, name="a-acct", access_key_id="AKIAKEEPKEEPKEEPKEEP", secret_access_key=""
    )
    assert client.post(url, data).status_code == 302
    objects["a_account"].refresh_from_db()
    assert objects["a_account"].secret_access_key == "a-very-secret-value-111"
    event = AuditEvent.objects.get(action="accounts.aws_account.update")
    assert event.before["access_key_id"] == "" and event.after["access_key_id"].startswith(
        "AKIAKEEP"
    )
    assert "a-very-secret" not in str(event.before) + str(event.after)


def test_tenant_admin_cannot_add_members_directly_only_invite(personas: Any) -> None:
    """Finding 5: adding a person by username (without their consent) is gone for tenant
    admins; the add page answers 403 for any username, so it tells nothing about which exist."""
    client = personas.client_for("alice")
    add = reverse("admin:accounts_membership_add")
    answers = []
    for username in ["stranger", "carol", "ghost-does-not-exist"]:
        response = client.post(
            add, {"tenant": personas.tenant_a.pk, "username": username, "role": "viewer"}
        )
        # the page's CSRF token is masked anew on every render: compare without it
        body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", response.content)
        answers.append((response.status_code, body))
    assert {status for status, _ in answers} == {403}
    assert len({body for _, body in answers}) == 1
    assert not Membership.objects.filter(user=personas.stranger).exists()
    assert not Membership.objects.filter(user=personas.carol, tenant=personas.tenant_a).exists()


def test_superuser_still_adds_members_directly_and_scoping_holds(personas: Any) -> None:
    client = personas.client_for("root")
    add = reverse("admin:accounts_membership_add")
    ok = client.post(
        add, {"tenant": personas.tenant_a.pk, "username": "stranger", "role": "viewer"}
    )
    assert ok.status_code == 302
    assert Membership.objects.get(user=personas.stranger).role == Role.VIEWER
    assert AuditEvent.objects.filter(action="accounts.membership.create").exists()
    dup = client.post(add, {"tenant": personas.tenant_a.pk, "username": "bob", "role": "viewer"})
    assert "already a member" in dup.content.decode()


def test_tenant_filter_lists_only_own_tenants(personas: Any, objects: Any) -> None:
    body = personas.client_for("alice").get(reverse("admin:accounts_awsaccount_changelist"))
    assert "Tenant B" not in body.content.decode()


def test_delete_via_admin_is_audited(personas: Any, objects: Any) -> None:
    client = personas.client_for("alice")
    url = reverse("admin:accounts_awsaccount_delete", args=[objects["a_account"].pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not AwsAccount.objects.filter(pk=objects["a_account"].pk).exists()
    event = AuditEvent.objects.get(action="accounts.aws_account.delete")
    assert event.before["name"] == "a-acct"


@pytest.mark.parametrize("persona", ADMIN_SITE_USERS)
def test_secret_never_rendered_on_any_account_admin_page(
    personas: Any, objects: Any, persona: str
) -> None:
    """View-only pages render field values: the secret must not be among them."""
    client = personas.client_for(persona)
    account = objects["a_account"]
    # Operators see accounts (read-only) but may not delete them; admins and root may.
    may_delete = 403 if persona == "oscar" else 200
    pages = [
        (reverse("admin:accounts_awsaccount_changelist"), 200),
        (reverse("admin:accounts_awsaccount_change", args=[account.pk]), 200),
        (reverse("admin:accounts_awsaccount_history", args=[account.pk]), 200),
        (reverse("admin:accounts_awsaccount_delete", args=[account.pk]), may_delete),
    ]
    for url, status in pages:
        response = client.get(url)
        assert response.status_code == status, url
        assert "a-very-secret-value-111" not in response.content.decode(), url
    change = client.get(reverse("admin:accounts_awsaccount_change", args=[account.pk]))
    assert "set (write-only, never shown)" in change.content.decode()


def test_tenant_admin_cannot_reach_platform_user_admin(personas: Any) -> None:
    assert (
        personas.client_for("alice").get(reverse("admin:auth_user_changelist")).status_code == 403
    )
    assert personas.client_for("root").get(reverse("admin:auth_user_changelist")).status_code == 200


def test_save_guard_refuses_a_foreign_tenant_behind_the_form(personas: Any, rf: Any) -> None:
    """Defence in depth: even an object that slipped past the form's choices is refused."""
    from django.contrib import admin as django_admin
    from django.core.exceptions import PermissionDenied

    model_admin = django_admin.site._registry[AwsAccount]
    foreign = AwsAccount(tenant=personas.tenant_b, name="smuggled")
    own = AwsAccount(tenant=personas.tenant_a, name="own")
    request = rf.post("/")
    request.user = personas.alice
    with pytest.raises(PermissionDenied):
        model_admin.ensure_may_save(request, foreign)
    model_admin.ensure_may_save(request, own)  # allowed: no exception
    request.user = personas.root
    model_admin.ensure_may_save(request, foreign)  # platform staff may


def test_an_accounts_tenant_is_fixed_once_saved(personas: Any, objects: Any) -> None:
    """Moving an account would leave its findings, costs and audit trail (which copy or follow
    the tenant) with the old tenant: the admin shows the tenant read-only, even to root, and the
    service layer refuses a changed tenant from anywhere else (CLI, scripts)."""
    from django.core.exceptions import ValidationError

    from accounts import services

    account = objects["a_account"]
    client = personas.client_for("root")
    url = reverse("admin:accounts_awsaccount_change", args=[account.pk])
    page = client.get(url).content.decode()
    assert 'id="id_tenant"' not in page and personas.tenant_a.name in page  # no form field
    data = _account_post(
        personas.tenant_b, name="a-acct", access_key_id="AKIAKEEPKEEPKEEPKEEP", secret_access_key=""
    )
    assert client.post(url, data).status_code == 302
    account.refresh_from_db()
    assert account.tenant_id == personas.tenant_a.pk  # the posted tenant was ignored
    account.tenant = personas.tenant_b
    with pytest.raises(ValidationError, match="cannot move to another tenant"):
        services.save_aws_account(personas.root, account)
    assert AwsAccount.objects.get(pk=account.pk).tenant_id == personas.tenant_a.pk
    add_page = client.get(reverse("admin:accounts_awsaccount_add")).content.decode()
    assert 'id="id_tenant"' in add_page  # chosen when the account is connected
