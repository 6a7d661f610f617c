"""Credentials pages and admin: personas, roles, dry run, the one-time secret page."""

from __future__ import annotations

import logging
import re
from typing import Any

import boto3
import pytest
from django.urls import reverse

from audit.models import AuditEvent
from storage.credentials.models import CredentialSettings, IssuedCredential, Kind, State

pytest_plugins = ["tests.credentials_fixtures"]

LIST = "/credentials/"
ISSUE = "/credentials/issue/"


def form(**overrides: Any) -> dict[str, str]:
    data = {
        "account": "",
        "buckets": "alpha-data",
        "prefixes": "",
        "access": "read_write",
        "kind": "permanent",
        "duration": "1h",
        "purpose": "nightly backup",
        "step": "plan",
    }
    data.update(overrides)
    return data


def secret_from(html: str) -> tuple[str, str]:
    key = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", html)
    secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", html)
    assert key and secret, "no secret on the page"
    return key.group(1), secret.group(1)


@pytest.fixture
def space(personas: Any, account_a: Any) -> Any:
    from storage.files.models import FileSpace

    return FileSpace.objects.create(
        tenant=personas.tenant_a,
        account=account_a,
        bucket="alpha-files",
        prefix="space",
        backup_account=account_a,
        backup_bucket="alpha-files-backup",
    )


def test_list_page_roles(personas: Any, account_a: Any, cred_buckets: list[str]) -> None:
    alice = personas.client_for("alice").get(LIST)
    assert alice.status_code == 200 and b"Issue credentials" in alice.content
    oscar = personas.client_for("oscar").get(LIST)
    assert oscar.status_code == 200
    assert b'value="permanent"' not in oscar.content  # operators: temporary only
    bob = personas.client_for("bob").get(LIST)
    assert bob.status_code == 200 and b"Issue credentials" not in bob.content  # not allowed
    assert personas.client_for("vera").get(LIST).status_code == 403
    assert personas.client_for("stranger").get(LIST).status_code == 403
    assert personas.client_for("root").get(LIST).status_code == 200


def test_dry_run_then_create_shows_the_secret_once(
    personas: Any, account_a: Any, cred_buckets: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = personas.client_for("alice")
    data = form(account=str(account_a.pk), prefixes="reports\nin/")
    plan = client.post(ISSUE, data)
    assert plan.status_code == 200
    text = plan.content.decode()
    assert "CreateUser" in text and "PutUserPolicy" in text and "CreateAccessKey" in text
    assert "arn:aws:s3:::alpha-data/reports/*" in text and "s3:prefix" in text
    assert boto3.client("iam", region_name="us-east-1").list_users()["Users"] == []

    created = client.post(ISSUE, {**data, "step": "create"})
    assert created.status_code == 201
    assert "no-store" in created["Cache-Control"]
    page = created.content.decode()
    assert "shown only once" in page
    key, secret = secret_from(page)
    assert "[s3portal-tenant-a-" in page and "credential_process" in page
    credential = IssuedCredential.objects.get()
    assert credential.access_key_id == key and credential.prefixes == ["reports/", "in/"]
    # never again: list, detail, audit, logs
    for url in (LIST, reverse("credentials:detail", args=[credential.pk])):
        later = client.get(url)
        assert later.status_code == 200
        assert key.encode() in later.content and secret.encode() not in later.content
    for event in AuditEvent.objects.all():
        assert secret not in str(event.before) + str(event.after)
    assert secret not in caplog.text


def test_problems_are_listed_with_400(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    client = personas.client_for("alice")
    response = client.post(ISSUE, form(account=str(account_a.pk), buckets="tenant-b-bucket"))
    assert response.status_code == 400
    assert b"Nothing was created" in response.content
    assert b"is not one of this tenant&#x27;s buckets" in response.content
    bad_json = form(account=str(account_a.pk), access="custom", custom_policy="{oops")
    response = client.post(ISSUE, bad_json)
    assert response.status_code == 400 and b"not valid JSON" in response.content


def test_operator_temporary_only(personas: Any, account_a: Any, cred_buckets: list[str]) -> None:
    client = personas.client_for("oscar")
    refused = client.post(ISSUE, form(account=str(account_a.pk), step="create"))
    assert refused.status_code == 400 and IssuedCredential.objects.count() == 0
    made = client.post(ISSUE, form(account=str(account_a.pk), kind="temporary", step="create"))
    assert made.status_code == 201
    assert b"AWS_SESSION_TOKEN=" in made.content
    assert IssuedCredential.objects.get().kind == Kind.TEMPORARY


def test_members_own_prefix_only_when_allowed(
    personas: Any, account_a: Any, cred_buckets: list[str], space: Any
) -> None:
    client = personas.client_for("bob")
    assert client.post(ISSUE, form(step="create")).status_code == 403
    CredentialSettings.objects.create(tenant=personas.tenant_a, members_may_issue=True)
    # permanent needs an expiry within the tenant's limit
    response = client.post(ISSUE, form(step="create", buckets="alpha-data"))
    assert response.status_code == 400 and b"must expire within 30 days" in response.content
    made = client.post(ISSUE, form(step="create", kind="temporary", buckets="alpha-data"))
    assert made.status_code == 201
    credential = IssuedCredential.objects.get()
    assert credential.buckets == ["alpha-files"]  # the submitted bucket is ignored
    assert credential.prefixes == [f"space/users/{personas.bob.pk}/"]
    assert credential.issuer == personas.bob
    # bob sees his own; vera sees nothing; alice sees it too
    assert personas.client_for("bob").get(LIST).content.count(b"alpha-files") >= 1


def test_detail_rotate_revoke_scoping(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    client = personas.client_for("alice")
    client.post(ISSUE, form(account=str(account_a.pk), step="create"))
    credential = IssuedCredential.objects.get()
    detail = reverse("credentials:detail", args=[credential.pk])
    rotate = reverse("credentials:rotate", args=[credential.pk])
    revoke = reverse("credentials:revoke", args=[credential.pk])
    assert personas.client_for("carol").get(detail).status_code == 404
    assert personas.client_for("carol").post(revoke, {"reason": "x"}).status_code == 404
    assert personas.client_for("vera").get(detail).status_code == 403
    assert personas.client_for("bob").get(detail).status_code == 403
    assert personas.client_for("bob").post(revoke, {"reason": "x"}).status_code == 403
    assert personas.client_for("oscar").get(detail).status_code == 200
    assert personas.client_for("oscar").post(revoke, {"reason": "x"}).status_code == 403

    rotated = client.post(rotate, {"grace_days": "3"})
    assert rotated.status_code == 200 and "no-store" in rotated["Cache-Control"]
    new_key, _ = secret_from(rotated.content.decode())
    credential.refresh_from_db()
    assert credential.access_key_id == new_key
    again = client.post(rotate, {"grace_days": "3"}, follow=True)
    assert b"already has 2 access keys" in again.content

    done = client.post(revoke, {"reason": "partner left"})
    assert done.status_code == 302
    credential.refresh_from_db()
    assert credential.state == State.REVOKED and credential.revoked_by == personas.alice


def test_admin_is_scoped_and_revokes(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    personas.client_for("alice").post(ISSUE, form(account=str(account_a.pk), step="create"))
    credential = IssuedCredential.objects.get()
    changelist = reverse("admin:credentials_issuedcredential_changelist")
    change = reverse("admin:credentials_issuedcredential_change", args=[credential.pk])
    assert personas.client_for("alice").get(change).status_code == 200
    assert personas.client_for("carol").get(change).status_code == 404
    carol_list = personas.client_for("carol").get(changelist)
    assert credential.access_key_id.encode() not in carol_list.content
    response = personas.client_for("alice").post(
        changelist, {"action": "revoke_selected", "_selected_action": [str(credential.pk)]}
    )
    assert response.status_code == 302
    credential.refresh_from_db()
    assert credential.state == State.REVOKED


def test_create_sends_exactly_the_dry_runs_user_name(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    client = personas.client_for("alice")
    plan = client.post(ISSUE, form(account=str(account_a.pk)))
    name = re.search(r'name="planned_name" value="([^"]+)"', plan.content.decode())
    assert name is not None and name.group(1).startswith("s3.rw.alpha-data-")
    assert f'"UserName": "{name.group(1)}"' in plan.content.decode().replace("&quot;", '"')
    made = client.post(
        ISSUE, form(account=str(account_a.pk), step="create", planned_name=name.group(1))
    )
    assert made.status_code == 201
    assert IssuedCredential.objects.get().iam_user_name == name.group(1)
    # a made-up name is not taken (only the generated shape)
    client.post(ISSUE, form(account=str(account_a.pk), step="create", planned_name="root-user"))
    assert IssuedCredential.objects.order_by("-pk").first().iam_user_name != "root-user"


def test_rotation_without_grace_is_finished_by_a_task_on_commit(
    personas: Any,
    account_a: Any,
    cred_buckets: list[str],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from storage.credentials import tasks

    client = personas.client_for("alice")
    client.post(ISSUE, form(account=str(account_a.pk), step="create"))
    credential = IssuedCredential.objects.get()
    sent: list[int] = []
    monkeypatch.setattr(tasks.finish_rotation, "delay", lambda pk: sent.append(pk))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("credentials:rotate", args=[credential.pk]), {"grace_days": "0"}
        )
    assert response.status_code == 200
    rotation = credential.rotations.get()
    assert sent == [rotation.pk]
    assert tasks.finish_rotation(rotation.pk) is True
    assert tasks.finish_rotation(rotation.pk) is False  # idempotent


def test_operator_cannot_revoke_in_the_admin(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    personas.client_for("alice").post(ISSUE, form(account=str(account_a.pk), step="create"))
    credential = IssuedCredential.objects.get()
    changelist = reverse("admin:credentials_issuedcredential_changelist")
    oscar = personas.client_for("oscar")
    assert oscar.get(changelist).status_code == 200  # operators may look
    response = oscar.post(
        changelist, {"action": "revoke_selected", "_selected_action": [str(credential.pk)]}
    )
    assert response.status_code == 403
    credential.refresh_from_db()
    assert credential.state == State.ACTIVE
