"""Celery: the schedule table, account re-verification tasks, and a real worker round trip."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from accounts import tasks
from accounts.models import AwsAccount
from accounts.verification import TransientVerificationError, VerificationResult
from tests.helpers_services import celery_worker, database_url, moto_server


def test_every_schedule_entry_has_expires_and_a_known_task() -> None:
    from s3portal.celery import app

    app.loader.import_default_modules()
    assert settings.CELERY_BEAT_SCHEDULE, "the schedule table is empty"
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["options"]["expires"] > 0, name
        assert entry["task"] in app.tasks, f"{name}: unknown task {entry['task']}"
    assert settings.CELERY_BEAT_SCHEDULE["verify-aws-accounts"]["schedule"] == 86400


@pytest.mark.django_db
def test_verify_all_fans_out_one_task_per_account(personas: Any, monkeypatch: Any) -> None:
    a = AwsAccount.objects.create(tenant=personas.tenant_a, name="a")
    b = AwsAccount.objects.create(tenant=personas.tenant_b, name="b")
    sent: list[int] = []
    monkeypatch.setattr(tasks.verify_aws_account, "delay", lambda pk: sent.append(pk))
    assert tasks.verify_all_aws_accounts() == 2
    assert sorted(sent) == sorted([a.pk, b.pk])


@pytest.mark.django_db
def test_verify_task_exits_cleanly_when_account_is_gone() -> None:
    assert tasks.verify_aws_account(424242) == {"account_id": 424242, "skipped": "gone"}


@pytest.mark.django_db
def test_verify_task_retries_transient_errors(personas: Any, monkeypatch: Any) -> None:
    account = AwsAccount.objects.create(tenant=personas.tenant_a, name="flaky")
    calls: list[int] = []

    def flaky(acct: Any, **kwargs: Any) -> VerificationResult:
        calls.append(acct.pk)
        assert kwargs["raise_transient"] is True
        if len(calls) < 3:
            raise TransientVerificationError("throttled")
        return VerificationResult(ok=True, account_id="1", arn="arn:x")

    monkeypatch.setattr(tasks, "verify_account", flaky)
    result = tasks.verify_aws_account.apply(args=[account.pk])  # eager, retries inline
    assert result.get() == {"account_id": account.pk, "ok": True, "error": ""}
    assert len(calls) == 3


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_real_worker_verifies_account_over_broker(personas: Any) -> None:
    """A real task through the configured broker (Redis in CI) to a real worker and back."""
    broker = settings.CELERY_BROKER_URL.split("://")[0]
    print(f"broker under test: {broker}")
    with moto_server() as endpoint:
        account = AwsAccount.objects.create(
            tenant=personas.tenant_a,
            name="via-worker",
            access_key_id="AKIAWORKERWORKERWORK",
            secret_access_key="worker-secret",
            endpoint_url=endpoint,
        )
        worker_env = {"DATABASE_URL": database_url(connection.settings_dict)}
        with celery_worker(worker_env):
            outcome = tasks.verify_aws_account.delay(account.pk).get(timeout=90)
    assert outcome == {"account_id": account.pk, "ok": True, "error": ""}
    account.refresh_from_db()
    assert account.verified_account_id == "123456789012"
    assert account.last_verified_at is not None
