"""The files feature's knobs, read from Django settings (see s3portal/settings.py, FILES_*).

Every value has a default here too, so the app behaves the same when a setting is absent.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

MiB = 1024 * 1024

DEFAULTS: dict[str, Any] = {
    # Presigned download URLs live this long (seconds).
    "FILES_DOWNLOAD_URL_TTL": 300,
    "FILES_PER_PAGE": 25,
    # A backup still pending after this many seconds is re-enqueued by the reconcile task.
    "FILES_BACKUP_PENDING_AFTER": 600,
    # A claimed backup whose worker vanished may be claimed again after this many seconds.
    "FILES_BACKUP_CLAIM_TTL": 3600,
    # Retries of transient errors inside one task run (with exponential backoff and jitter).
    "FILES_BACKUP_TASK_RETRIES": 3,
    "FILES_BACKUP_RETRY_BACKOFF": 30,
    "FILES_BACKUP_RETRY_BACKOFF_MAX": 900,
    # After this many attempts in all, a failed backup is given up (audited once).
    "FILES_BACKUP_MAX_ATTEMPTS": 12,
    # How many rows one periodic run handles at most (the next run takes the rest).
    "FILES_SWEEP_BATCH": 500,
    # When a file is too large and at most this much of the body is left, the portal reads and
    # discards it so that the browser receives the 413 page; above it, the connection is reset.
    "FILES_TOO_LARGE_DRAIN_LIMIT": 64 * MiB,
    # Bytes per read from the request body while streaming an upload.
    "FILES_UPLOAD_CHUNK_SIZE": 1 * MiB,
    # Multipart part size for uploads (raised automatically to stay within 10,000 parts).
    "FILES_UPLOAD_PART_SIZE": 8 * MiB,
    # Send each part from a helper thread while the next is read (two parts in memory).
    "FILES_UPLOAD_BACKGROUND_PARTS": True,
    # Send S3 SHA-256 flexible checksums with uploads (turn off for stores that reject them).
    "FILES_S3_CHECKSUMS": True,
}


def get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
