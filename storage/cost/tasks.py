"""Celery tasks: beat -> cost.rollup_all -> one cost.rollup_account(account_id, day) per account.

Tasks take ids, exit cleanly when their object is gone and are idempotent (a day's sizing and
rollup replace their own rows). A big bucket's listing continues as cost.size_bucket(job_id)
from its saved markers.
"""

from __future__ import annotations

import logging
from datetime import date
from functools import partial
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import AwsAccount
from accounts.retry import retry_policy

from . import rollup, sizing
from .models import BucketUsage, SizingJob

logger = logging.getLogger(__name__)


def _day(value: str | None) -> date:
    return date.fromisoformat(value) if value else timezone.now().date()


@shared_task(name="cost.rollup_all", **retry_policy())
def rollup_all(day: str | None = None) -> int:
    """Queue one rollup per account (sent when the transaction commits)."""
    wanted = _day(day).isoformat()
    ids = list(AwsAccount.objects.order_by("pk").values_list("pk", flat=True))
    for account_id in ids:
        transaction.on_commit(partial(rollup_account.delay, account_id, wanted))
    logger.info("queued %d cost rollups for %s", len(ids), wanted)
    return len(ids)


@shared_task(name="cost.rollup_account", **retry_policy())
def rollup_account(account_id: int, day: str | None = None) -> dict[str, Any]:
    """Size the account for `day` if not measured yet, then roll up every day not rolled up."""
    account = AwsAccount.objects.filter(pk=account_id).first()
    if account is None:
        return {"account_id": account_id, "skipped": "gone"}
    wanted = _day(day)
    result: dict[str, Any] = {"account_id": account_id, "day": wanted.isoformat()}
    if not BucketUsage.objects.filter(bucket__account_id=account_id, day=wanted).exists():
        report = sizing.size_account(
            account, day=wanted, budget_seconds=settings.COST_LISTING_BUDGET_SECONDS
        )
        result["sized_rows"] = len(report.rows)
        result["errors"] = report.errors
        for job_id in report.pending_jobs:
            transaction.on_commit(partial(size_bucket.delay, job_id))
        result["pending_jobs"] = report.pending_jobs
    # Listings whose task was lost (worker restart, broker outage) are sent again.
    budget = settings.COST_LISTING_BUDGET_SECONDS
    lost = SizingJob.objects.filter(
        bucket__account_id=account_id,
        status__in=[SizingJob.Status.QUEUED, SizingJob.Status.RUNNING],
        updated_at__lt=timezone.now() - sizing.stale_after(budget),
    ).values_list("pk", flat=True)
    for job_id in lost:
        transaction.on_commit(partial(size_bucket.delay, job_id))
    result["resumed_jobs"] = list(lost)
    result.update(rollup.rollup_account(account_id, wanted))
    return result


@shared_task(name="cost.size_account", **retry_policy())
def size_account(
    account_id: int, source: str | None = None, day: str | None = None
) -> dict[str, Any]:
    """Measure now (e.g. "exact figures" asked for by a tenant: source="listing")."""
    account = AwsAccount.objects.filter(pk=account_id).first()
    if account is None:
        return {"account_id": account_id, "skipped": "gone"}
    wanted = _day(day)
    report = sizing.size_account(
        account, source=source, day=wanted, budget_seconds=settings.COST_LISTING_BUDGET_SECONDS
    )
    for job_id in report.pending_jobs:
        transaction.on_commit(partial(size_bucket.delay, job_id))
    rollup.rollup_day(account_id, wanted)
    return {"account_id": account_id, "rows": len(report.rows), "pending": report.pending_jobs}


@shared_task(name="cost.size_bucket", **retry_policy())
def size_bucket(job_id: int) -> dict[str, Any]:
    """Continue a listing job from its saved continuation markers."""
    job = SizingJob.objects.select_related("bucket__account").filter(pk=job_id).first()
    if job is None:
        return {"job_id": job_id, "skipped": "gone"}
    if job.status in (SizingJob.Status.DONE, SizingJob.Status.FAILED):
        return {"job_id": job_id, "skipped": job.status}
    outcome = sizing.continue_job(job, budget_seconds=settings.COST_LISTING_BUDGET_SECONDS)
    if outcome.status == "continue":
        transaction.on_commit(partial(size_bucket.delay, job_id))
        return {"job_id": job_id, "status": "continuing", "pages": job.pages}
    if outcome.status == "done":
        rollup.rollup_day(job.bucket.account_id, job.day)
    return {"job_id": job_id, "status": outcome.status, "rows": len(outcome.rows)}
