"""Sizing from CloudWatch's daily S3 storage metrics (free; one day behind; no listing).

One ListMetrics walk per region finds which (bucket, storage type) series exist, then
GetMetricData reads them 500 at a time (its limit per call), so an account with 1,000 buckets
costs a handful of calls. AWS publishes the billed overheads as storage types of their own; they
are priced at their class's rate (the S3ObjectOverhead ones at Standard's) and nothing is added
from object counts on top.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from accounts import aws

from .usage import ClassUsage

if TYPE_CHECKING:
    from accounts.models import AwsAccount
    from storage.models import Bucket

MAX_QUERIES_PER_CALL = 500
LOOKBACK_DAYS = 3

# StorageType -> (storage class, which field of ClassUsage it adds to)
STORAGE_TYPES: dict[str, tuple[str, str]] = {
    "StandardStorage": ("STANDARD", "bytes"),
    "IntelligentTieringFAStorage": ("INTELLIGENT_TIERING", "bytes"),
    "IntelligentTieringIAStorage": ("INTELLIGENT_TIERING_IA", "bytes"),
    "IntelligentTieringAIAStorage": ("INTELLIGENT_TIERING_AIA", "bytes"),
    "IntelligentTieringAAStorage": ("INTELLIGENT_TIERING_AA", "bytes"),
    "IntelligentTieringDAAStorage": ("INTELLIGENT_TIERING_DAA", "bytes"),
    "StandardIAStorage": ("STANDARD_IA", "bytes"),
    "StandardIASizeOverhead": ("STANDARD_IA", "class_overhead_bytes"),
    "StandardIAObjectOverhead": ("STANDARD_IA", "class_overhead_bytes"),
    "OneZoneIAStorage": ("ONEZONE_IA", "bytes"),
    "OneZoneIASizeOverhead": ("ONEZONE_IA", "class_overhead_bytes"),
    "ReducedRedundancyStorage": ("REDUCED_REDUNDANCY", "bytes"),
    "GlacierInstantRetrievalStorage": ("GLACIER_IR", "bytes"),
    "GlacierInstantRetrievalSizeOverhead": ("GLACIER_IR", "class_overhead_bytes"),
    "GlacierStorage": ("GLACIER", "bytes"),
    "GlacierObjectOverhead": ("GLACIER", "class_overhead_bytes"),
    "GlacierS3ObjectOverhead": ("GLACIER", "standard_overhead_bytes"),
    "GlacierStagingStorage": ("GLACIER", "standard_overhead_bytes"),
    "DeepArchiveStorage": ("DEEP_ARCHIVE", "bytes"),
    "DeepArchiveObjectOverhead": ("DEEP_ARCHIVE", "class_overhead_bytes"),
    "DeepArchiveS3ObjectOverhead": ("DEEP_ARCHIVE", "standard_overhead_bytes"),
    "DeepArchiveStagingStorage": ("DEEP_ARCHIVE", "standard_overhead_bytes"),
    "ExpressOneZone": ("EXPRESS_ONEZONE", "bytes"),
}


@dataclass
class CloudWatchSizing:
    """bucket name -> class -> usage; bucket name -> NumberOfObjects; what was not understood."""

    classes: dict[str, dict[str, ClassUsage]] = field(default_factory=dict)
    object_counts: dict[str, int] = field(default_factory=dict)
    unknown_types: set[str] = field(default_factory=set)
    calls: int = 0
    day: datetime | None = None


def _series(cw: Any, wanted: set[str]) -> list[tuple[str, str, str]]:
    """(metric, bucket, storage type) of every S3 storage series of the wanted buckets."""
    found: list[tuple[str, str, str]] = []
    for metric in ("BucketSizeBytes", "NumberOfObjects"):
        for page in cw.get_paginator("list_metrics").paginate(
            Namespace="AWS/S3", MetricName=metric
        ):
            for m in page.get("Metrics", ()):
                dims = {d["Name"]: d["Value"] for d in m.get("Dimensions", ())}
                if dims.get("BucketName") in wanted and "StorageType" in dims:
                    found.append((metric, dims["BucketName"], dims["StorageType"]))
    return found


def read_region(
    account: AwsAccount, region: str, bucket_names: list[str], now: datetime | None = None
) -> CloudWatchSizing:
    now = now or timezone.now()
    cw = aws.client(account, "cloudwatch", region=region)
    result = CloudWatchSizing(calls=2)
    series = _series(cw, set(bucket_names))
    latest: dict[int, tuple[datetime, float]] = {}
    for start in range(0, len(series), MAX_QUERIES_PER_CALL):
        chunk = series[start : start + MAX_QUERIES_PER_CALL]
        queries = [
            {
                "Id": f"m{start + i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/S3",
                        "MetricName": metric,
                        "Dimensions": [
                            {"Name": "BucketName", "Value": bucket},
                            {"Name": "StorageType", "Value": storage_type},
                        ],
                    },
                    "Period": 86400,
                    "Stat": "Average",
                },
                "ReturnData": True,
            }
            for i, (metric, bucket, storage_type) in enumerate(chunk)
        ]
        token: str | None = None
        while True:
            params: dict[str, Any] = {
                "MetricDataQueries": queries,
                "StartTime": now - timedelta(days=LOOKBACK_DAYS),
                "EndTime": now,
                "ScanBy": "TimestampDescending",
            }
            if token:
                params["NextToken"] = token
            response = cw.get_metric_data(**params)
            result.calls += 1
            for data in response.get("MetricDataResults", ()):
                stamps, values = data.get("Timestamps", []), data.get("Values", [])
                if stamps and values:
                    newest = max(range(len(stamps)), key=lambda k: stamps[k])
                    latest[int(data["Id"][1:])] = (stamps[newest], values[newest])
            token = response.get("NextToken")
            if not token:
                break
    per_bucket: dict[str, dict[str, ClassUsage]] = defaultdict(dict)
    for index, (stamp, value) in latest.items():
        metric, bucket, storage_type = series[index]
        result.day = max(result.day, stamp) if result.day else stamp
        if metric == "NumberOfObjects":
            if storage_type == "AllStorageTypes":
                result.object_counts[bucket] = int(value)
            continue
        mapped = STORAGE_TYPES.get(storage_type)
        if mapped is None:
            result.unknown_types.add(storage_type)
            continue
        storage_class, attribute = mapped
        usage = per_bucket[bucket].setdefault(storage_class, ClassUsage())
        setattr(usage, attribute, getattr(usage, attribute) + int(value))
    result.classes = dict(per_bucket)
    return result


def size_buckets_by_cloudwatch(
    account: AwsAccount, buckets: list[Bucket], now: datetime | None = None
) -> CloudWatchSizing:
    """Every bucket of the account, grouped by region (CloudWatch metrics are regional)."""
    by_region: dict[str, list[str]] = defaultdict(list)
    for bucket in buckets:
        by_region[bucket.region or account.default_region].append(bucket.name)
    merged = CloudWatchSizing()
    for region, names in sorted(by_region.items()):
        part = read_region(account, region, names, now)
        merged.classes.update(part.classes)
        merged.object_counts.update(part.object_counts)
        merged.unknown_types |= part.unknown_types
        merged.calls += part.calls
        if part.day and (merged.day is None or part.day > merged.day):
            merged.day = part.day
    return merged
