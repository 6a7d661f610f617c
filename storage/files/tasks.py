"""Celery tasks for files: backups (server-side copies), reconcile, expiry and backup purges.

Tasks take ids, are idempotent (a conditional UPDATE claims each backup) and retry only
transient AWS errors, by the one retry policy (accounts.retry). They only call into
:mod:`.jobs`. The periodic ones are in settings.CELERY_BEAT_SCHEDULE.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from accounts.retry import PolicyTask, retry_policy

from . import jobs

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="files.backup_file",
    acks_late=True,
    **retry_policy(
        jobs.TransientBackupError,
        max_retries=settings.FILES_BACKUP_TASK_RETRIES,
        backoff=settings.FILES_BACKUP_RETRY_BACKOFF,
        backoff_max=settings.FILES_BACKUP_RETRY_BACKOFF_MAX,
    ),
)
def backup_file(self: PolicyTask, file_id: int) -> dict[str, Any]:
    """Copy one file to its backup bucket server-side and record the outcome.

    Transient errors are retried (the policy); on the last attempt they are recorded as a
    failed backup instead, for the slower retry schedule to take up.
    """
    may_retry = int(self.request.retries or 0) < (self.max_retries or 0)
    return jobs.perform_backup(file_id, may_retry=may_retry)


@shared_task(name="files.reconcile_backups", **retry_policy())
def reconcile_backups() -> int:
    """Re-enqueue every backup left pending too long (lost message, broker or worker outage)."""
    ids = jobs.backups_to_reconcile()
    for file_id in ids:
        enqueue_backup(file_id)
    if ids:
        logger.info("re-enqueued %d pending backups", len(ids))
    return len(ids)


@shared_task(name="files.retry_failed_backups", **retry_policy())
def retry_failed_backups() -> int:
    """Retry failed backups on a slower schedule, until FILES_BACKUP_MAX_ATTEMPTS."""
    interval = int(getattr(settings, "FILES_RETRY_FAILED_INTERVAL", 3600))
    ids = jobs.failed_backups_to_retry(retry_after=max(interval - 60, 0))
    for file_id in ids:
        enqueue_backup(file_id)
    if ids:
        logger.info("re-enqueued %d failed backups", len(ids))
    return len(ids)


@shared_task(name="files.expire_files", **retry_policy())
def expire_files() -> dict[str, int]:
    """Delete files whose expiry date has come (primary and backup), each audited."""
    return jobs.expire_due_files()


@shared_task(name="files.purge_deleted_backups", **retry_policy())
def purge_deleted_backups() -> dict[str, int]:
    """Delete the backups of deleted files once the tenant's retention period is over."""
    return jobs.purge_due_backups()


def enqueue_backup(file_id: int) -> bool:
    """Send the backup task; a broker outage is logged, and the reconcile task catches up."""
    try:
        backup_file.delay(file_id)
    except Exception:
        logger.warning(
            "could not enqueue the backup of file %s (broker unreachable?); "
            "the periodic reconcile will enqueue it again",
            file_id,
            exc_info=True,
        )
        return False
    return True
