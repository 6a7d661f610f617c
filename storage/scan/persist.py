"""The database side of a scan: Bucket (latest verdict), BucketSnapshot, Findings, progress.

Results are saved by the calling thread in small batches (one transaction each), so memory
stays flat however many buckets the account has.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from storage.models import SEVERITY_RANK, Bucket, BucketSnapshot, Finding, ScanRun
from storage.scan.checks import ERROR, FAIL
from storage.scan.collect import Fetched
from storage.scan.fanout import BucketResult
from storage.scan.findings import SyncOutcome, resolve_all, sync_findings
from storage.scan.findings import save as save_findings
from storage.signals import bucket_scanned

logger = logging.getLogger(__name__)

FLUSH_EVERY = 25  # buckets per database transaction
FLUSH_SECONDS = 1.0  # ...or this often, so progress stays live
MAX_STORED_ERRORS = 100


def _check_dicts(result: BucketResult) -> dict[str, dict[str, Any]]:
    return result.checks


def _worst(checks: dict[str, dict[str, Any]]) -> str:
    failing = [c["severity"] for c in checks.values() if c["status"] == FAIL and c["severity"]]
    return max(failing, key=lambda s: SEVERITY_RANK.get(s, 0), default="")


EmitCallback = Callable[[BucketResult, Bucket, list[Finding]], None]


class Persister:
    """Saves results in batches: Bucket (latest verdict), BucketSnapshot, Findings, progress."""

    def __init__(
        self,
        run: ScanRun,
        account: Any,
        account_pab: Fetched | None,
        emit: EmitCallback | None = None,
    ) -> None:
        self.run = run
        self.account = account
        self.account_pab = account_pab
        self.emit = emit
        self.buffer: list[BucketResult] = []
        self.last_flush = time.monotonic()
        # Counts only: keeping the findings themselves would grow with the number of buckets.
        self.findings_count = {"opened": 0, "refreshed": 0, "resolved": 0}
        self.counts: dict[str, int] = {
            "buckets": 0,
            "public": 0,
            "unknown": 0,
            "failing_checks": 0,
            "check_errors": 0,
            "new_buckets": 0,
            "gone": 0,
        }
        self.errors: list[str] = list(run.errors or [])
        self.error_count = run.error_count

    def add(self, result: BucketResult) -> None:
        self.buffer.append(result)
        if len(self.buffer) >= FLUSH_EVERY or time.monotonic() - self.last_flush >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        batch, self.buffer = self.buffer, []
        self.last_flush = time.monotonic()
        if not batch:
            return
        now = timezone.now()
        emitted: list[tuple[BucketResult, Bucket, list[Finding]]] = []
        with transaction.atomic():
            names = [r.name for r in batch]
            existing = {
                b.name: b
                for b in Bucket.objects.select_for_update().filter(
                    account=self.account, name__in=names
                )
            }
            open_by_bucket: dict[int, dict[str, Finding]] = {}
            for finding in Finding.objects.filter(
                bucket__in=existing.values(), resolved_at__isnull=True
            ):
                open_by_bucket.setdefault(finding.bucket_id, {})[finding.check_name] = finding
            snapshots = []
            batch_outcome = SyncOutcome()
            vanished: list[int] = []
            for result in batch:
                bucket = existing.get(result.name)
                if bucket is None:
                    bucket = Bucket(account=self.account, name=result.name, first_seen_at=now)
                    self.counts["new_buckets"] += 1
                self._apply(bucket, result, now)
                bucket.save()
                checks = _check_dicts(result)
                snapshots.append(
                    BucketSnapshot(
                        bucket=bucket,
                        run=self.run if self.run.pk else None,
                        taken_at=now,
                        region=result.region,
                        is_public=result.evaluation.public,
                        checks=checks,
                        verdict=result.evaluation.verdict_dict(),
                        data=result.snapshot_data(self.account_pab),
                    )
                )
                open_findings = open_by_bucket.setdefault(bucket.pk, {})
                if result.facts.vanished:
                    vanished.append(bucket.pk)
                else:
                    batch_outcome.merge(
                        sync_findings(
                            bucket, checks, run=self.run, now=now, open_findings=open_findings
                        )
                    )
                self._count(result, checks)
                emitted.append((result, bucket, list(open_findings.values())))
            BucketSnapshot.objects.bulk_create(snapshots)
            save_findings(batch_outcome)
            self.findings_count["opened"] += len(batch_outcome.opened)
            self.findings_count["refreshed"] += len(batch_outcome.refreshed)
            self.findings_count["resolved"] += len(batch_outcome.resolved)
            if vanished:
                Bucket.objects.filter(pk__in=vanished).update(gone_at=now)
                resolve_all(vanished, now, "the bucket no longer exists")
                self.counts["gone"] += len(vanished)
            self._save_progress(now)
        self._announce(emitted, vanished)
        if self.emit is not None:
            for result, bucket, findings in emitted:
                if bucket.pk in vanished:
                    findings = []
                self.emit(result, bucket, findings)

    def _announce(
        self, emitted: list[tuple[BucketResult, Bucket, list[Finding]]], vanished: list[int]
    ) -> None:
        """Tell listeners (lifecycle drift) what the scan read about each saved bucket."""
        for result, bucket, _ in emitted:
            if bucket.pk in vanished:
                continue
            answers = bucket_scanned.send_robust(
                sender=Bucket,
                bucket=bucket,
                lifecycle=result.facts.calls.get("lifecycle"),
                run=self.run if self.run.pk else None,
            )
            for receiver, answer in answers:
                if isinstance(answer, Exception):
                    logger.error(
                        "bucket_scanned receiver %r failed for bucket %s",
                        receiver,
                        bucket.pk,
                        exc_info=answer,
                    )

    def _apply(self, bucket: Bucket, result: BucketResult, now: datetime) -> None:
        checks = _check_dicts(result)
        if result.region:
            bucket.region = result.region
        if result.created:
            bucket.created_on_aws = result.created
        bucket.last_seen_at = now
        bucket.gone_at = now if result.facts.vanished else None
        bucket.is_public = result.evaluation.public
        bucket.public_reasons = result.evaluation.public_reasons
        bucket.verdict = result.evaluation.verdict_dict()
        # Skipped checks keep their last known state.
        bucket.checks = {**(bucket.checks or {}), **checks}
        bucket.fail_count = sum(1 for c in bucket.checks.values() if c["status"] == FAIL)
        bucket.error_count = sum(1 for c in bucket.checks.values() if c["status"] == ERROR)
        bucket.worst_severity = _worst(bucket.checks)
        bucket.last_scanned_at = now

    def _count(self, result: BucketResult, checks: dict[str, dict[str, Any]]) -> None:
        self.counts["buckets"] += 1
        if result.evaluation.public:
            self.counts["public"] += 1
        elif result.evaluation.public is None:
            self.counts["unknown"] += 1
        for name, check in checks.items():
            if check["status"] == FAIL:
                self.counts["failing_checks"] += 1
            elif check["status"] == ERROR:
                self.counts["check_errors"] += 1
                self.error_count += 1
                if len(self.errors) < MAX_STORED_ERRORS:
                    self.errors.append(f"{result.name}: {name}: {check['detail']}")

    def counts_dict(self) -> dict[str, int]:
        return {**self.counts, **self.findings_count}

    def _save_progress(self, now: datetime) -> None:
        if not self.run.pk:
            return
        self.run.buckets_done = self.counts["buckets"]
        self.run.counts = self.counts_dict()
        self.run.errors = self.errors
        self.run.error_count = self.error_count
        self.run.heartbeat_at = now
        ScanRun.objects.filter(pk=self.run.pk).update(
            buckets_done=self.run.buckets_done,
            counts=self.run.counts,
            errors=self.run.errors,
            error_count=self.run.error_count,
            heartbeat_at=now,
        )
