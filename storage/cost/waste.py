"""Waste: what a bucket pays for that a lifecycle rule would remove, and that rule.

Computed from the latest listing sizing (CloudWatch does not split out noncurrent versions or
uploads). Each item carries its monthly cost, the monthly saving and one rule in S3's shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.urls import NoReverseMatch, reverse

from .estimate import Estimate, PricedLine
from .models import BucketUsage
from .prices import GB, PriceTable
from .usage import (
    NONCURRENT_EXPIRE_DAYS,
    NONCURRENT_KEEP_NEWER,
    OLD_CURRENT_DAYS,
    STALE_UPLOAD_DAYS,
    TRANSITION_MIN_BYTES,
)

TRANSITION_TARGET = "STANDARD_IA"


@dataclass
class WasteItem:
    bucket_id: int
    bucket: str
    kind: str
    summary: str
    monthly_cost: Decimal | None
    monthly_saving: Decimal | None
    rule: dict[str, Any]
    editor_url: str | None = None  # the lifecycle editor with the rule filled in, once it exists

    @property
    def rule_json(self) -> str:
        return json.dumps(self.rule, indent=2)


def lifecycle_editor_url(bucket_id: int, rule: dict[str, Any]) -> str | None:
    """The lifecycle editor with this rule filled in; None until lifecycle rules exist."""
    try:
        base = reverse("lifecycle:rule_new", args=[bucket_id])
    except NoReverseMatch:
        return None
    return f"{base}?rule={quote(json.dumps(rule, separators=(',', ':')), safe='')}"


def _rule(rule_id: str, **body: Any) -> dict[str, Any]:
    return {"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": ""}, **body}


def _rate(priced: PricedLine | None) -> Decimal | None:
    return priced.rate_per_byte() if priced else None


def waste_items(est: Estimate, rows: list[BucketUsage], table: PriceTable) -> list[WasteItem]:
    """`rows` in the same order as est.lines (queries.estimate_rows keeps it)."""
    by_bucket: dict[int, list[tuple[BucketUsage, PricedLine]]] = {}
    for row, priced in zip(rows, est.lines, strict=True):
        by_bucket.setdefault(row.bucket_id, []).append((row, priced))
    items: list[WasteItem] = []
    for bucket_id, pairs in by_bucket.items():
        name = pairs[0][0].bucket.name
        items += _noncurrent(bucket_id, name, pairs)
        items += _delete_markers(bucket_id, name, pairs)
        items += _uploads(bucket_id, name, pairs)
        items += _old_standard(bucket_id, name, pairs, table)
    return sorted(items, key=lambda i: (-(i.monthly_saving or Decimal(0)), i.bucket, i.kind))


def _noncurrent(
    bucket_id: int, name: str, pairs: list[tuple[BucketUsage, PricedLine]]
) -> list[WasteItem]:
    nc_bytes = sum(r.noncurrent_bytes for r, _ in pairs)
    if not nc_bytes:
        return []
    cost = saving = Decimal(0)
    unknown = False
    for row, priced in pairs:
        rate = _rate(priced)
        if rate is None:
            unknown = unknown or bool(row.noncurrent_bytes)
            continue
        cost += rate * row.noncurrent_bytes
        saving += rate * row.noncurrent_expirable_bytes
    count = sum(r.noncurrent_objects for r, _ in pairs)
    rule = _rule(
        "s3portal-expire-noncurrent",
        NoncurrentVersionExpiration={
            "NoncurrentDays": NONCURRENT_EXPIRE_DAYS,
            "NewerNoncurrentVersions": NONCURRENT_KEEP_NEWER,
        },
    )
    return [
        WasteItem(
            bucket_id,
            name,
            "noncurrent",
            f"{count} noncurrent versions ({nc_bytes / GB:.3f} GB); keeping 3 newer and expiring "
            f"the rest {NONCURRENT_EXPIRE_DAYS} days after they became noncurrent removes "
            f"{sum(r.noncurrent_expirable_bytes for r, _ in pairs) / GB:.3f} GB",
            None if unknown else cost,
            None if unknown else saving,
            rule,
        )
    ]


def _delete_markers(
    bucket_id: int, name: str, pairs: list[tuple[BucketUsage, PricedLine]]
) -> list[WasteItem]:
    expired = sum(r.expired_delete_markers for r, _ in pairs)
    if not expired:
        return []
    return [
        WasteItem(
            bucket_id,
            name,
            "delete_markers",
            f"{expired} expired delete markers (no version left under them): no storage charge, "
            "but every listing pays for reading them",
            Decimal(0),
            Decimal(0),
            _rule(
                "s3portal-expired-delete-markers", Expiration={"ExpiredObjectDeleteMarker": True}
            ),
        )
    ]


def _uploads(
    bucket_id: int, name: str, pairs: list[tuple[BucketUsage, PricedLine]]
) -> list[WasteItem]:
    stale = sum(r.stale_upload_bytes for r, _ in pairs)
    count = sum(r.stale_uploads for r, _ in pairs)
    if not count:
        return []
    cost: Decimal | None = Decimal(0)
    for row, priced in pairs:
        rate = _rate(priced)
        if rate is None and row.stale_upload_bytes:
            cost = None
            break
        if rate is not None and cost is not None:
            cost += rate * row.stale_upload_bytes
    return [
        WasteItem(
            bucket_id,
            name,
            "uploads",
            f"{count} unfinished multipart uploads older than {STALE_UPLOAD_DAYS} days "
            f"({stale / GB:.3f} GB of parts, billed)",
            cost,
            cost,
            _rule(
                "s3portal-abort-uploads",
                AbortIncompleteMultipartUpload={"DaysAfterInitiation": STALE_UPLOAD_DAYS},
            ),
        )
    ]


def _old_standard(
    bucket_id: int, name: str, pairs: list[tuple[BucketUsage, PricedLine]], table: PriceTable
) -> list[WasteItem]:
    for row, priced in pairs:
        if row.storage_class != "STANDARD" or not row.old_current_bytes:
            continue
        rate = _rate(priced)
        region = priced.usage.region
        ia = table.tiers(region, TRANSITION_TARGET)
        prices = table.regions.get(region)
        per_1000 = prices.requests_per_1000.get("transition_ia") if prices else None
        if rate is None or not ia or priced.usage.s3_compatible:
            continue
        ia_rate = ia[0].usd / GB
        saving = (rate - ia_rate) * row.old_current_bytes
        one_time = (per_1000 or Decimal(0)) * row.old_current_objects / Decimal(1000)
        # It pays when one month's saving covers the transition requests (IA bills 30 days
        # minimum, so objects that stay a month are needed anyway).
        if saving <= 0 or saving < one_time:
            continue
        return [
            WasteItem(
                bucket_id,
                name,
                "transition",
                f"{row.old_current_objects} Standard objects of 128 KB or more not modified for "
                f"{OLD_CURRENT_DAYS} days ({row.old_current_bytes / GB:.3f} GB); moving them to "
                f"Standard-IA costs {one_time:.4f} USD once in transition requests. S3 records "
                "no reads: check access before moving data that is still read",
                rate * row.old_current_bytes,
                saving,
                _rule(
                    "s3portal-transition-ia",
                    Filter={"ObjectSizeGreaterThan": TRANSITION_MIN_BYTES - 1},
                    Transitions=[{"Days": OLD_CURRENT_DAYS, "StorageClass": TRANSITION_TARGET}],
                ),
            )
        ]
    return []
