"""Helpers for the cost tests: usage lines from hand-written inventories, and moto buckets."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from storage.cost.estimate import Override, UsageLine, estimate
from storage.cost.prices import load_table
from storage.cost.usage import Accumulator, ClassUsage

GiB = 2**30
KiB = 1024
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def line_from(
    usage: ClassUsage,
    storage_class: str,
    *,
    account_id: int = 1,
    bucket_id: int = 1,
    region: str = "us-east-1",
    tenant_id: int = 1,
    s3_compatible: bool = False,
) -> UsageLine:
    return UsageLine(
        tenant_id=tenant_id,
        tenant="t",
        account_id=account_id,
        account=f"acct{account_id}",
        s3_compatible=s3_compatible,
        bucket_id=bucket_id,
        bucket=f"b{bucket_id}",
        region=region,
        storage_class=storage_class,
        bytes=usage.bytes,
        object_count=usage.object_count,
        noncurrent_bytes=usage.noncurrent_bytes,
        incomplete_upload_bytes=usage.incomplete_upload_bytes,
        class_overhead_bytes=usage.class_overhead_bytes,
        standard_overhead_bytes=usage.standard_overhead_bytes,
        monitored_objects=usage.monitored_objects,
    )


def inventory(objects: list[tuple[str, int, str]], **line_kwargs: Any) -> list[UsageLine]:
    """[(key, size, class)] of current objects -> usage lines, through the listing accumulator."""
    acc = Accumulator(NOW, load_table())
    for key, size, storage_class in sorted(objects):
        acc.add_version(key, size, storage_class, True, NOW)
    return [line_from(u, cls, **line_kwargs) for cls, u in acc.finish().items()]


def total(lines: list[UsageLine], overrides: dict[int, Override] | None = None) -> Decimal:
    est = estimate(lines, load_table(), overrides)
    assert not est.unpriced, [p.note for p in est.unpriced]
    return est.total


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))
