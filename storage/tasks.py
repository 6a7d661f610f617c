"""Scheduled scans: beat -> scan_all_accounts -> one scan_account per verified account.

Tasks take ids, exit cleanly when their object is gone, and are idempotent (a finished run is
left alone). Only transient errors (throttling, network) are retried, with backoff and jitter.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import AwsAccount
from storage.models import Bucket, ScanRun

logger = logging.getLogger(__name__)


def verified_accounts() -> QuerySet[AwsAccount]:
    return (
        AwsAccount.objects.filter(last_verified_at__isnull=False, last_error="")
        .exclude(verified_account_id="")
        .order_by("pk")
    )


def enqueue_account_scan(
    account: AwsAccount, *, trigger: str, actor: Any = None
) -> tuple[ScanRun, bool]:
    """Queue a scan of the account unless one is already queued or running.

    Returns (run, created). The task is sent when the surrounding transaction commits.
    """
    from storage.scan.runner import active_run, create_run, expire_stale_runs

    expire_stale_runs(account.pk)
    with transaction.atomic():
        existing = active_run(account.pk)
        if existing is not None:
            return existing, False
        run = create_run(account, trigger=trigger, actor=actor)
        transaction.on_commit(lambda: scan_account.delay(account.pk, run.pk))
    return run, True


@shared_task(name="storage.tasks.expire_stale_scan_runs")
def expire_stale_scan_runs() -> int:
    """Every queued or running scan that will never finish ends failed, with the reason."""
    from storage.scan.runner import expire_all_stale_runs

    expired = expire_all_stale_runs()
    if expired:
        logger.info("expired %d stale scan runs", expired)
    return expired


@shared_task(name="storage.tasks.scan_all_accounts")
def scan_all_accounts() -> int:
    expire_stale_scan_runs()
    queued = 0
    for account in verified_accounts():
        _, created = enqueue_account_scan(account, trigger=ScanRun.Trigger.SCHEDULE)
        queued += int(created)
    logger.info("queued %d account scans", queued)
    return queued


@shared_task(
    name="storage.tasks.scan_account",
    bind=True,
    max_retries=5,
)
def scan_account(self: Any, account_id: int, run_id: int | None = None) -> dict[str, Any]:
    from storage.scan.runner import TransientScanError, create_run, execute

    account = AwsAccount.objects.select_related("tenant").filter(pk=account_id).first()
    if account is None:
        return {"account_id": account_id, "skipped": "gone"}
    if run_id is None:
        run = create_run(account, trigger=ScanRun.Trigger.SCHEDULE)
    else:
        run = ScanRun.objects.filter(pk=run_id, account_id=account_id).first()
        if run is None:
            return {"account_id": account_id, "run_id": run_id, "skipped": "run gone"}
    if getattr(self.request, "id", None) and not run.task_id:
        ScanRun.objects.filter(pk=run.pk).update(task_id=self.request.id)
    try:
        execute(run)
    except TransientScanError as exc:
        if self.request.retries >= self.max_retries:
            ScanRun.objects.filter(pk=run.pk, status=ScanRun.Status.QUEUED).update(
                status=ScanRun.Status.FAILED,
                finished_at=timezone.now(),
                message=f"gave up after {self.max_retries} retries: {exc}",
            )
            return {"account_id": account_id, "run_id": run.pk, "status": "failed"}
        # Exponential backoff with jitter: 30 s, 60 s, 120 s ... capped at 10 min.
        countdown = min(600, 30 * 2**self.request.retries)
        raise self.retry(exc=exc, countdown=countdown + countdown * 0.2 * _jitter()) from exc
    run.refresh_from_db()
    return {"account_id": account_id, "run_id": run.pk, "status": run.status}


def _jitter() -> float:
    import random

    return random.random()  # noqa: S311 - jitter, not security


@shared_task(name="storage.tasks.reset_object_acls", bind=True, max_retries=0)
def reset_object_acls(
    self: Any,
    bucket_id: int,
    only: list[str] | None = None,
    exclude: list[str] | None = None,
    actor_id: int | None = None,
) -> dict[str, Any]:
    """The "reset object ACLs" fix for large buckets, run by a worker (the portal enqueues it)."""
    from django.contrib.auth import get_user_model

    from storage.remediation import FixError, run_fix

    bucket = Bucket.objects.select_related("account__tenant").filter(pk=bucket_id).first()
    if bucket is None:
        return {"bucket_id": bucket_id, "skipped": "gone"}
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    try:
        outcome = run_fix(
            bucket,
            "reset_object_acls",
            {"only": only or [], "exclude": exclude or []},
            actor=actor,
            dry_run=False,
        )
    except FixError as exc:
        logger.warning("reset of object ACLs in %s failed: %s", bucket.name, exc)
        return {"bucket_id": bucket_id, "error": str(exc)}
    return {"bucket_id": bucket_id, "changed": outcome.changed, "summary": outcome.plan.summary}


def queue_object_acl_reset(bucket: Bucket, params: dict[str, Any], actor: Any) -> None:
    """Enqueue the object ACL reset of one bucket once the caller's transaction commits."""
    only, exclude = list(params.get("only", [])), list(params.get("exclude", []))
    actor_id = getattr(actor, "pk", None)
    transaction.on_commit(lambda: reset_object_acls.delay(bucket.pk, only, exclude, actor_id))
