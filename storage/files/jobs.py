"""The files' background work: backups, the expiry sweep and the purge of kept backups.

Backups: claim a file, copy it server-side, verify, record the outcome; plus the queries of the
periodic reconcile (pending too long) and of the slower retry of failed backups. Idempotent
throughout: a conditional UPDATE claims each file, so concurrent or repeated tasks copy it once;
a file that is gone, deleted or already copied is skipped. Expiry and purge claim each row with
a conditional UPDATE too, and catch up after downtime.

tasks.py only calls into this module; services.py (what people do) uses perform_backup to back
a file up before deleting it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

import audit
from accounts.errors import AWS_ERRORS, describe_aws_error, error_code, is_transient

from . import s3
from .backup import CopyVerificationError, server_side_copy
from .models import BackupState, DeleteReason, StoredFile, file_space_for

logger = logging.getLogger(__name__)


class TransientBackupError(Exception):
    """A backup attempt hit a transient error; the task retries it with backoff."""


def _claim_backup(file_id: int, now: datetime) -> bool:
    """Conditional UPDATE: only one worker copies a file at a time."""
    stale = now - timedelta(seconds=settings.FILES_BACKUP_CLAIM_TTL)
    return bool(
        StoredFile.objects.filter(
            pk=file_id,
            deleted_at__isnull=True,
            backup_state__in=[BackupState.PENDING, BackupState.FAILED],
        )
        .filter(Q(backup_claimed_at__isnull=True) | Q(backup_claimed_at__lt=stale))
        .update(
            backup_claimed_at=now,
            backup_last_attempt_at=now,
            backup_attempts=F("backup_attempts") + 1,
        )
    )


def _skip_reason(file_id: int) -> str:
    row = StoredFile.objects.filter(pk=file_id).values("deleted_at", "backup_state").first()
    if row is None:
        return "gone"
    if row["deleted_at"] is not None:
        return "deleted"
    if row["backup_state"] == BackupState.COPIED:
        return "already copied"
    return "claimed by another worker"


def perform_backup(file_id: int, *, may_retry: bool = False) -> dict[str, Any]:
    """Copy one file to its backup bucket (server-side), verify it and record the outcome.

    Idempotent: a file already copied, deleted, gone or being copied by another worker is
    skipped. With ``may_retry``, a transient error raises :class:`TransientBackupError` after
    releasing the claim, for the task to retry with backoff.
    """
    now = timezone.now()
    if not _claim_backup(file_id, now):
        return {"file_id": file_id, "skipped": _skip_reason(file_id)}
    stored = StoredFile.objects.select_related("tenant", "owner", "account", "backup_account").get(
        pk=file_id
    )
    if stored.backup_account is None or not stored.backup_bucket:
        space = file_space_for(stored.tenant_id)
        if space is None:
            return _backup_failed(stored, "The tenant has no file space with a backup bucket.")
        StoredFile.objects.filter(pk=file_id).update(
            backup_account=space.backup_account,
            backup_region=space.backup_bucket_region,
            backup_bucket=space.backup_bucket,
            backup_key=stored.key,
        )
        stored.refresh_from_db()
    backup_key = stored.backup_key or stored.key
    try:
        result = server_side_copy(
            s3.primary_client(stored),
            stored.bucket,
            stored.key,
            s3.backup_client(stored),
            stored.backup_bucket,
            backup_key,
            expected_size=stored.size,
            expected_sha256=stored.sha256,
            src_version_id=stored.version_id or None,
            part_size=stored.part_size,
        )
    except CopyVerificationError as exc:
        return _backup_failed(stored, f"The backup copy failed verification: {exc}.")
    except AWS_ERRORS as exc:
        assert stored.backup_account is not None
        if error_code(exc) in {"NoSuchKey", "404", "NoSuchVersion"}:
            message = (
                f"The primary object s3://{stored.bucket}/{stored.key} no longer exists, so "
                "there is nothing to copy."
            )
        else:
            message = describe_aws_error(
                exc,
                account_name=stored.backup_account.name,
                operation="s3:GetObject on the primary and s3:PutObject on the backup bucket",
                resource=f"s3://{stored.backup_bucket}/{backup_key}",
            )
        if may_retry and is_transient(exc):
            StoredFile.objects.filter(pk=file_id).update(
                backup_claimed_at=None, backup_last_error=message
            )
            raise TransientBackupError(message) from exc
        return _backup_failed(stored, message)

    with transaction.atomic():
        StoredFile.objects.filter(pk=file_id).update(
            backup_state=BackupState.COPIED,
            backup_key=result.key,
            backup_version_id=result.version_id or "",
            backup_checksum=result.checksum[:128],
            backup_copied_at=timezone.now(),
            backup_claimed_at=None,
            backup_last_error="",
        )
    stored.refresh_from_db()
    if stored.delete_reason == DeleteReason.EXPIRED and stored.backup_deleted_at is None:
        # The file expired while it was being copied: the copy must not outlive it.
        s3.delete_backup_object(stored)
        StoredFile.objects.filter(pk=file_id).update(backup_deleted_at=timezone.now())
    return {"file_id": file_id, "state": BackupState.COPIED, "verified_by": result.verified_by}


def _backup_failed(stored: StoredFile, message: str) -> dict[str, Any]:
    max_attempts = settings.FILES_BACKUP_MAX_ATTEMPTS
    with transaction.atomic():
        StoredFile.objects.filter(pk=stored.pk).update(
            backup_state=BackupState.FAILED, backup_claimed_at=None, backup_last_error=message
        )
        given_up = stored.backup_attempts >= max_attempts
        if given_up:
            audit.record(
                None,
                stored.tenant,
                "files.file.backup_failed",
                stored,
                after={"attempts": stored.backup_attempts, "error": message},
            )
    logger.warning(
        "backup of file %s failed (attempt %d): %s", stored.pk, stored.backup_attempts, message
    )
    return {
        "file_id": stored.pk,
        "state": BackupState.FAILED,
        "error": message,
        "given_up": given_up,
    }


def backups_to_reconcile(now: datetime | None = None) -> list[int]:
    """Pending backups older than the threshold whose worker is not (or no longer) on them."""
    now = now or timezone.now()
    pending_after = timedelta(seconds=settings.FILES_BACKUP_PENDING_AFTER)
    stale = now - timedelta(seconds=settings.FILES_BACKUP_CLAIM_TTL)
    return list(
        StoredFile.objects.active()
        .filter(backup_state=BackupState.PENDING, uploaded_at__lt=now - pending_after)
        .filter(Q(backup_claimed_at__isnull=True) | Q(backup_claimed_at__lt=stale))
        .order_by("uploaded_at", "pk")
        .values_list("pk", flat=True)[: settings.FILES_SWEEP_BATCH]
    )


def failed_backups_to_retry(now: datetime | None = None, retry_after: int = 3600) -> list[int]:
    """Failed backups not given up yet whose last attempt is at least `retry_after` s old."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.FILES_BACKUP_CLAIM_TTL)
    return list(
        StoredFile.objects.active()
        .filter(
            backup_state=BackupState.FAILED,
            backup_attempts__lt=settings.FILES_BACKUP_MAX_ATTEMPTS,
        )
        .filter(
            Q(backup_last_attempt_at__isnull=True)
            | Q(backup_last_attempt_at__lt=now - timedelta(seconds=retry_after))
        )
        .filter(Q(backup_claimed_at__isnull=True) | Q(backup_claimed_at__lt=stale))
        .order_by("backup_last_attempt_at", "pk")
        .values_list("pk", flat=True)[: settings.FILES_SWEEP_BATCH]
    )


# --------------------------------------------------------------------------- expiry and purge


def expire_file(stored: StoredFile) -> bool:
    """Delete one expired file, primary and backup, exactly those objects. True if expired now."""
    try:
        s3.delete_exact(s3.primary_client(stored), stored.bucket, stored.key, stored.version_id)
        s3.delete_backup_object(stored)
    except AWS_ERRORS as exc:
        logger.warning(
            "expiry of file %s failed, the next sweep retries: %s",
            stored.pk,
            describe_aws_error(exc, account_name=stored.account.name, operation="s3:DeleteObject"),
        )
        return False
    now = timezone.now()
    with transaction.atomic():
        claimed = StoredFile.objects.filter(pk=stored.pk, deleted_at__isnull=True).update(
            deleted_at=now,
            delete_reason=DeleteReason.EXPIRED,
            purge_backup_after=now,
            backup_deleted_at=now if stored.restorable else None,
        )
        if not claimed:  # another sweep (or a person) got there first
            return False
        audit.record(
            None,
            stored.tenant,
            "files.file.expire",
            stored,
            before=stored.audit_dict(),
            after={"deleted": True, "backup_deleted": stored.restorable},
        )
    return True


def expire_due_files(today: date | None = None) -> dict[str, int]:
    """Expire every file whose date has come, including days the portal was down."""
    today = today or timezone.localdate()
    due = (
        StoredFile.objects.active()
        .filter(expires_on__lte=today)
        .select_related("tenant", "owner", "account", "backup_account")
        .order_by("expires_on", "pk")[: settings.FILES_SWEEP_BATCH]
    )
    expired = failed = 0
    for stored in due:
        if expire_file(stored):
            expired += 1
        else:
            failed += 1
    return {"expired": expired, "failed": failed}


def purge_due_backups(now: datetime | None = None) -> dict[str, int]:
    """Delete the backups of deleted files whose retention period is over."""
    now = now or timezone.now()
    due = (
        StoredFile.objects.filter(
            deleted_at__isnull=False,
            backup_deleted_at__isnull=True,
            purge_backup_after__lte=now,
            backup_state=BackupState.COPIED,
        )
        .select_related("tenant", "owner", "backup_account")
        .order_by("purge_backup_after", "pk")[: settings.FILES_SWEEP_BATCH]
    )
    purged = failed = 0
    for stored in due:
        try:
            s3.delete_backup_object(stored)
        except AWS_ERRORS as exc:
            failed += 1
            logger.warning("purging the backup of file %s failed: %s", stored.pk, exc)
            continue
        with transaction.atomic():
            if StoredFile.objects.filter(pk=stored.pk, backup_deleted_at__isnull=True).update(
                backup_deleted_at=now
            ):
                audit.record(
                    None,
                    stored.tenant,
                    "files.file.backup_purge",
                    stored,
                    after={"backup_bucket": stored.backup_bucket, "backup_key": stored.backup_key},
                )
                purged += 1
    return {"purged": purged, "failed": failed}
