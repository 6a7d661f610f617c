"""Everything that changes files: uploads, downloads, deletes, expiry, restores (backup copies
themselves are made by :mod:`.backup_jobs`).

Views, tasks, the admin and the management command all go through these functions. Each change
is audited in the transaction that records it; S3 is called before the database is changed, so a
failed S3 call leaves the row as it was. Object keys are built here, never taken from a browser.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.utils import timezone

import audit
from accounts import aws
from accounts.errors import describe_aws_error, error_code
from accounts.models import AwsAccount, Tenant

from .backup import CopyVerificationError, server_side_copy
from .download import (
    DEFAULT_NAME_BYTES,
    ObjectStream,
    content_disposition,
    safe_object_name,
    stream_object,
)
from .models import BackupState, DeleteReason, FileSpace, StoredFile
from .multipart import MAX_PARTS, MIN_PART_SIZE, UploadedObject

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
# S3 user metadata is limited to 2 KB in all; the percent-encoded name gets at most this much.
_NAME_METADATA_CHARS = 1536
_KEY_LIMIT = 1024


class FilesError(Exception):
    """A failure with a message a person can act on, and the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --------------------------------------------------------------------------- where files live


def file_space_for(tenant: Tenant | int) -> FileSpace | None:
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return (
        FileSpace.objects.select_related("account", "backup_account", "tenant")
        .filter(tenant_id=tenant_id)
        .first()
    )


def s3_client(account: AwsAccount, region: str) -> Any:
    return aws.client(account, "s3", region=region or None)


def primary_client(stored: StoredFile) -> Any:
    return s3_client(stored.account, stored.region)


def backup_client(stored: StoredFile) -> Any:
    assert stored.backup_account is not None
    return s3_client(stored.backup_account, stored.backup_region)


def part_size_for(max_file_size: int) -> int:
    """The smallest whole-MiB part size >= the default that fits max_file_size in 10,000 parts."""
    base = max(settings.FILES_UPLOAD_PART_SIZE, MIN_PART_SIZE)
    needed = math.ceil(max_file_size / MAX_PARTS / MiB) * MiB
    return max(base, needed)


def object_key(space: FileSpace, user_id: int, safe_name: str) -> str:
    """`<prefix>/users/<user id>/<unique id>/<safe name>`: unique, so nothing is overwritten."""
    head = f"{space.prefix}/" if space.prefix else ""
    key = f"{head}users/{int(user_id)}/{uuid.uuid4().hex}/"
    room = _KEY_LIMIT - len(key.encode("utf-8"))
    return key + safe_object_name(safe_name, max_bytes=min(DEFAULT_NAME_BYTES, room))


def object_metadata(display_name: str, user_id: int, tenant: Tenant) -> dict[str, str]:
    """S3 user metadata (ASCII only): the original name percent-encoded, owner and tenant."""
    encoded = ""
    for ch in display_name:
        piece = quote(ch, safe=" !#$&'()*+,-.;=@[]^_`{}~")
        if len(encoded) + len(piece) > _NAME_METADATA_CHARS:
            break
        encoded += piece
    return {
        "original-name": encoded,
        "original-name-encoding": "percent-utf-8",
        "owner-id": str(int(user_id)),
        "tenant": tenant.slug,
    }


# --------------------------------------------------------------------------- checks


def check_bucket(account: AwsAccount, bucket: str, region: str = "") -> str:
    """HeadBucket with the account's credentials; the bucket's region, or FilesError."""
    try:
        response = s3_client(account, region).head_bucket(Bucket=bucket)
    except (ClientError, BotoCoreError) as exc:
        code = error_code(exc)
        if code in {"404", "NoSuchBucket", "NotFound"}:
            message = f"bucket {bucket!r} does not exist (as seen by account {account.name!r})"
        elif code in {"403", "AccessDenied", "Forbidden"}:
            message = (
                f"the credentials of account {account.name!r} lack s3:ListBucket on bucket "
                f"{bucket!r} (HeadBucket was refused)"
            )
        elif code in {"301", "PermanentRedirect"}:
            message = f"bucket {bucket!r} is in another region: set its region explicitly"
        else:
            message = describe_aws_error(
                exc, account_name=account.name, operation="s3:ListBucket", resource=bucket
            )
        raise FilesError(message) from exc
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return str(response.get("BucketRegion") or headers.get("x-amz-bucket-region") or region)


def check_file_space(space: FileSpace) -> list[str]:
    """Both buckets reachable with their accounts; the problems found (empty: all good)."""
    problems = []
    for label, account, bucket, region in (
        ("primary", space.account, space.bucket, space.region),
        ("backup", space.backup_account, space.backup_bucket, space.backup_region),
    ):
        try:
            check_bucket(account, bucket, region)
        except FilesError as exc:
            problems.append(f"{label} bucket: {exc.message}")
    return problems


@transaction.atomic
def save_file_space(actor: Any, space: FileSpace) -> FileSpace:
    """Validate, save and audit a new or changed file space."""
    before = None
    if space.pk:
        stored = FileSpace.objects.select_related("account", "backup_account").get(pk=space.pk)
        before = stored.audit_dict()
    space.full_clean()
    created = space.pk is None
    space.save()
    audit.record(
        actor,
        space.tenant,
        "files.space.create" if created else "files.space.update",
        space,
        before=before,
        after=space.audit_dict(),
    )
    return space


# --------------------------------------------------------------------------- uploads


@dataclass(frozen=True)
class PendingUpload:
    """An object the upload handler stored, with the name the person gave it."""

    uploaded: UploadedObject
    display_name: str
    part_size: int


def enqueue_backup(file_id: int) -> bool:
    """Send the backup task; a broker outage is logged, and the reconcile task catches up."""
    from .tasks import backup_file

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


def record_uploads(
    actor: Any, tenant: Tenant, space: FileSpace, uploads: list[PendingUpload]
) -> list[StoredFile]:
    """Create the StoredFile rows (audited) and enqueue their backups once committed."""
    created: list[StoredFile] = []
    with transaction.atomic():
        for item in uploads:
            obj = item.uploaded
            stored = StoredFile.objects.create(
                tenant=tenant,
                owner=actor,
                original_name=item.display_name,
                account=space.account,
                region=space.primary_region,
                bucket=obj.bucket,
                key=obj.key,
                version_id=obj.version_id or "",
                size=obj.size,
                content_type=obj.content_type,
                sha256=obj.sha256,
                etag=obj.etag,
                part_size=item.part_size if obj.size >= item.part_size else 0,
                backup_account=space.backup_account,
                backup_region=space.backup_bucket_region,
                backup_bucket=space.backup_bucket,
                backup_key=obj.key,
            )
            audit.record(actor, tenant, "files.file.upload", stored, after=stored.audit_dict())
            created.append(stored)
            transaction.on_commit(lambda pk=stored.pk: enqueue_backup(pk))
    return created


# --------------------------------------------------------------------------- downloads


@dataclass(frozen=True)
class DownloadTarget:
    """Either a presigned URL to redirect to, or a stream to send through the portal."""

    url: str | None = None
    stream: ObjectStream | None = None


def download(actor: Any, stored: StoredFile, space: FileSpace | None) -> DownloadTarget:
    """A short-lived presigned URL (or a stream when browsers cannot reach S3); audited."""
    via_portal = space is not None and not space.browser_can_reach_s3
    # SigV4 presigned URLs: required in newer regions, and they carry X-Amz-Expires.
    client = aws.client(
        stored.account, "s3", region=stored.region or None, signature_version="s3v4"
    )
    try:
        if via_portal:
            stream = stream_object(
                client, stored.bucket, stored.key, version_id=stored.version_id or None
            )
            target = DownloadTarget(stream=stream)
        else:
            ttl = settings.FILES_DOWNLOAD_URL_TTL
            params: dict[str, Any] = {
                "Bucket": stored.bucket,
                "Key": stored.key,
                "ResponseContentDisposition": content_disposition(stored.original_name),
                "ResponseContentType": stored.content_type,
            }
            if stored.version_id:
                params["VersionId"] = stored.version_id
            # Look first: a missing object is the portal's clear page, never S3's XML error
            # in the browser after the redirect.
            head: dict[str, Any] = {"Bucket": stored.bucket, "Key": stored.key}
            if stored.version_id:
                head["VersionId"] = stored.version_id
            client.head_object(**head)
            url = client.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)
            target = DownloadTarget(url=url)
    except (ClientError, BotoCoreError) as exc:
        if error_code(exc) in {"NoSuchKey", "404", "NoSuchVersion", "NoSuchBucket"}:
            raise FilesError(
                f"The file {stored.original_name!r} is missing from storage "
                f"(s3://{stored.bucket}/{stored.key} is not there: deleted outside the portal, "
                "or the storage was reset). A tenant admin can restore it from the backup.",
                status=404,
            ) from exc
        raise FilesError(
            describe_aws_error(
                exc,
                account_name=stored.account.name,
                operation="s3:GetObject",
                resource=f"s3://{stored.bucket}/{stored.key}",
            ),
            status=502,
        ) from exc
    # "download link issued": never the URL itself, only how it was served.
    audit.record(
        actor,
        stored.tenant,
        "files.file.download",
        stored,
        after={
            "mode": "stream" if via_portal else "presigned",
            "expires_in": None if via_portal else settings.FILES_DOWNLOAD_URL_TTL,
        },
    )
    return target


# --------------------------------------------------------------------------- delete / expiry


def _delete_exact(client: Any, bucket: str, key: str, version_id: str) -> None:
    """Delete exactly that object (that version on versioned buckets), nothing by prefix."""
    kwargs = {"Bucket": bucket, "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    client.delete_object(**kwargs)


def _s3_failure(exc: Exception, account: AwsAccount, operation: str, resource: str) -> FilesError:
    return FilesError(
        describe_aws_error(exc, account_name=account.name, operation=operation, resource=resource),
        status=502,
    )


# A file deleted before its backup was made would not be restorable: below this size the delete
# makes the (server-side, idempotent) backup copy first. Larger ones are deleted without waiting.
INLINE_BACKUP_LIMIT = 1024 * MiB


def _backup_before_delete(stored: StoredFile) -> None:
    if stored.backup_state == BackupState.COPIED or stored.size > INLINE_BACKUP_LIMIT:
        return
    from .backup_jobs import perform_backup  # backup_jobs builds on this module

    try:
        perform_backup(stored.pk)
    except Exception:
        logger.warning("backup before deleting file %s failed", stored.pk, exc_info=True)
    stored.refresh_from_db()


def delete_file(actor: Any, stored: StoredFile, space: FileSpace | None) -> StoredFile:
    """Delete the primary object now; the backup goes after the tenant's retention period."""
    if stored.deleted_at is not None:
        raise FilesError("This file is already deleted.", status=404)
    _backup_before_delete(stored)
    try:
        _delete_exact(primary_client(stored), stored.bucket, stored.key, stored.version_id)
    except (ClientError, BotoCoreError) as exc:
        raise _s3_failure(
            exc, stored.account, "s3:DeleteObject", f"s3://{stored.bucket}/{stored.key}"
        ) from exc
    retention = space.delete_retention_days if space is not None else 30
    now = timezone.now()
    with transaction.atomic():
        before = stored.audit_dict()
        stored.deleted_at = now
        stored.deleted_by = actor if getattr(actor, "pk", None) else None
        stored.delete_reason = DeleteReason.USER
        stored.purge_backup_after = now + timedelta(days=retention)
        stored.save(
            update_fields=["deleted_at", "deleted_by", "delete_reason", "purge_backup_after"]
        )
        kept = stored.purge_backup_after.isoformat() if stored.restorable else None
        after = {**stored.audit_dict(), "backup_kept_until": kept}
        audit.record(actor, stored.tenant, "files.file.delete", stored, before=before, after=after)
    return stored


def parse_expiry(value: str | None, today: date | None = None) -> date | None:
    """'' -> None (no expiry); 'YYYY-MM-DD' today or later -> date; anything else FilesError."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise FilesError(f"expires_on must be a date as YYYY-MM-DD or empty, not {value[:40]!r}.")
    try:
        parsed = date.fromisoformat(value)
    except ValueError as exc:
        raise FilesError(f"expires_on {value!r} is not a valid date.") from exc
    today = today or timezone.localdate()
    if parsed < today:
        raise FilesError(f"expires_on {value} is in the past; choose today or a later date.")
    if parsed > today + timedelta(days=3650 * 10):
        raise FilesError("expires_on is more than 100 years away.")
    return parsed


def set_expiry(actor: Any, stored: StoredFile, expires_on: date | None) -> StoredFile:
    with transaction.atomic():
        before = stored.audit_dict()
        stored.expires_on = expires_on
        stored.save(update_fields=["expires_on"])
        audit.record(
            actor,
            stored.tenant,
            "files.file.expiry",
            stored,
            before={"expires_on": before["expires_on"]},
            after={"expires_on": expires_on.isoformat() if expires_on else None},
        )
    return stored


def delete_backup_object(stored: StoredFile) -> None:
    """Delete the file's backup copy (that exact version), if one was made."""
    if stored.backup_state == BackupState.COPIED and stored.backup_key and stored.backup_account:
        _delete_exact(
            backup_client(stored), stored.backup_bucket, stored.backup_key, stored.backup_version_id
        )


def expire_file(stored: StoredFile) -> bool:
    """Delete one expired file, primary and backup, exactly those objects. True if expired now."""
    try:
        _delete_exact(primary_client(stored), stored.bucket, stored.key, stored.version_id)
        delete_backup_object(stored)
    except (ClientError, BotoCoreError) as exc:
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
            delete_backup_object(stored)
        except (ClientError, BotoCoreError) as exc:
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


# --------------------------------------------------------------------------- restore


def restore_file(actor: Any, stored: StoredFile) -> StoredFile:
    """Copy the backup back to the primary key (server-side) and undo a delete; audited."""
    if not stored.restorable:
        raise FilesError(
            f"{stored.original_name}: there is no backup to restore from "
            f"(backup {stored.get_backup_state_display().lower()}"
            f"{', already purged' if stored.backup_deleted_at else ''}).",
            status=409,
        )
    try:
        result = server_side_copy(
            backup_client(stored),
            stored.backup_bucket,
            stored.backup_key,
            primary_client(stored),
            stored.bucket,
            stored.key,
            expected_size=stored.size,
            expected_sha256=stored.sha256,
            src_version_id=stored.backup_version_id or None,
            part_size=stored.part_size,
        )
    except (ClientError, BotoCoreError) as exc:
        raise _s3_failure(
            exc, stored.account, "s3:GetObject (backup) and s3:PutObject", stored.key
        ) from exc
    except CopyVerificationError as exc:
        raise FilesError(f"{stored.original_name}: the restored copy failed checks: {exc}") from exc
    with transaction.atomic():
        before = stored.audit_dict()
        stored.version_id = result.version_id or ""
        stored.deleted_at = None
        stored.deleted_by = None
        stored.delete_reason = ""
        stored.purge_backup_after = None
        stored.save(
            update_fields=[
                "version_id",
                "deleted_at",
                "deleted_by",
                "delete_reason",
                "purge_backup_after",
            ]
        )
        audit.record(
            actor,
            stored.tenant,
            "files.file.restore",
            stored,
            before=before,
            after=stored.audit_dict(),
        )
    return stored


def retry_backup(actor: Any, stored: StoredFile) -> bool:
    """Admin: start the backup over (attempts reset) if it is not copied and the file exists."""
    if stored.deleted_at is not None or stored.backup_state == BackupState.COPIED:
        return False
    with transaction.atomic():
        StoredFile.objects.filter(pk=stored.pk).update(
            backup_state=BackupState.PENDING, backup_attempts=0, backup_claimed_at=None
        )
        audit.record(
            actor,
            stored.tenant,
            "files.file.backup_retry",
            stored,
            before={"backup_state": stored.backup_state, "attempts": stored.backup_attempts},
            after={"backup_state": BackupState.PENDING, "attempts": 0},
        )
        transaction.on_commit(lambda: enqueue_backup(stored.pk))
    return True
