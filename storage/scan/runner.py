"""Scan runs: claim the account, scan it (:mod:`.fanout`), save (:mod:`.persist`), alert.

A run of one account is claimed with a conditional UPDATE (queued -> running) guarded by a
partial unique index (one running account scan per account), so two scans of one account
never run at once, whichever worker or command starts them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.errors import describe_failure
from accounts.users import User
from storage.models import Bucket, ScanRun, severity_at_least
from storage.scan import alerts
from storage.scan.checks import CHECK_NAMES, ERROR, FAIL
from storage.scan.fanout import (
    AccountScan,
    BucketResult,
    ScanOptions,
    prepare,
    scan_account_results,
)
from storage.scan.findings import resolve_all
from storage.scan.inventory import BucketRef, ListingError
from storage.scan.persist import EmitCallback, Persister

if TYPE_CHECKING:
    from accounts.models import AwsAccount

logger = logging.getLogger(__name__)


class TransientScanError(Exception):
    """Listing failed for a reason worth retrying (throttling, network)."""


# --- runs ----------------------------------------------------------------------------------


def create_run(
    account: AwsAccount,
    *,
    trigger: str,
    actor: User | None = None,
    kind: str = ScanRun.Kind.ACCOUNT,
    patterns: list[str] | tuple[str, ...] = (),
    skip: list[str] | frozenset[str] = frozenset(),
    actor_name: str = "",
) -> ScanRun:
    return ScanRun.objects.create(
        account=account,
        kind=kind,
        trigger=trigger,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=actor_name or (actor.get_username() if actor is not None else ""),
        patterns=list(patterns),
        skipped_checks=sorted(skip),
    )


def active_run(account_id: int) -> ScanRun | None:
    """The queued or running account scan of an account, if any."""
    return (
        ScanRun.objects.filter(
            account_id=account_id,
            kind=ScanRun.Kind.ACCOUNT,
            status__in=[ScanRun.Status.QUEUED, ScanRun.Status.RUNNING],
        )
        .order_by("created_at")
        .first()
    )


def expire_stale_runs(account_id: int) -> int:
    """Free the account from runs that will never finish.

    A running scan without a heartbeat for SCAN_STALE_AFTER seconds died with its worker; a
    queued one untouched for a whole SCAN_INTERVAL (and at least SCAN_STALE_AFTER) lost its
    task (the next scheduled scan would have been queued by then). Their tasks, should they
    still come, find them finished and do nothing.
    """
    now = timezone.now()
    running_limit = now - timedelta(seconds=settings.SCAN_STALE_AFTER)
    expired = ScanRun.objects.filter(
        Q(heartbeat_at__lt=running_limit) | Q(heartbeat_at__isnull=True),
        account_id=account_id,
        status=ScanRun.Status.RUNNING,
    ).update(
        status=ScanRun.Status.FAILED,
        finished_at=now,
        message=f"abandoned: no progress for {settings.SCAN_STALE_AFTER} s (worker stopped?)",
    )
    queued_limit = now - timedelta(seconds=max(settings.SCAN_INTERVAL, settings.SCAN_STALE_AFTER))
    expired += ScanRun.objects.filter(
        heartbeat_at__isnull=True,
        created_at__lt=queued_limit,
        account_id=account_id,
        status=ScanRun.Status.QUEUED,
    ).update(
        status=ScanRun.Status.FAILED,
        finished_at=now,
        message="never started: its task was lost or gave up",
    )
    # Waiting for a retry: the retry comes well within SCAN_STALE_AFTER (backoff is capped
    # at 10 min), so a run still waiting after that lost its task.
    for run in ScanRun.objects.filter(
        heartbeat_at__lt=running_limit, account_id=account_id, status=ScanRun.Status.QUEUED
    ).only("pk", "message"):
        reason = run.message.removeprefix("will retry: ") or "no reason recorded"
        expired += ScanRun.objects.filter(pk=run.pk, status=ScanRun.Status.QUEUED).update(
            status=ScanRun.Status.FAILED,
            finished_at=now,
            message=f"gave up: no retry came within {settings.SCAN_STALE_AFTER} s; {reason}",
        )
    return expired


def expire_all_stale_runs() -> int:
    """:func:`expire_stale_runs` for every account with an unfinished run, verified or not
    (an account that failed verification is no longer scanned, so nothing else frees it)."""
    account_ids = (
        ScanRun.objects.filter(status__in=[ScanRun.Status.QUEUED, ScanRun.Status.RUNNING])
        .values_list("account_id", flat=True)
        .distinct()
    )
    return sum(expire_stale_runs(account_id) for account_id in list(account_ids))


def fail_unfinished(run: ScanRun, message: str) -> None:
    """End a queued (waiting for retry) or running run as failed, with its reason."""
    now = timezone.now()
    ScanRun.objects.filter(
        pk=run.pk, status__in=[ScanRun.Status.QUEUED, ScanRun.Status.RUNNING]
    ).update(status=ScanRun.Status.FAILED, finished_at=now, message=message)
    run.refresh_from_db()


def claim(run: ScanRun) -> bool:
    """queued -> running, unless another account scan of the account is running."""
    expire_stale_runs(run.account_id)
    now = timezone.now()
    try:
        with transaction.atomic():
            claimed = ScanRun.objects.filter(pk=run.pk, status=ScanRun.Status.QUEUED).update(
                status=ScanRun.Status.RUNNING, started_at=now, heartbeat_at=now, message=""
            )
    except IntegrityError:
        holder = (
            ScanRun.objects.filter(
                account_id=run.account_id,
                kind=ScanRun.Kind.ACCOUNT,
                status=ScanRun.Status.RUNNING,
            )
            .exclude(pk=run.pk)
            .first()
        )
        message = "another scan of this account is running"
        if holder is not None:
            message += f" (scan #{holder.pk})"
        ScanRun.objects.filter(pk=run.pk, status=ScanRun.Status.QUEUED).update(
            status=ScanRun.Status.SKIPPED, finished_at=now, message=message
        )
        run.refresh_from_db()
        return False
    run.refresh_from_db()
    return claimed == 1


def _finish(run: ScanRun, status: str, message: str = "") -> None:
    now = timezone.now()
    run.status = status
    run.finished_at = now
    run.message = message
    ScanRun.objects.filter(pk=run.pk).update(status=status, finished_at=now, message=message)


def _mark_gone(account: AwsAccount, started_at: datetime) -> int:
    """Buckets of the account not seen by this complete scan are gone (kept, with history)."""
    now = timezone.now()
    gone_ids = list(
        Bucket.objects.filter(account=account, gone_at__isnull=True)
        .filter(Q(last_seen_at__lt=started_at) | Q(last_seen_at__isnull=True))
        .values_list("pk", flat=True)
    )
    if gone_ids:
        with transaction.atomic():
            Bucket.objects.filter(pk__in=gone_ids).update(gone_at=now)
            resolve_all(gone_ids, now, "the bucket no longer exists")
    return len(gone_ids)


def _known_regions(account: AwsAccount) -> dict[str, tuple[str, datetime | None]]:
    rows = (
        Bucket.objects.filter(account=account, gone_at__isnull=True)
        .exclude(region="")
        .values_list("name", "region", "created_on_aws")
    )
    return {name: (region, created) for name, region, created in rows.iterator()}


def execute(run: ScanRun, *, emit: EmitCallback | None = None) -> ScanRun:
    """Run a queued account scan to the end. Idempotent: a finished run is left alone.

    Raises :class:`TransientScanError` (after putting the run back in the queue) when
    listing failed for a reason worth retrying.
    """
    if run.is_finished:
        return run
    if not claim(run):
        return run
    account = run.account
    options = ScanOptions(patterns=tuple(run.patterns or ()), skip=frozenset(run.skipped_checks))
    try:
        scan = prepare(account, options, known_regions=_known_regions(account))
    except ListingError as exc:
        if exc.transient:
            ScanRun.objects.filter(pk=run.pk).update(
                status=ScanRun.Status.QUEUED,
                started_at=None,
                heartbeat_at=timezone.now(),
                message=f"will retry: {exc}",
            )
            raise TransientScanError(str(exc)) from exc
        _finish(run, ScanRun.Status.FAILED, str(exc))
        return run
    run.buckets_total = len(scan.refs)
    ScanRun.objects.filter(pk=run.pk).update(
        buckets_total=run.buckets_total, heartbeat_at=timezone.now()
    )
    persister = Persister(run, account, scan.account_pab, emit)
    try:
        for result in scan.results():
            persister.add(result)
        persister.flush()
        if not options.patterns and run.started_at is not None:
            persister.counts["gone"] += _mark_gone(account, run.started_at)
            persister._save_progress(timezone.now())
    except Exception as exc:
        logger.exception("scan run %s failed", run.pk)
        detail = describe_failure(exc, account_name=account.name)
        _finish(run, ScanRun.Status.FAILED, f"internal error: {detail}")
        raise
    _finish(run, ScanRun.Status.SUCCEEDED)
    alerts.alert_after_commit(account.pk)
    return run


def rescan_bucket(
    bucket: Bucket, *, actor: User | None = None, trigger: str = ScanRun.Trigger.FIX
) -> ScanRun:
    """Scan one bucket now (after a fix, or from the bucket page). Does not take the account
    lock: a single bucket is quick, and its result is saved like any other."""
    account = bucket.account
    run = create_run(
        account, trigger=trigger, actor=actor, kind=ScanRun.Kind.BUCKET, patterns=[bucket.name]
    )
    now = timezone.now()
    ScanRun.objects.filter(pk=run.pk).update(
        status=ScanRun.Status.RUNNING, started_at=now, heartbeat_at=now, buckets_total=1
    )
    run.refresh_from_db()
    ref = BucketRef(name=bucket.name, region=bucket.region or None, created=bucket.created_on_aws)
    options = ScanOptions(pool_size=1)
    try:
        scan = prepare(account, options, refs=[ref])
        persister = Persister(run, account, scan.account_pab)
        for result in scan.results():
            persister.add(result)
        persister.flush()
    except Exception as exc:
        logger.exception("rescan of bucket %s failed", bucket.pk)
        _finish(run, ScanRun.Status.FAILED, describe_failure(exc, account_name=account.name))
        return run
    _finish(run, ScanRun.Status.SUCCEEDED)
    alerts.alert_after_commit(account.pk)
    return run


def meets_threshold(checks: dict[str, dict[str, Any]], minimum: str) -> bool:
    """True when a failing (or unreadable) check is at least `minimum` severe."""
    return any(
        c["status"] in (FAIL, ERROR) and severity_at_least(c.get("severity"), minimum)
        for c in checks.values()
    )


__all__ = [
    "CHECK_NAMES",
    "AccountScan",
    "BucketResult",
    "Persister",
    "ScanOptions",
    "TransientScanError",
    "claim",
    "create_run",
    "execute",
    "expire_all_stale_runs",
    "fail_unfinished",
    "prepare",
    "rescan_bucket",
    "scan_account_results",
]
