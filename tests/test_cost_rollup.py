"""Daily rollups: idempotent per day, catching up after downtime; the beat entry and tasks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from storage.cost import rollup, tasks
from storage.cost.models import BucketUsage, CostRollup, Source
from storage.models import Bucket

from .cost_helpers import GiB

DAY = date(2026, 11, 20)
# CostRollup keeps 18 decimal places on PostgreSQL; SQLite's NUMERIC keeps ~15 significant digits.
STORED = Decimal("1e-12")


def stored(value: Decimal | None) -> Decimal:
    assert value is not None
    return value.quantize(STORED)


def usage(bucket: Bucket, day: date, gb: int, storage_class: str = "STANDARD") -> BucketUsage:
    return BucketUsage.objects.create(
        bucket=bucket,
        day=day,
        storage_class=storage_class,
        bytes=gb * GiB,
        object_count=gb,
        source=Source.LISTING,
    )


@pytest.fixture
def bucket(account_a: Any) -> Bucket:
    return Bucket.objects.create(account=account_a, name="data", region="us-east-1")


def test_rollup_day_is_idempotent(bucket: Bucket) -> None:
    usage(bucket, DAY, 100)
    usage(bucket, DAY, 10, "STANDARD_IA")
    assert rollup.rollup_day(bucket.account_id, DAY) == 2
    assert rollup.rollup_day(bucket.account_id, DAY) == 2
    rows = {r.storage_class: r for r in CostRollup.objects.filter(day=DAY)}
    assert len(rows) == 2
    assert rows["STANDARD"].monthly_cost_usd == Decimal("2.3")
    assert rows["STANDARD_IA"].monthly_cost_usd == Decimal("0.125")
    assert stored(rows["STANDARD"].daily_cost_usd) == (Decimal("2.3") / 30).quantize(STORED)
    assert rows["STANDARD"].tenant_id == bucket.account.tenant_id
    assert rows["STANDARD"].table_date == "2025-10-28"


def test_rerunning_a_day_replaces_it(bucket: Bucket) -> None:
    usage(bucket, DAY, 100)
    rollup.rollup_day(bucket.account_id, DAY)
    BucketUsage.objects.filter(bucket=bucket, day=DAY).update(bytes=200 * GiB)
    rollup.rollup_day(bucket.account_id, DAY)
    (row,) = CostRollup.objects.filter(day=DAY)
    assert row.monthly_cost_usd == Decimal("4.6")


def test_rollup_catches_up_missing_days_from_the_data_it_has(bucket: Bucket) -> None:
    usage(bucket, DAY, 100)
    rollup.rollup_day(bucket.account_id, DAY)
    usage(bucket, DAY + timedelta(days=2), 200)  # one sizing during a 4-day outage
    result = rollup.rollup_account(bucket.account_id, DAY + timedelta(days=4))
    assert result == {"days": 4, "rows": 4}
    costs = dict(CostRollup.objects.order_by("day").values_list("day", "monthly_cost_usd"))
    assert costs == {
        DAY: Decimal("2.3"),
        DAY + timedelta(days=1): Decimal("2.3"),  # newest sizing on or before that day
        DAY + timedelta(days=2): Decimal("4.6"),
        DAY + timedelta(days=3): Decimal("4.6"),
        DAY + timedelta(days=4): Decimal("4.6"),
    }
    assert {r.usage_day for r in CostRollup.objects.filter(day=DAY + timedelta(days=3))} == {
        DAY + timedelta(days=2)
    }


def test_rollup_without_any_sizing_writes_nothing(account_a: Any) -> None:
    assert rollup.rollup_account(account_a.pk, DAY) == {"days": 0, "rows": 0}


def test_beat_entry_has_expires() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["cost-rollup-all"]
    assert entry["task"] == "cost.rollup_all"
    assert entry["options"]["expires"] == entry["schedule"] == 24 * 3600


def test_rollup_all_enqueues_one_task_per_account_on_commit(
    account_a: Any, account_b: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(tasks.rollup_account, "delay", lambda a, d: sent.append((a, d)))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.rollup_all(DAY.isoformat()) == 2
    assert sent == [(account_a.pk, DAY.isoformat()), (account_b.pk, DAY.isoformat())]


def test_rollup_account_task_sizes_then_rolls_up(account_a: Any) -> None:
    from accounts import aws

    s3 = aws.client(account_a, "s3")
    s3.create_bucket(Bucket="tasked")
    s3.put_object(Bucket="tasked", Key="k", Body=b"t" * 1000)
    Bucket.objects.create(account=account_a, name="tasked", region="us-east-1")
    result = tasks.rollup_account(account_a.pk, DAY.isoformat())
    assert result["sized_rows"] == 1 and result["errors"] == []
    assert result["days"] == 1
    (row,) = CostRollup.objects.all()
    assert row.bytes == 1000
    assert stored(row.monthly_cost_usd) == (Decimal(1000) * Decimal("0.023") / GiB).quantize(STORED)
    # again: already measured that day, so no new sizing; the rollup is replaced
    again = tasks.rollup_account(account_a.pk, DAY.isoformat())
    assert "sized_rows" not in again and CostRollup.objects.count() == 1


def test_tasks_exit_cleanly_when_gone(db: Any) -> None:
    assert tasks.rollup_account(999999)["skipped"] == "gone"
    assert tasks.size_account(999999)["skipped"] == "gone"
    assert tasks.size_bucket(999999)["skipped"] == "gone"


def test_lost_listing_jobs_are_sent_again(
    bucket: Bucket, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    from django.utils import timezone

    from storage.cost.models import SizingJob

    usage(bucket, DAY, 1)  # measured that day already: no new sizing
    lost = SizingJob.objects.create(bucket=bucket, day=DAY, status=SizingJob.Status.RUNNING)
    SizingJob.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    fresh = SizingJob.objects.create(bucket=bucket, day=DAY - timedelta(days=1))
    sent: list[int] = []
    monkeypatch.setattr(tasks.size_bucket, "delay", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.rollup_account(bucket.account_id, DAY.isoformat())
    assert result["resumed_jobs"] == [lost.pk] and sent == [lost.pk]
    assert fresh.pk not in sent  # queued moments ago: its own task is still on its way
