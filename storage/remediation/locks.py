"""One configuration change at a time per bucket, across web and Celery processes.

A change re-reads the bucket, checks it is still what the dry run showed, then writes. S3 has
no conditional write for bucket configuration (lifecycle, policy, encryption ...), so two applies
that both re-read before either writes would each pass the check and the second would silently
replace the first's rules. Holding this lock from the re-read to the end of the write makes the
second apply re-read after the first wrote: its check then fails with "changed since your dry
run" and nothing is lost.

The lock is a row (BucketChangeLock) inserted under a primary key per bucket: PostgreSQL and
SQLite both refuse a second insert. It is taken in its own transaction (autocommit), so other
processes see it at once; a crashed holder's row expires after `LOCK_SECONDS`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from storage.models import Bucket, BucketChangeLock
from storage.remediation.base import FixConflict

LOCK_SECONDS = 300  # longer than any single configuration write with its retries


class BucketBusy(FixConflict):
    """Another change to the bucket is being applied right now."""


def _take(bucket: Bucket, token: str, what: str) -> bool:
    now = timezone.now()
    expires = now + timedelta(seconds=LOCK_SECONDS)
    try:
        with transaction.atomic():
            BucketChangeLock.objects.create(
                bucket=bucket, token=token, taken_at=now, expires_at=expires, what=what[:100]
            )
        return True
    except IntegrityError:
        # held: take it over only if its holder is gone (expired)
        return bool(
            BucketChangeLock.objects.filter(bucket=bucket, expires_at__lt=now).update(
                token=token, taken_at=now, expires_at=expires, what=what[:100]
            )
        )


@contextmanager
def bucket_change_lock(bucket: Bucket, what: str = "") -> Iterator[None]:
    """Hold the bucket's change lock; raises BucketBusy (nothing changed) if another holds it."""
    token = uuid.uuid4().hex
    if not _take(bucket, token, what):
        held = BucketChangeLock.objects.filter(bucket=bucket).first()
        doing = f" ({held.what})" if held and held.what else ""
        raise BucketBusy(
            f"Another change to bucket {bucket.name}{doing} is being applied right now: wait a "
            "moment, then review again. Nothing was changed."
        )
    try:
        yield
    finally:
        BucketChangeLock.objects.filter(bucket=bucket, token=token).delete()
