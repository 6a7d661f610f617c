"""What people do with files: uploads, downloads, deletes, expiry dates, restores.

The S3 calls themselves are in :mod:`.s3`; background work (backups, the expiry sweep, purges)
in :mod:`.jobs`, run by :mod:`.tasks`.

Views, tasks, the admin and the management command all go through these functions. Each change
is audited in the transaction that records it; S3 is called before the database is changed, so a
failed S3 call leaves the row as it was. Object keys are built here, never taken from a browser.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import audit
from accounts import aws
from accounts.errors import AWS_ERRORS, describe_aws_error, error_code
from accounts.models import Tenant
from accounts.users import User

from . import jobs, s3
from .backup import CopyVerificationError, server_side_copy
from .download import (
    DEFAULT_NAME_BYTES,
    ObjectStream,
    content_disposition,
    safe_object_name,
    stream_object,
)
from .errors import FilesError as FilesError  # re-exported: callers catch services.FilesError
from .models import BackupState, DeleteReason, FileSpace, StoredFile
from .models import file_space_for as file_space_for
from .multipart import MAX_PARTS, MIN_PART_SIZE, UploadedObject
from .s3 import check_bucket as check_bucket
from .s3 import s3_client as s3_client
from .tasks import enqueue_backup

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
# S3 user metadata is limited to 2 KB in all; the percent-encoded name gets at most this much.
_NAME_METADATA_CHARS = 1536
_KEY_LIMIT = 1024


# --------------------------------------------------------------------------- where files live


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
def save_file_space(actor: User | None, space: FileSpace) -> FileSpace:
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


@transaction.atomic
def delete_file_space(actor: User | None, space: FileSpace) -> None:
    """Delete a file space (its files' rows stay: they name their own buckets); audited."""
    audit.record(actor, space.tenant, "files.space.delete", space, before=space.audit_dict())
    space.delete()


# --------------------------------------------------------------------------- uploads


@dataclass(frozen=True)
class PendingUpload:
    """An object the upload handler stored, with the name the person gave it."""

    uploaded: UploadedObject
    display_name: str
    part_size: int


def record_uploads(
    actor: User, tenant: Tenant, space: FileSpace, uploads: list[PendingUpload]
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
            transaction.on_commit(partial(enqueue_backup, stored.pk))
    return created


# --------------------------------------------------------------------------- downloads


@dataclass(frozen=True)
class DownloadTarget:
    """Either a presigned URL to redirect to, or a stream to send through the portal."""

    url: str | None = None
    stream: ObjectStream | None = None


def download(actor: User, stored: StoredFile, space: FileSpace | None) -> DownloadTarget:
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
    except AWS_ERRORS as exc:
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


# A file deleted before its backup was made would not be restorable: below this size the delete
# makes the (server-side, idempotent) backup copy first. Larger ones are deleted without waiting.
INLINE_BACKUP_LIMIT = 1024 * MiB


def _backup_before_delete(stored: StoredFile) -> None:
    if stored.backup_state == BackupState.COPIED or stored.size > INLINE_BACKUP_LIMIT:
        return
    try:
        jobs.perform_backup(stored.pk)
    except Exception:
        logger.warning("backup before deleting file %s failed", stored.pk, exc_info=True)
    stored.refresh_from_db()


def delete_file(actor: User, stored: StoredFile, space: FileSpace | None) -> StoredFile:
    """Delete the primary object now; the backup goes after the tenant's retention period."""
    if stored.deleted_at is not None:
        raise FilesError("This file is already deleted.", status=404)
    _backup_before_delete(stored)
    try:
        s3.delete_exact(s3.primary_client(stored), stored.bucket, stored.key, stored.version_id)
    except AWS_ERRORS as exc:
        raise s3.s3_failure(
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


def set_expiry(actor: User, stored: StoredFile, expires_on: date | None) -> StoredFile:
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


# --------------------------------------------------------------------------- restore


def restore_file(actor: User, stored: StoredFile) -> StoredFile:
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
            s3.backup_client(stored),
            stored.backup_bucket,
            stored.backup_key,
            s3.primary_client(stored),
            stored.bucket,
            stored.key,
            expected_size=stored.size,
            expected_sha256=stored.sha256,
            src_version_id=stored.backup_version_id or None,
            part_size=stored.part_size,
        )
    except AWS_ERRORS as exc:
        raise s3.s3_failure(
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


def retry_backup(actor: User, stored: StoredFile) -> bool:
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
