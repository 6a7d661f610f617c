"""Sizing by listing: ListObjectVersions (streamed page by page), ListMultipartUploads, ListParts.

Buckets whose versioning was never enabled are listed with ListObjectsV2 instead (same sums,
lighter pages); its continuation token is saved like the version markers.

Exact per class, with noncurrent versions, delete markers and unfinished uploads. The listing is
resumable: after every few pages the markers and the partial sums are saved on a SizingJob, so a
worker that stops (or a time budget that runs out) continues where it was. Memory is flat in the
number of objects: one page (<= 1,000 entries) and the per-class sums are all that is held.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from accounts import aws

from .prices import PriceTable, load_table
from .usage import Accumulator, ClassUsage

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from storage.models import Bucket

    from .models import SizingJob

SAVE_EVERY_PAGES = 20
PAGE_SIZE = 1000  # S3's maximum per List* call


@dataclass
class ListingResult:
    classes: dict[str, ClassUsage]
    finished: bool
    pages: int
    entries: int


def _merged_entries(page: dict[str, Any]) -> list[tuple[str, bool, datetime, dict[str, Any]]]:
    """Versions and delete markers of one page in S3's order (key, then newest first).

    boto3 parses them into two lists; S3 returns them interleaved per key, newest first.
    """
    merged = [(v["Key"], False, v["LastModified"], v) for v in page.get("Versions", ())]
    merged += [(d["Key"], True, d["LastModified"], d) for d in page.get("DeleteMarkers", ())]
    merged.sort(key=lambda e: (e[0], not e[3].get("IsLatest", False), -e[2].timestamp()))
    return merged


def version_pages(
    s3: BaseClient, bucket: str, key_marker: str = "", version_id_marker: str = ""
) -> Iterator[dict[str, Any]]:
    """ListObjectVersions pages from the given markers (botocore's paginator cannot resume
    from a saved VersionIdMarker, so the markers are passed by hand)."""
    while True:
        params: dict[str, Any] = {"Bucket": bucket, "MaxKeys": PAGE_SIZE}
        if key_marker:
            params["KeyMarker"] = key_marker
            if version_id_marker:
                params["VersionIdMarker"] = version_id_marker
        page = s3.list_object_versions(**params)
        yield page
        if not page.get("IsTruncated"):
            return
        key_marker = page.get("NextKeyMarker", "")
        version_id_marker = page.get("NextVersionIdMarker", "")
        if not key_marker:
            return


def object_pages(s3: BaseClient, bucket: str, token: str = "") -> Iterator[dict[str, Any]]:
    """ListObjectsV2 pages from a saved continuation token (buckets never versioned)."""
    while True:
        params: dict[str, Any] = {"Bucket": bucket, "MaxKeys": PAGE_SIZE}
        if token:
            params["ContinuationToken"] = token
        page = s3.list_objects_v2(**params)
        yield page
        token = page.get("NextContinuationToken", "") if page.get("IsTruncated") else ""
        if not token:
            return


def never_versioned(s3: BaseClient, bucket: str) -> bool:
    """A bucket whose versioning was never enabled has no noncurrent versions and no delete
    markers: ListObjectsV2 gives the same sums with lighter pages. (Suspended still lists
    versions: older ones remain.)"""
    return not s3.get_bucket_versioning(Bucket=bucket).get("Status")


def add_object_page(acc: Accumulator, page: dict[str, Any]) -> int:
    contents = page.get("Contents", ())
    for obj in contents:
        acc.add_version(
            obj["Key"], int(obj.get("Size", 0)), obj.get("StorageClass"), True, obj["LastModified"]
        )
    return len(contents)


def _listing(
    s3: BaseClient, bucket: str, job: SizingJob
) -> Iterator[tuple[dict[str, Any], str, str]]:
    """(page, next key marker or continuation token, next version id marker)."""
    if job.phase == "objects":
        for page in object_pages(s3, bucket, job.key_marker):
            truncated = page.get("IsTruncated")
            yield page, page.get("NextContinuationToken", "") if truncated else "", ""
        return
    for page in version_pages(s3, bucket, job.key_marker, job.version_id_marker):
        truncated = page.get("IsTruncated")
        yield (
            page,
            page.get("NextKeyMarker", "") if truncated else "",
            page.get("NextVersionIdMarker", "") if truncated else "",
        )


def add_version_page(acc: Accumulator, page: dict[str, Any]) -> int:
    entries = _merged_entries(page)
    for key, is_marker, modified, entry in entries:
        if is_marker:
            acc.add_delete_marker(key, bool(entry.get("IsLatest")), modified)
        else:
            acc.add_version(
                key,
                int(entry.get("Size", 0)),
                entry.get("StorageClass"),
                bool(entry.get("IsLatest")),
                modified,
            )
    return len(entries)


def add_uploads(acc: Accumulator, s3: BaseClient, bucket: str) -> int:
    """Bytes of every unfinished multipart upload (ListMultipartUploads + ListParts)."""
    count = 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", ()):
            size = 0
            parts = s3.get_paginator("list_parts").paginate(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
            for part_page in parts:
                size += sum(int(p.get("Size", 0)) for p in part_page.get("Parts", ()))
            acc.add_upload(upload.get("StorageClass"), size, upload["Initiated"])
            count += 1
    return count


def size_bucket_by_listing(
    bucket: Bucket,
    *,
    table: PriceTable | None = None,
    now: datetime | None = None,
    s3: BaseClient | None = None,
) -> dict[str, ClassUsage]:
    """List the whole bucket in one go (CLI and small buckets; big ones go through a job)."""
    table = table or load_table()
    now = now or timezone.now()
    s3 = s3 or aws.client(bucket.account, "s3", region=bucket.region or None)
    acc = Accumulator(now, table)
    if never_versioned(s3, bucket.name):
        for page in object_pages(s3, bucket.name):
            add_object_page(acc, page)
    else:
        for page in version_pages(s3, bucket.name):
            add_version_page(acc, page)
    add_uploads(acc, s3, bucket.name)
    return acc.finish()


def run_job(job: SizingJob, *, budget_seconds: float | None = None) -> ListingResult:
    """Continue the job's listing from its saved markers; save progress as it goes.

    Returns finished=False when the time budget ran out (the caller re-enqueues the job).
    """
    from .models import SizingJob

    table = load_table()
    bucket = job.bucket
    now = job.created_at or timezone.now()
    acc = Accumulator.from_state(job.state, now, table)
    s3 = aws.client(bucket.account, "s3", region=bucket.region or None)
    started = time.monotonic()

    def save() -> None:
        job.state = acc.state()
        job.save(
            update_fields=[
                "state",
                "key_marker",
                "version_id_marker",
                "phase",
                "pages",
                "entries",
                "updated_at",
            ]
        )

    if job.phase == "versions" and not job.pages and never_versioned(s3, bucket.name):
        job.phase = "objects"
    if job.phase in ("versions", "objects"):
        add_page = add_object_page if job.phase == "objects" else add_version_page
        since_save = 0
        for page, next_marker, next_version_marker in _listing(s3, bucket.name, job):
            job.entries += add_page(acc, page)
            job.pages += 1
            since_save += 1
            job.key_marker, job.version_id_marker = next_marker, next_version_marker
            if since_save >= SAVE_EVERY_PAGES:
                save()
                since_save = 0
            if (
                job.key_marker
                and budget_seconds is not None
                and time.monotonic() - started > budget_seconds
            ):
                job.status = SizingJob.Status.QUEUED  # free for the next task to claim
                job.state = acc.state()
                job.save()
                return ListingResult(acc.classes, False, job.pages, job.entries)
        job.phase = "uploads"
        save()
    if job.phase == "uploads":
        add_uploads(acc, s3, bucket.name)
        job.phase = "done"
    classes = acc.finish()
    job.state = acc.state()
    job.status = SizingJob.Status.DONE
    job.finished_at = timezone.now()
    job.save()
    return ListingResult(classes, True, job.pages, job.entries)
