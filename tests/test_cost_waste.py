"""Waste items: monthly cost, saving and the lifecycle rule that removes each (S3 shapes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from storage.cost.models import BucketUsage, Source
from storage.cost.prices import load_table
from storage.cost.queries import estimate_rows, latest_usage
from storage.cost.waste import waste_items
from storage.models import Bucket

from .cost_helpers import GiB


@pytest.fixture
def wasteful(account_a: Any) -> Bucket:
    bucket = Bucket.objects.create(account=account_a, name="wasteful", region="us-east-1")
    BucketUsage.objects.create(
        bucket=bucket,
        day=timezone.now().date(),
        storage_class="STANDARD",
        bytes=100 * GiB,
        object_count=1000,
        noncurrent_bytes=40 * GiB,
        noncurrent_objects=400,
        noncurrent_expirable_bytes=30 * GiB,
        incomplete_upload_bytes=10 * GiB,
        incomplete_uploads=3,
        stale_upload_bytes=8 * GiB,
        stale_uploads=2,
        expired_delete_markers=7,
        delete_markers=9,
        old_current_bytes=50 * GiB,
        old_current_objects=500,
        source=Source.LISTING,
    )
    return bucket


def items(bucket: Bucket) -> dict[str, Any]:
    est, rows = estimate_rows(latest_usage(BucketUsage.objects.filter(bucket=bucket)))
    return {i.kind: i for i in waste_items(est, rows, load_table())}


def test_waste_costs_savings_and_rules(wasteful: Bucket) -> None:
    found = items(wasteful)
    # 150 GiB of Standard in the first tier: 0.023 per GB-month for every byte
    noncurrent = found["noncurrent"]
    assert noncurrent.monthly_cost == Decimal("0.92")  # 40 x 0.023
    assert noncurrent.monthly_saving == Decimal("0.69")  # 30 x 0.023
    assert noncurrent.rule["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": 90,
        "NewerNoncurrentVersions": 3,
    }
    uploads = found["uploads"]
    assert uploads.monthly_saving == Decimal("0.184")  # 8 x 0.023 (older than 7 days)
    assert uploads.rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    markers = found["delete_markers"]
    assert markers.monthly_cost == 0 and "7 expired delete markers" in markers.summary
    assert markers.rule["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    transition = found["transition"]
    # 50 GiB x (0.023 - 0.0125) = 0.525 a month; 500 transitions x 0.01 / 1,000 = 0.005 once
    assert transition.monthly_saving == Decimal("0.525")
    assert "0.0050 USD once" in transition.summary
    assert transition.rule["Transitions"] == [{"Days": 90, "StorageClass": "STANDARD_IA"}]
    assert transition.rule["Filter"] == {"ObjectSizeGreaterThan": 131071}
    for item in found.values():
        assert item.rule["Status"] == "Enabled" and item.rule["ID"].startswith("s3portal-")


def test_no_waste_without_listing_detail(account_a: Any) -> None:
    bucket = Bucket.objects.create(account=account_a, name="clean", region="us-east-1")
    BucketUsage.objects.create(
        bucket=bucket,
        day=timezone.now().date(),
        storage_class="STANDARD",
        bytes=GiB,
        source=Source.CLOUDWATCH,
    )
    assert items(bucket) == {}


def test_s3_compatible_without_price_has_no_invented_saving(account_a: Any) -> None:
    account_a.endpoint_url = "https://s3.example.net"
    account_a.save()
    bucket = Bucket.objects.create(account=account_a, name="compat", region="us-east-1")
    BucketUsage.objects.create(
        bucket=bucket,
        day=timezone.now().date(),
        storage_class="STANDARD",
        bytes=GiB,
        noncurrent_bytes=GiB,
        noncurrent_objects=1,
        source=Source.LISTING,
    )
    found = items(bucket)
    assert found["noncurrent"].monthly_cost is None and found["noncurrent"].monthly_saving is None
