"""Measure buckets (CloudWatch or listing, chosen per account) and write BucketUsage rows.

Rows are replaced per (bucket, day): measuring a day again gives the same rows, never more.
Rows written are O(buckets x classes), never O(objects).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import BucketUsage, SizingJob, Source
from .usage import ClassUsage

if TYPE_CHECKING:
    from accounts.models import AwsAccount
    from storage.models import Bucket

logger = logging.getLogger(__name__)

USAGE_FIELDS = [
    "bytes",
    "object_count",
    "noncurrent_bytes",
    "noncurrent_objects",
    "delete_markers",
    "incomplete_upload_bytes",
    "incomplete_uploads",
    "class_overhead_bytes",
    "standard_overhead_bytes",
    "monitored_objects",
    "noncurrent_expirable_bytes",
    "expired_delete_markers",
    "stale_upload_bytes",
    "stale_uploads",
    "old_current_bytes",
    "old_current_objects",
]


@dataclass
class SizingReport:
    account_id: int
    day: date
    rows: list[BucketUsage] = field(default_factory=list)
    pending_jobs: list[int] = field(default_factory=list)  # listings that must continue
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def active_buckets(account: AwsAccount) -> list[Bucket]:
    from storage.models import Bucket

    return list(
        Bucket.objects.filter(account=account, gone_at__isnull=True)
        .select_related("account")
        .order_by("name")
    )


def save_usage(
    bucket: Bucket,
    day: date,
    classes: dict[str, ClassUsage],
    source: str,
    *,
    bucket_objects: int | None = None,
    measured_at: datetime | None = None,
) -> list[BucketUsage]:
    """Replace the bucket's rows of `day` with these (one per class; an empty bucket keeps one
    STANDARD row of zeros so "measured, empty" differs from "never measured")."""
    measured_at = measured_at or timezone.now()
    if not classes:
        classes = {"STANDARD": ClassUsage()}
    rows = []
    for storage_class, usage in sorted(classes.items()):
        values = asdict(usage)
        if source == Source.CLOUDWATCH:
            # CloudWatch counts objects per bucket only (AllStorageTypes), never per class.
            values["object_count"] = bucket_objects if len(classes) == 1 else None
            values["monitored_objects"] = None
        rows.append(
            BucketUsage(
                bucket=bucket,
                day=day,
                storage_class=storage_class,
                source=source,
                measured_at=measured_at,
                bucket_objects=bucket_objects,
                **{k: values[k] for k in USAGE_FIELDS},
            )
        )
    with transaction.atomic():
        BucketUsage.objects.filter(bucket=bucket, day=day).delete()
        BucketUsage.objects.bulk_create(rows)
    return rows


def uses_listing(account: AwsAccount) -> bool:
    """S3-compatible endpoints have no CloudWatch storage metrics."""
    return bool(account.endpoint_url)


def size_account(
    account: AwsAccount,
    *,
    source: str | None = None,
    day: date | None = None,
    budget_seconds: float | None = None,
    bucket_names: list[str] | None = None,
) -> SizingReport:
    """Measure every bucket of the account. `source` None: CloudWatch for AWS accounts, with
    listing for the buckets CloudWatch has no data for; listing for S3-compatible endpoints."""
    day = day or timezone.now().date()
    report = SizingReport(account.pk, day)
    buckets = active_buckets(account)
    if bucket_names is not None:
        buckets = [b for b in buckets if b.name in set(bucket_names)]
    to_list: list[Bucket] = []
    if source == Source.LISTING or (source is None and uses_listing(account)):
        to_list = buckets
    else:
        from botocore.exceptions import BotoCoreError, ClientError

        from .cloudwatch import size_buckets_by_cloudwatch

        try:
            found = size_buckets_by_cloudwatch(account, buckets)
        except (ClientError, BotoCoreError) as exc:
            report.errors.append(f"CloudWatch read failed for account {account.name}: {exc}")
            found = None
        if found is not None and found.unknown_types:
            report.notes.append(f"unknown storage types ignored: {sorted(found.unknown_types)}")
        for bucket in buckets:
            classes = found.classes.get(bucket.name) if found else None
            if classes:
                report.rows += save_usage(
                    bucket,
                    day,
                    classes,
                    Source.CLOUDWATCH,
                    bucket_objects=found.object_counts.get(bucket.name) if found else None,
                )
            elif source is None:
                to_list.append(bucket)  # no CloudWatch data (new bucket): list it
            else:
                report.errors.append(f"CloudWatch has no storage metrics for {bucket.name} yet")
    for bucket in to_list:
        job = start_job(bucket, day)
        outcome = continue_job(job, budget_seconds=budget_seconds)
        if outcome.status == "failed":
            report.errors.append(f"listing {bucket.name} failed: {job.error}")
        elif outcome.status == "done":
            report.rows += outcome.rows
        elif outcome.status == "continue":
            report.pending_jobs.append(job.pk)
        else:
            report.notes.append(f"listing {bucket.name} is being run by another worker")
    return report


def start_job(bucket: Bucket, day: date) -> SizingJob:
    """The bucket's listing job of `day`: a finished or failed one starts over (measure again)."""
    job, created = SizingJob.objects.get_or_create(bucket=bucket, day=day)
    if not created and job.status in (SizingJob.Status.DONE, SizingJob.Status.FAILED):
        job.status = SizingJob.Status.QUEUED
        job.phase = "versions"
        job.key_marker = job.version_id_marker = job.error = ""
        job.state = {}
        job.pages = job.entries = 0
        job.finished_at = None
        job.created_at = timezone.now()
        job.save()
    job.bucket = bucket
    return job


def stale_after(budget_seconds: float | None) -> timedelta:
    """A running job not saved for this long lost its worker: another task may claim it."""
    return timedelta(seconds=3 * max(budget_seconds or 0, 60))


def claim(job: SizingJob, budget_seconds: float | None) -> bool:
    """Take the job with a conditional UPDATE: queued, or running but abandoned."""
    now = timezone.now()
    taken = (
        SizingJob.objects.filter(pk=job.pk)
        .filter(
            Q(status=SizingJob.Status.QUEUED)
            | Q(status=SizingJob.Status.RUNNING, updated_at__lt=now - stale_after(budget_seconds))
        )
        .update(status=SizingJob.Status.RUNNING, updated_at=now, error="")
    )
    return bool(taken)


@dataclass
class JobOutcome:
    status: str  # "done", "continue" (time budget ran out), "held" (another worker), "failed"
    rows: list[BucketUsage] = field(default_factory=list)


def continue_job(job: SizingJob, *, budget_seconds: float | None = None) -> JobOutcome:
    """Claim the job and run it on from its saved markers."""
    from botocore.exceptions import BotoCoreError, ClientError

    from .listing import run_job

    if not claim(job, budget_seconds):
        return JobOutcome("held")
    job.status, job.error = SizingJob.Status.RUNNING, ""
    try:
        result = run_job(job, budget_seconds=budget_seconds)
    except (ClientError, BotoCoreError) as exc:
        SizingJob.objects.filter(pk=job.pk).update(
            status=SizingJob.Status.FAILED, error=str(exc)[:2000]
        )
        job.error = str(exc)
        logger.warning("listing %s failed: %s", job.bucket.name, exc)
        return JobOutcome("failed")
    if not result.finished:
        return JobOutcome("continue")
    return JobOutcome("done", save_usage(job.bucket, job.day, result.classes, Source.LISTING))
