"""Per-object expiry: one exact object (one version in versioned buckets) deleted on a date.

Not a lifecycle rule: a prefix rule also matches every longer key, S3 only takes a Date at
midnight UTC, and a bucket holds at most 1,000 rules. The portal stores an ObjectExpiry row
instead and a periodic sweep deletes exactly that key + version from 00:00 UTC of the date,
including dates that passed while the portal was down. If the object changed since the date
was set (another ETag, or a newer version on top), the sweep keeps it, marks the row skipped
and mails whoever set the date; on unversioned buckets the delete itself is conditional on the
ETag, so an overwrite in the instant after the check is kept too.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

import audit
from accounts.errors import error_code

from .access import BrowseAccess
from .keys import BadInput
from .models import ObjectExpiry, target_digest
from .s3ops import BrowserError, aws_errors, head, is_versioned, s3_client, version_of_key

logger = logging.getLogger(__name__)

MAX_YEARS_AHEAD = 100


def utc_today() -> date:
    return datetime.now(UTC).date()


def parse_date(value: str | None, today: date | None = None) -> date:
    """'YYYY-MM-DD', tomorrow (UTC) or later; anything else BadInput."""
    value = (value or "").strip()
    today = today or utc_today()
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise BadInput(
            f"expires_on must be a date as YYYY-MM-DD, not {value[:40]!r} (send clear=1 to "
            "remove a date)."
        )
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"expires_on {value!r} is not a valid date.") from None
    if parsed <= today:
        raise BadInput(
            f"expires_on {value} is not in the future: objects are deleted from 00:00 UTC of "
            f"the date, so choose {today + timedelta(days=1)} (UTC) or later."
        )
    if parsed.year > today.year + MAX_YEARS_AHEAD:
        raise BadInput(f"expires_on is more than {MAX_YEARS_AHEAD} years away.")
    return parsed


def pending_for(access: BrowseAccess, key: str) -> list[ObjectExpiry]:
    return list(
        ObjectExpiry.objects.filter(
            bucket=access.bucket, key=key, state=ObjectExpiry.State.PENDING
        ).order_by("expires_on")
    )


def set_expiry(access: BrowseAccess, key: str, version_id: str, expires_on: date) -> ObjectExpiry:
    """Record (or move) the date of exactly this object; the ETag and version are read now."""
    bucket = access.bucket
    client = s3_client(bucket)
    if version_id:
        named = version_of_key(client, bucket, key, version_id)  # never another key's version
        if named["delete_marker"]:
            raise BadInput("That version is a delete marker: there is no content to expire.")
    answer = head(client, bucket, key, version_id)
    current_version = answer.get("VersionId") or ""
    if current_version == "null":
        current_version = ""  # unversioned bucket, or written before versioning: the one copy
    if not version_id and not current_version and is_versioned(client, bucket):
        current_version = "null"
    version = version_id or current_version
    etag = answer.get("ETag", "")
    was_current = True
    if version_id:  # a version named explicitly: is it the current one?
        latest = head_or_none(client, bucket, key)
        was_current = latest is not None and (latest.get("VersionId") or "null") == version_id
    now = timezone.now()
    digest = target_digest(bucket.pk, key, version)
    with transaction.atomic():
        existing = (
            ObjectExpiry.objects.select_for_update()
            .filter(digest=digest, state=ObjectExpiry.State.PENDING)
            .first()
        )
        if existing is not None:
            before = existing.audit_dict()
            existing.expires_on, existing.expected_etag = expires_on, etag
            existing.was_current = was_current
            existing.updated_by, existing.updated_at = access.user, now
            existing.save()
            audit.record(
                access.user,
                access.tenant,
                "browser.expiry.set",
                existing,
                before=before,
                after=existing.audit_dict(),
            )
            return existing
        row = ObjectExpiry(
            bucket=bucket,
            key=key,
            version_id=version,
            expected_etag=etag,
            was_current=was_current,
            expires_on=expires_on,
            created_by=access.user,
            updated_by=access.user,
            created_at=now,
            updated_at=now,
        )
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            raise BadInput(
                "Another date was just set for this object; reload and retry.", 409
            ) from None
        audit.record(access.user, access.tenant, "browser.expiry.set", row, after=row.audit_dict())
    return row


def clear_expiry(access: BrowseAccess, key: str, version_id: str = "") -> int:
    """Clear the pending date(s) of key (of that version only, when one is named)."""
    rows = ObjectExpiry.objects.filter(
        bucket=access.bucket, key=key, state=ObjectExpiry.State.PENDING
    )
    if version_id:
        rows = rows.filter(version_id=version_id)
    cleared = 0
    with transaction.atomic():
        for row in rows.select_for_update():
            before = row.audit_dict()
            row.state, row.updated_by, row.updated_at = (
                ObjectExpiry.State.CLEARED,
                access.user,
                timezone.now(),
            )
            row.save()
            audit.record(
                access.user,
                access.tenant,
                "browser.expiry.clear",
                row,
                before=before,
                after={"state": row.state},
            )
            cleared += 1
    return cleared


def head_or_none(client: Any, bucket: Any, key: str) -> dict[str, Any] | None:
    try:
        return head(client, bucket, key)
    except BrowserError as exc:
        if exc.status == 404:
            return None
        raise


# --------------------------------------------------------------------------- the sweep


def _changed(row: ObjectExpiry, client: Any) -> str | None:
    """Why the object must not be deleted (it changed since the date was set), or None."""
    bucket = row.bucket
    try:
        answer = head(
            client, bucket, row.key, "" if row.version_id in ("", "null") else row.version_id
        )
    except BrowserError as exc:
        if exc.status == 404:
            return "the object (that version) no longer exists"
        raise
    if answer.get("ETag", "") != row.expected_etag:
        return f"its content changed (ETag {answer.get('ETag', '')} instead of {row.expected_etag})"
    if row.version_id and row.was_current:
        try:
            current = head(client, bucket, row.key) if row.version_id != "null" else answer
        except BrowserError as exc:
            if exc.status == 404:
                return "the object was deleted since (a delete marker is on top of that version)"
            raise
        if (current.get("VersionId") or "null") != row.version_id:
            return f"a newer version ({current.get('VersionId')}) was written over it"
    return None


def _notify(row: ObjectExpiry, reason: str) -> None:
    user = row.created_by
    if user is None or not user.email:
        return
    send_mail(
        f"[s3portal] Expiry of {row.key[:80]} skipped",
        (
            f"The object s3://{row.bucket.name}/{row.key} (version {row.version_id or '-'}) was "
            f"due to be deleted on {row.expires_on} (00:00 UTC), but {reason}. Nothing was "
            "deleted. Set a new date on its object page if it should still expire."
        ),
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
        fail_silently=True,
    )


def _finish(row: ObjectExpiry, state: str, note: str, action: str) -> bool:
    with transaction.atomic():
        claimed = ObjectExpiry.objects.filter(pk=row.pk, state=ObjectExpiry.State.PENDING).update(
            state=state, note=note, finished_at=timezone.now(), updated_at=timezone.now()
        )
        if not claimed:  # cleared or finished meanwhile
            return False
        row.state, row.note = state, note
        audit.record(
            None, row.bucket.account.tenant, action, row, after={**row.audit_dict(), "note": note}
        )
    return True


def _delete(client: Any, row: ObjectExpiry) -> str | None:
    """Delete exactly the object the date was set on; the reason it was kept, or None.

    A version id names content that never changes. Without one (an unversioned bucket) the key
    could be overwritten between the check above and the delete, so the delete is conditional
    (If-Match on the ETag: S3 answers 412 and deletes nothing if the content changed). A store
    without conditional deletes (501 NotImplemented) gets the plain delete the check allowed.
    """
    bucket = row.bucket
    params: dict[str, Any] = {"Bucket": bucket.name, "Key": row.key}
    if row.version_id:
        params["VersionId"] = row.version_id  # exactly that version, never a delete marker
    elif row.expected_etag:
        params["IfMatch"] = row.expected_etag
    operation = "s3:DeleteObjectVersion" if row.version_id else "s3:DeleteObject"
    with aws_errors(bucket, operation, row.key):
        try:
            client.delete_object(**params)
        except ClientError as exc:
            code = error_code(exc)
            if code == "PreconditionFailed" and "IfMatch" in params:
                return (
                    "its content changed just before the delete (S3 refused the conditional delete)"
                )
            if code == "NotImplemented" and "IfMatch" in params:
                del params["IfMatch"]
                client.delete_object(**params)
                return None
            raise
    return None


def expire_one(row: ObjectExpiry) -> str:
    """Carry out one due expiry: 'done', 'skipped', 'failed' (retried next sweep) or 'gone'."""
    bucket = row.bucket
    if bucket.gone_at is not None:
        _finish(
            row, ObjectExpiry.State.SKIPPED, "the bucket no longer exists", "browser.expiry.skipped"
        )
        return "skipped"
    client = s3_client(bucket)
    try:
        # kept if it changed since the date was set, or in the instant before the delete
        reason = _changed(row, client) or _delete(client, row)
        if reason is not None:
            if _finish(
                row, ObjectExpiry.State.SKIPPED, f"Not deleted: {reason}.", "browser.expiry.skipped"
            ):
                _notify(row, reason)
            return "skipped"
    except BrowserError as exc:
        ObjectExpiry.objects.filter(pk=row.pk).update(attempts=row.attempts + 1, note=exc.message)
        logger.warning(
            "expiry %s of s3://%s/%s failed: %s", row.pk, bucket.name, row.key, exc.message
        )
        return "failed"
    _finish(row, ObjectExpiry.State.DONE, "Deleted.", "browser.expiry.done")
    return "done"


def due_rows(today: date | None = None) -> list[int]:
    """Ids of pending expiries whose date has come, oldest first (days missed included)."""
    today = today or utc_today()
    return list(
        ObjectExpiry.objects.filter(state=ObjectExpiry.State.PENDING, expires_on__lte=today)
        .order_by("expires_on", "pk")
        .values_list("pk", flat=True)[: settings.BROWSER_SWEEP_BATCH]
    )


def sweep(today: date | None = None) -> dict[str, int]:
    counts = {"done": 0, "skipped": 0, "failed": 0}
    for pk in due_rows(today):
        row = (
            ObjectExpiry.objects.select_related("bucket__account__tenant", "created_by")
            .filter(pk=pk, state=ObjectExpiry.State.PENDING)
            .first()
        )
        if row is not None:
            counts[expire_one(row)] += 1
    return counts
