"""Findings over time: a scan opens new ones, refreshes those still true, resolves those gone.

A check that errored says nothing new about the bucket, so its finding is left as it was
(neither refreshed nor resolved): an unreadable setting is never taken as fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.models import Finding, ScanRun, Severity

FAIL, PASS = "fail", "pass"


@dataclass
class SyncOutcome:
    opened: list[Finding] = field(default_factory=list)
    refreshed: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)

    def merge(self, other: SyncOutcome) -> None:
        self.opened += other.opened
        self.refreshed += other.refreshed
        self.resolved += other.resolved


def sync_findings(
    bucket: Any,
    checks: dict[str, dict[str, Any]],
    *,
    run: ScanRun | None,
    now: datetime,
    open_findings: dict[str, Finding],
) -> SyncOutcome:
    """Apply one bucket's check results (name -> {"status","detail","severity"}) to its
    findings, in memory: :func:`save` writes a batch of outcomes at once. ``open_findings`` is
    the bucket's unresolved findings by check; it is updated."""
    outcome = SyncOutcome()
    for check, result in checks.items():
        finding = open_findings.get(check)
        status = result.get("status")
        if status == FAIL:
            severity = result.get("severity") or Severity.MEDIUM
            if finding is None:
                finding = Finding(
                    bucket=bucket,
                    check_name=check,
                    severity=severity,
                    detail=result.get("detail", ""),
                    first_seen_at=now,
                    last_seen_at=now,
                    opened_by=run,
                )
                open_findings[check] = finding
                outcome.opened.append(finding)
                continue
            if severity == Severity.HIGH and finding.severity != Severity.HIGH:
                finding.alerted_at = None  # escalated: alert as if it were new
            finding.severity = severity
            finding.detail = result.get("detail", "")
            finding.last_seen_at = now
            outcome.refreshed.append(finding)
        elif status == PASS and finding is not None:
            finding.resolved_at = now
            finding.resolution = f"check passed: {result.get('detail', '')}"[:200]
            del open_findings[check]
            outcome.resolved.append(finding)
    return outcome


def save(outcome: SyncOutcome) -> None:
    """Write a batch of outcomes: one INSERT and two UPDATE statements, whatever the size."""
    Finding.objects.bulk_create(outcome.opened)
    for finding in outcome.refreshed:
        finding.fill_denormalized()
    Finding.objects.bulk_update(
        outcome.refreshed, ["severity", "severity_rank", "detail", "last_seen_at", "alerted_at"]
    )
    Finding.objects.bulk_update(outcome.resolved, ["resolved_at", "resolution"])


def resolve_all(bucket_ids: list[int], now: datetime, resolution: str) -> int:
    return Finding.objects.filter(bucket_id__in=bucket_ids, resolved_at__isnull=True).update(
        resolved_at=now, resolution=resolution[:200]
    )
