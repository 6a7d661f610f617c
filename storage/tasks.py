"""Scheduled scans: beat -> scan_all_accounts -> one scan_account per verified account.

Tasks take ids, exit cleanly when their object is gone, and are idempotent (a finished run is
left alone). Only transient errors (throttling, network) are retried, by the one retry policy
(accounts.retry).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.duplicates import shadowed_account_ids
from accounts.models import AwsAccount
from accounts.retry import PolicyTask, retry_policy
from accounts.users import User
from storage.models import Bucket, ScanRun
from storage.remediation import FixError, run_fix
from storage.scan.runner import (
    TransientScanError,
    active_run,
    create_run,
    execute,
    expire_all_stale_runs,
    expire_stale_runs,
)

logger = logging.getLogger(__name__)


def verified_accounts() -> QuerySet[AwsAccount]:
    """Verified accounts, each AWS account once per tenant (accounts/duplicates.py)."""
    return (
        AwsAccount.objects.filter(last_verified_at__isnull=False, last_error="")
        .exclude(verified_account_id="")
        .exclude(pk__in=shadowed_account_ids())
        .order_by("pk")
    )


def enqueue_account_scan(
    account: AwsAccount, *, trigger: str, actor: User | None = None
) -> tuple[ScanRun, bool]:
    """Queue a scan of the account unless one is already queued or running.

    Returns (run, created). The task is sent when the surrounding transaction commits.
    """
    expire_stale_runs(account.pk)
    with transaction.atomic():
        existing = active_run(account.pk)
        if existing is not None:
            return existing, False
        run = create_run(account, trigger=trigger, actor=actor)
        transaction.on_commit(lambda: scan_account.delay(account.pk, run.pk))
    return run, True


@shared_task(name="storage.expire_stale_scan_runs", **retry_policy())
def expire_stale_scan_runs() -> int:
    """Every queued or running scan that will never finish ends failed, with the reason."""
    expired = expire_all_stale_runs()
    if expired:
        logger.info("expired %d stale scan runs", expired)
    return expired


@shared_task(name="storage.scan_all_accounts", **retry_policy())
def scan_all_accounts() -> int:
    expire_stale_scan_runs()
    queued = 0
    for account in verified_accounts():
        _, created = enqueue_account_scan(account, trigger=ScanRun.Trigger.SCHEDULE)
        queued += int(created)
    logger.info("queued %d account scans", queued)
    return queued


@shared_task(bind=True, name="storage.scan_account", **retry_policy(TransientScanError))
def scan_account(self: PolicyTask, account_id: int, run_id: int | None = None) -> dict[str, Any]:
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
        if self.request.retries < (self.max_retries or 0):
            raise  # the retry policy retries it, with backoff and jitter
        ScanRun.objects.filter(pk=run.pk, status=ScanRun.Status.QUEUED).update(
            status=ScanRun.Status.FAILED,
            finished_at=timezone.now(),
            message=f"gave up after {self.max_retries} retries: {exc}",
        )
        return {"account_id": account_id, "run_id": run.pk, "status": "failed"}
    run.refresh_from_db()
    return {"account_id": account_id, "run_id": run.pk, "status": run.status}


@shared_task(name="storage.reset_object_acls", **retry_policy())
def reset_object_acls(
    bucket_id: int,
    only: list[str] | None = None,
    exclude: list[str] | None = None,
    actor_id: int | None = None,
) -> dict[str, Any]:
    """The "reset object ACLs" fix for large buckets, run by a worker (the portal enqueues it)."""
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


def queue_object_acl_reset(bucket: Bucket, params: dict[str, Any], actor: User | None) -> None:
    """Enqueue the object ACL reset of one bucket once the caller's transaction commits."""
    only, exclude = list(params.get("only", [])), list(params.get("exclude", []))
    actor_id = getattr(actor, "pk", None)
    transaction.on_commit(lambda: reset_object_acls.delay(bucket.pk, only, exclude, actor_id))
