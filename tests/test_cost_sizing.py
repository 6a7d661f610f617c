"""Sizing: listing (versions, delete markers, unfinished uploads, resumable) and CloudWatch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts import aws
from storage.cost import sizing
from storage.cost.listing import size_bucket_by_listing
from storage.cost.models import BucketUsage, SizingJob, Source
from storage.models import Bucket

from .cost_helpers import KiB

MiB = 1024 * KiB


def make_bucket(account: Any, name: str, region: str = "us-east-1") -> Bucket:
    return Bucket.objects.create(account=account, name=name, region=region)


@pytest.fixture
def versioned(account_a: Any) -> Bucket:
    """A versioned bucket with known contents:

    - "a": 3 versions of 100, 200, 300 bytes (300 current), STANDARD
    - "b": one 50-byte version under a delete marker (noncurrent + 1 marker)
    - "c": a delete marker alone (its version was deleted): an expired delete marker
    - "ia": a 1 KB current object in STANDARD_IA
    - an unfinished multipart upload of 2 parts (5 MiB + 1 MiB) in STANDARD
    """
    s3 = aws.client(account_a, "s3")
    s3.create_bucket(Bucket="versioned")
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    for size in (100, 200, 300):
        s3.put_object(Bucket="versioned", Key="a", Body=b"x" * size)
    s3.put_object(Bucket="versioned", Key="b", Body=b"y" * 50)
    s3.delete_object(Bucket="versioned", Key="b")
    c = s3.put_object(Bucket="versioned", Key="c", Body=b"z" * 10)
    s3.delete_object(Bucket="versioned", Key="c")
    s3.delete_object(Bucket="versioned", Key="c", VersionId=c["VersionId"])
    s3.put_object(Bucket="versioned", Key="ia", Body=b"i" * KiB, StorageClass="STANDARD_IA")
    upload = s3.create_multipart_upload(Bucket="versioned", Key="big")
    for number, size in ((1, 5 * MiB), (2, MiB)):
        s3.upload_part(
            Bucket="versioned",
            Key="big",
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=b"p" * size,
        )
    return make_bucket(account_a, "versioned")


def test_listing_counts_versions_markers_and_uploads(versioned: Bucket) -> None:
    classes = size_bucket_by_listing(versioned)
    std, ia = classes["STANDARD"], classes["STANDARD_IA"]
    assert (std.bytes, std.object_count) == (300, 1)
    assert (std.noncurrent_bytes, std.noncurrent_objects) == (100 + 200 + 50, 3)
    assert std.delete_markers == 2
    assert std.expired_delete_markers == 1  # "c": nothing left under its marker
    assert (std.incomplete_upload_bytes, std.incomplete_uploads) == (6 * MiB, 1)
    # moto reports every upload as initiated 2010-11-10 (a fixed date), so it is "stale" here
    assert (std.stale_uploads, std.noncurrent_expirable_bytes) == (1, 0)
    assert (ia.bytes, ia.object_count) == (KiB, 1)
    assert ia.class_overhead_bytes == 128 * KiB - KiB  # billed as 128 KB (S3 UG)


def test_uploads_are_stale_after_7_days(versioned: Bucket) -> None:
    moto_initiated = datetime(2010, 11, 10, 20, 48, 33, tzinfo=UTC)  # moto's fixed value
    fresh = size_bucket_by_listing(versioned, now=moto_initiated + timedelta(days=6))["STANDARD"]
    assert (fresh.stale_uploads, fresh.incomplete_uploads) == (0, 1)
    later = timezone.now() + timedelta(days=100)
    std = size_bucket_by_listing(versioned, now=later)["STANDARD"]
    assert (std.stale_uploads, std.stale_upload_bytes) == (1, 6 * MiB)
    # "a" has 2 noncurrent versions: fewer than 3 newer ones are kept, so none expire
    assert std.noncurrent_expirable_bytes == 0


def test_noncurrent_beyond_three_newer_expire_after_90_days(account_a: Any) -> None:
    s3 = aws.client(account_a, "s3")
    s3.create_bucket(Bucket="many")
    s3.put_bucket_versioning(Bucket="many", VersioningConfiguration={"Status": "Enabled"})
    for size in (1, 2, 4, 8, 16, 32):  # current 32; noncurrent 16, 8, 4 kept; 2 and 1 expire
        s3.put_object(Bucket="many", Key="k", Body=b"v" * size)
    bucket = make_bucket(account_a, "many")
    std = size_bucket_by_listing(bucket, now=timezone.now() + timedelta(days=91))["STANDARD"]
    assert std.noncurrent_bytes == 31
    assert std.noncurrent_expirable_bytes == 3
    assert size_bucket_by_listing(bucket)["STANDARD"].noncurrent_expirable_bytes == 0


@pytest.mark.parametrize("versioned_bucket", [True, False])
def test_listing_job_resumes_from_saved_markers(
    account_a: Any, monkeypatch: Any, versioned_bucket: bool
) -> None:
    """Versioned: KeyMarker/VersionIdMarker saved; never versioned: the ListObjectsV2
    continuation token saved. Either way a stopped job continues where it was."""
    from storage.cost import listing

    s3 = aws.client(account_a, "s3")
    s3.create_bucket(Bucket="resume")
    if versioned_bucket:
        s3.put_bucket_versioning(Bucket="resume", VersioningConfiguration={"Status": "Enabled"})
    for i in range(25):
        s3.put_object(Bucket="resume", Key=f"k{i:03}", Body=b"r" * (i + 1))
    bucket = make_bucket(account_a, "resume")
    monkeypatch.setattr(listing, "PAGE_SIZE", 10)  # 25 objects take 3 pages
    monkeypatch.setattr(listing, "SAVE_EVERY_PAGES", 1)
    day = timezone.now().date()
    job = sizing.start_job(bucket, day)
    assert sizing.continue_job(job, budget_seconds=-1).status == "continue"  # after one page
    job.refresh_from_db()
    assert (job.status, job.pages) == (SizingJob.Status.QUEUED, 1)
    assert job.phase == ("versions" if versioned_bucket else "objects")
    assert job.key_marker == "k009" if versioned_bucket else job.key_marker
    assert job.state["classes"]["STANDARD"]["object_count"] == 10
    # a job another worker holds (running, saved recently) is left alone
    SizingJob.objects.filter(pk=job.pk).update(status=SizingJob.Status.RUNNING)
    assert sizing.continue_job(SizingJob.objects.get(pk=job.pk)).status == "held"
    # ... until it has not been saved for 3 budgets (its worker is gone): then it is taken over
    SizingJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    outcome = sizing.continue_job(SizingJob.objects.get(pk=job.pk), budget_seconds=None)
    rows = outcome.rows
    assert outcome.status == "done" and len(rows) == 1
    assert rows[0].bytes == sum(range(1, 26)) and rows[0].object_count == 25
    job.refresh_from_db()
    assert (job.status, job.pages, job.phase) == (SizingJob.Status.DONE, 3, "done")


def test_size_account_writes_one_row_per_class_and_replaces_the_day(versioned: Bucket) -> None:
    account = versioned.account
    report = sizing.size_account(account, source=Source.LISTING)
    assert sorted(r.storage_class for r in report.rows) == ["STANDARD", "STANDARD_IA"]
    again = sizing.size_account(account, source=Source.LISTING)
    assert len(again.rows) == 2
    assert BucketUsage.objects.filter(bucket=versioned).count() == 2  # replaced, not added


def test_listing_failure_is_reported_not_zero(account_a: Any) -> None:
    make_bucket(account_a, "does-not-exist")
    report = sizing.size_account(account_a, source=Source.LISTING)
    assert report.rows == []
    assert "does-not-exist" in report.errors[0] and "NoSuchBucket" in report.errors[0]
    assert not BucketUsage.objects.exists()


def put_s3_metric(cw: Any, bucket: str, storage_type: str, value: float, metric: str) -> None:
    """The way S3 publishes its daily storage metrics: AWS/S3, BucketName + StorageType, at
    00:00 UTC of the day, unit Bytes (BucketSizeBytes) or Count (NumberOfObjects)."""
    stamp = (timezone.now() - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    cw.put_metric_data(
        Namespace="AWS/S3",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [
                    {"Name": "BucketName", "Value": bucket},
                    {"Name": "StorageType", "Value": storage_type},
                ],
                "Timestamp": stamp,
                "Value": value,
                "Unit": "Bytes" if metric == "BucketSizeBytes" else "Count",
            }
        ],
    )


def test_cloudwatch_sizing_reads_every_storage_type(account_a: Any) -> None:
    cw = aws.client(account_a, "cloudwatch", region="us-east-1")
    put_s3_metric(cw, "photos", "StandardStorage", 5 * 2**30, "BucketSizeBytes")
    put_s3_metric(cw, "photos", "StandardIAStorage", 2**30, "BucketSizeBytes")
    put_s3_metric(cw, "photos", "StandardIASizeOverhead", 1000, "BucketSizeBytes")
    put_s3_metric(cw, "photos", "GlacierStorage", 3 * 2**30, "BucketSizeBytes")
    put_s3_metric(cw, "photos", "GlacierObjectOverhead", 32768 * 10, "BucketSizeBytes")
    put_s3_metric(cw, "photos", "GlacierS3ObjectOverhead", 8192 * 10, "BucketSizeBytes")
    put_s3_metric(cw, "photos", "AllStorageTypes", 1234, "NumberOfObjects")
    put_s3_metric(cw, "logs", "StandardStorage", 42, "BucketSizeBytes")
    put_s3_metric(cw, "logs", "AllStorageTypes", 2, "NumberOfObjects")
    put_s3_metric(cw, "other-tenant", "StandardStorage", 99, "BucketSizeBytes")
    photos = make_bucket(account_a, "photos")
    logs = make_bucket(account_a, "logs")
    report = sizing.size_account(account_a, source=Source.CLOUDWATCH)
    assert report.errors == []
    rows = {(r.bucket.name, r.storage_class): r for r in report.rows}
    assert sorted(rows) == [
        ("logs", "STANDARD"),
        ("photos", "GLACIER"),
        ("photos", "STANDARD"),
        ("photos", "STANDARD_IA"),
    ]
    assert rows[("photos", "STANDARD")].bytes == 5 * 2**30
    assert rows[("photos", "STANDARD_IA")].class_overhead_bytes == 1000
    glacier = rows[("photos", "GLACIER")]
    assert (glacier.class_overhead_bytes, glacier.standard_overhead_bytes) == (327680, 81920)
    # per-class counts are unknown with several classes; the bucket's count is kept
    assert glacier.object_count is None and glacier.bucket_objects == 1234
    assert rows[("logs", "STANDARD")].object_count == 2
    assert all(r.source == Source.CLOUDWATCH for r in report.rows)
    assert {photos.pk, logs.pk} == {r.bucket_id for r in report.rows}


def test_cloudwatch_without_data_falls_back_to_listing(account_a: Any) -> None:
    s3 = aws.client(account_a, "s3")
    s3.create_bucket(Bucket="fresh")
    s3.put_object(Bucket="fresh", Key="k", Body=b"f" * 7)
    make_bucket(account_a, "fresh")
    report = sizing.size_account(account_a)  # auto: CloudWatch first, listing for the rest
    (row,) = report.rows
    assert (row.source, row.bytes, row.object_count) == (Source.LISTING, 7, 1)
