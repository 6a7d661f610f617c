"""Drift: what a scan read against what the portal last wrote.

Connected to ``storage.signals.bucket_scanned`` in LifecycleConfig.ready(). A portal-owned rule
that differs from the last version the portal wrote (edited or removed outside the portal)
opens a ``lifecycle_drift`` finding (medium) whose detail says what differs; it resolves when
they agree again (re-applied, or accepted with :func:`accept_drift`). Any other change of the
configuration (a foreign rule added or edited) becomes an "observed" version, not a finding.
An unreadable configuration says nothing: nothing is recorded or resolved.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

import audit
from lifecycle.models import LifecycleVersion
from lifecycle.plan import (
    DRIFT_CHECK,
    LifecycleInvalid,
    read_current,
    record_version,
    sync_rows,
)
from lifecycle.s3shape import Rule, canonical, fingerprint, normalise_configuration, portal_prefix
from storage.models import Bucket, Finding, ScanRun, Severity
from storage.remediation.base import FixContext
from storage.scan.collect import Fetched

logger = logging.getLogger(__name__)


def last_written(bucket: Bucket) -> LifecycleVersion | None:
    return (
        LifecycleVersion.objects.filter(bucket=bucket)
        .exclude(reason=LifecycleVersion.Reason.OBSERVED)
        .order_by("-number")
        .first()
    )


def _owned_part(rules: list[Rule], owned: set[str]) -> dict[str, Rule]:
    prefix = portal_prefix()
    return {
        r["ID"]: r
        for r in rules
        if r.get("ID") in owned or (prefix and str(r.get("ID", "")).startswith(prefix))
    }


def differences(expected: list[Rule], actual: list[Rule], owned: set[str]) -> list[str]:
    """Sentences saying how the portal's rules in the bucket differ from what it wrote."""
    want = _owned_part(expected, owned)
    have = _owned_part(actual, owned)
    lines = []
    for rid, rule in want.items():
        if rid not in have:
            lines.append(f"Rule {rid} was removed outside the portal.")
        elif canonical(have[rid]) != canonical(rule):
            fields = sorted(
                k
                for k in set(rule) | set(have[rid])
                if canonical(rule.get(k)) != canonical(have[rid].get(k))
            )
            lines.append(
                f"Rule {rid} was edited outside the portal ({', '.join(fields)}): the portal "
                f"wrote {canonical({k: rule.get(k) for k in fields})}, the bucket has "
                f"{canonical({k: have[rid].get(k) for k in fields})}."
            )
    for rid in have:
        if rid not in want:
            lines.append(f"Rule {rid} carries the portal's ID prefix but was not written by it.")
    return lines


def on_bucket_scanned(
    sender: Any,
    *,
    bucket: Bucket,
    lifecycle: Fetched | None = None,
    run: ScanRun | None = None,
    **_: Any,
) -> None:
    if lifecycle is None or not lifecycle.ok:
        return  # not read, or unreadable: says nothing about drift
    try:
        config = normalise_configuration(None if lifecycle.not_configured else lifecycle.value)
    except ValueError:
        return
    with transaction.atomic():
        observe(bucket, config, run=run)


def observe(bucket: Bucket, config: dict[str, Any], *, run: ScanRun | None = None) -> list[str]:
    """Record a configuration a scan read; returns the drift found (empty: none)."""
    latest = LifecycleVersion.objects.filter(bucket=bucket).order_by("-number").first()
    written = last_written(bucket)
    if latest is None:
        if config.get("Rules"):
            record_version(
                bucket,
                config,
                LifecycleVersion.Reason.OBSERVED,
                owned=set(),
                detail="first seen by a scan",
            )
        return []
    if latest.fingerprint != fingerprint(config):
        record_version(
            bucket,
            config,
            LifecycleVersion.Reason.OBSERVED,
            owned=latest.owned_ids,
            detail="changed outside the portal",
        )
    drift = (
        differences(written.rules, config.get("Rules") or [], set(written.owned_ids))
        if written
        else []
    )
    now = timezone.now()
    finding = Finding.objects.filter(
        bucket=bucket, check_name=DRIFT_CHECK, resolved_at__isnull=True
    ).first()
    if drift:
        detail = " ".join(drift)
        if finding is None:
            Finding.objects.create(
                bucket=bucket,
                check_name=DRIFT_CHECK,
                severity=Severity.MEDIUM,
                detail=detail,
                first_seen_at=now,
                last_seen_at=now,
                opened_by=run,
            )
        else:
            Finding.objects.filter(pk=finding.pk).update(detail=detail, last_seen_at=now)
    elif finding is not None:
        Finding.objects.filter(pk=finding.pk).update(
            resolved_at=now, resolution="the bucket has the portal's rules again"
        )
    return drift


def accept_drift(bucket: Bucket, *, actor: Any, actor_name: str = "") -> LifecycleVersion:
    """Take what is in the bucket as the portal's rules (no write to S3). Audited."""
    current = read_current(FixContext.for_bucket(bucket))
    written = last_written(bucket)
    if written is None:
        raise LifecycleInvalid([f"The portal has not written lifecycle rules to {bucket.name}."])
    owned = set(_owned_part(current.rules, set(written.owned_ids)))
    with transaction.atomic():
        sync_rows(bucket, current.rules, owned, actor)
        version = record_version(
            bucket,
            current.config,
            LifecycleVersion.Reason.ADOPTED,
            owned=owned,
            actor=actor,
            actor_name=actor_name,
            detail="accepted the bucket's rules after drift",
        )
        Finding.objects.filter(
            bucket=bucket, check_name=DRIFT_CHECK, resolved_at__isnull=True
        ).update(resolved_at=timezone.now(), resolution="accepted what is in the bucket")
        audit.record(
            actor,
            bucket.account.tenant,
            "lifecycle.drift.accept",
            bucket,
            before={"bucket": bucket.name, "configuration": written.configuration},
            after={"bucket": bucket.name, "configuration": current.config},
            actor_name=actor_name or None,
        )
    return version
