"""Every task follows the one retry policy (accounts.retry) and is named <app>.<task>."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from accounts.retry import PolicyTask, backoff_seconds
from accounts.verification import TransientVerificationError
from lifecycle.tasks import TransientLifecycleError
from s3portal.celery import app
from storage.files.jobs import TransientBackupError
from storage.scan.runner import TransientScanError

APPS = {"accounts", "storage", "files", "s3portal", "lifecycle", "browser", "credentials", "cost"}


def project_tasks() -> dict[str, Any]:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_is_named_app_dot_task() -> None:
    names = set(project_tasks())
    assert {
        "accounts.verify_aws_account",
        "accounts.verify_all_aws_accounts",
        "storage.scan_all_accounts",
        "storage.scan_account",
        "storage.reset_object_acls",
        "files.backup_file",
        "files.reconcile_backups",
        "files.retry_failed_backups",
        "files.expire_files",
        "files.purge_deleted_backups",
    } <= names
    for name in names:
        app_label, _, task = name.partition(".")
        assert app_label in APPS and task and "." not in task, name


def test_the_schedule_names_registered_tasks() -> None:
    names = set(project_tasks())
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in names


def test_every_portal_task_uses_the_policy_and_retries_named_errors_only() -> None:
    retried = {
        name: tuple(task.autoretry_for)
        for name, task in project_tasks().items()
        if name != "s3portal.ping"
    }
    for name in retried:
        assert isinstance(project_tasks()[name], PolicyTask), name
    assert {name: errors for name, errors in retried.items() if errors} == {
        "accounts.verify_aws_account": (TransientVerificationError,),
        "storage.scan_account": (TransientScanError,),
        "files.backup_file": (TransientBackupError,),
        "lifecycle.apply_template_to_bucket": (TransientLifecycleError,),
    }


def test_max_retries_and_backoff_come_from_settings() -> None:
    tasks = project_tasks()
    assert tasks["accounts.verify_aws_account"].max_retries == settings.TASK_MAX_RETRIES == 5
    assert tasks["storage.scan_account"].retry_backoff == settings.TASK_RETRY_BACKOFF == 30
    assert tasks["files.backup_file"].max_retries == settings.FILES_BACKUP_TASK_RETRIES == 3


@pytest.mark.parametrize(("retries", "low", "high"), [(0, 15, 45), (1, 30, 90), (10, 450, 1350)])
def test_backoff_doubles_is_capped_and_jittered(retries: int, low: float, high: float) -> None:
    values = [backoff_seconds(retries, 30, 900) for _ in range(50)]
    assert all(low <= v <= high for v in values)
    assert len(set(values)) > 1
    assert backoff_seconds(retries, 30, 900, jitter=False) == min(900, 30 * 2**retries)
