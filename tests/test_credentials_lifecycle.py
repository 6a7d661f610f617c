"""Rotation (two-key limit, grace period), expiry and reminders, last used and key-age alerts,
the periodic tasks, and the secret in no database column."""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from storage.credentials import lifecycle, tasks
from storage.credentials.issuing import CredentialError, IssueRequest, issue, plan_issue
from storage.credentials.models import (
    Alert,
    CredentialSettings,
    IssuedCredential,
    KeyRotation,
    Kind,
    RotationState,
    State,
)

pytest_plugins = ["tests.credentials_fixtures"]


def iam() -> Any:
    return boto3.client("iam", region_name="us-east-1")


def permanent(personas: Any, account: Any, **overrides: Any) -> tuple[IssuedCredential, Any]:
    values: dict[str, Any] = {
        "tenant": personas.tenant_a,
        "account": account,
        "buckets": ["alpha-data"],
        "actor": personas.alice,
    }
    values.update(overrides)
    return issue(plan_issue(IssueRequest(**values)))


def key_ids(user: str) -> set[str]:
    return {k["AccessKeyId"] for k in iam().list_access_keys(UserName=user)["AccessKeyMetadata"]}


def test_rotation_keeps_old_key_for_grace_then_task_deletes_it(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    credential, first = permanent(personas, account_a)
    rotation, second = lifecycle.rotate(credential, actor=personas.alice, grace=timedelta(days=7))
    assert key_ids(credential.iam_user_name) == {first.access_key_id, second.access_key_id}
    # IAM allows two keys per user: a third rotation is refused with the reason
    with pytest.raises(CredentialError, match="already has 2 access keys, IAM's limit"):
        lifecycle.rotate(credential, actor=personas.alice, grace=timedelta(days=7))
    assert tasks.finish_rotations() == 0  # grace not over
    KeyRotation.objects.filter(pk=rotation.pk).update(grace_until=timezone.now())
    assert tasks.finish_rotations() == 1
    assert key_ids(credential.iam_user_name) == {second.access_key_id}
    assert tasks.finish_rotations() == 0  # idempotent
    rotation.refresh_from_db()
    assert rotation.state == RotationState.DONE
    actions = list(AuditEvent.objects.values_list("action", flat=True).order_by("id"))
    assert actions[-2:] == ["credentials.rotate", "credentials.rotation.finish"]


def test_expiry_task_deletes_keys_and_catches_up(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    credential, _ = permanent(personas, account_a, expires_on=date.today() + timedelta(days=2))
    assert tasks.expire_due()["expired"] == 0
    # the worker was down for a week: the next run still expires it
    IssuedCredential.objects.filter(pk=credential.pk).update(
        expires_at=timezone.now() - timedelta(days=7)
    )
    assert tasks.expire_due() == {"expired": 1, "reminded": 0}
    assert key_ids(credential.iam_user_name) == set()
    credential.refresh_from_db()
    assert credential.state == State.EXPIRED and credential.display_state == "expired"
    assert tasks.expire_due()["expired"] == 0
    assert AuditEvent.objects.filter(action="credentials.expire").count() == 1


def test_reminder_mail_n_days_before(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    credential, _ = permanent(personas, account_a, expires_on=date.today() + timedelta(days=20))
    assert tasks.expire_due()["reminded"] == 0
    CredentialSettings.objects.create(tenant=personas.tenant_a, reminder_days=21)
    assert credential.display_state == "expiring"
    assert tasks.expire_due()["reminded"] == 1
    assert tasks.expire_due()["reminded"] == 0  # once
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert f"Credential #{credential.pk} expires on" in mail.outbox[0].subject
    assert AuditEvent.objects.filter(action="credentials.remind").count() == 1


def test_last_used_and_alerts(personas: Any, account_a: Any, cred_buckets: list[str]) -> None:
    credential, _ = permanent(personas, account_a)
    assert tasks.refresh_last_used() == 1
    credential.refresh_from_db()
    assert credential.last_used_checked_at is not None and credential.alert == Alert.NONE
    IssuedCredential.objects.filter(pk=credential.pk).update(
        key_created_at=timezone.now() - timedelta(days=40)
    )
    tasks.refresh_last_used()
    credential.refresh_from_db()
    assert credential.alert == Alert.UNUSED  # never used in 30 days
    IssuedCredential.objects.filter(pk=credential.pk).update(
        key_created_at=timezone.now() - timedelta(days=91)
    )
    tasks.refresh_last_used()
    credential.refresh_from_db()
    assert credential.alert == Alert.OLD_KEY  # older than the tenant's 90-day limit
    assert AuditEvent.objects.filter(action="credentials.alert.open").count() == 2


def test_schedule_entries() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    for name, task in [
        ("credentials-expire-due", "credentials.expire_due"),
        ("credentials-finish-rotations", "credentials.finish_rotations"),
        ("credentials-refresh-last-used", "credentials.refresh_last_used"),
    ]:
        assert schedule[name]["task"] == task
        assert schedule[name]["options"]["expires"] == schedule[name]["schedule"]


@pytest.mark.django_db(transaction=True)
def test_the_secret_is_in_no_database_column(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    credential, secret = permanent(personas, account_a)
    _, rotated = lifecycle.rotate(credential, actor=personas.alice, grace=timedelta(days=1))
    temporary, session = issue(
        plan_issue(
            IssueRequest(
                tenant=personas.tenant_a,
                account=account_a,
                buckets=["alpha-data"],
                kind=Kind.TEMPORARY,
                actor=personas.alice,
            )
        )
    )
    needles = [secret.secret_access_key, rotated.secret_access_key, session.secret_access_key]
    needles.append(session.session_token)
    if connection.vendor == "sqlite":
        # the whole database as a file, grepped byte for byte
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / "copy.sqlite3"
            with connection.cursor() as cursor:
                cursor.execute("VACUUM INTO %s", [str(copy)])
            data = copy.read_bytes()
            assert len(data) > 10_000 and b"alpha-data" in data
            assert secret.access_key_id.encode() in data  # the key id is stored, as it should
            for needle in needles:
                assert needle.encode() not in data
            sqlite3.connect(copy).close()
    else:
        print("not SQLite: checking every column of every model as text instead of a file")
    for model in apps.get_models():
        for row in model._default_manager.values_list():
            text = " ".join(str(v) for v in row)
            for needle in needles:
                assert needle not in text, model._meta.label
