"""Drift from the scan (through storage.signals.bucket_scanned): a portal rule edited or removed
outside the portal opens a lifecycle_drift finding (medium) with the difference; re-apply or
accept resolves it; foreign changes become observed versions, not findings."""

from __future__ import annotations

from typing import Any

from tests.lifecycle_helpers import BUCKET
from tests.scan_helpers import full_scan

pytest_plugins = ["tests.lifecycle_fixtures"]

MINE = {
    "ID": "s3portal-logs",
    "Filter": {"Prefix": "logs/"},
    "Status": "Enabled",
    "Expiration": {"Days": 7},
}
THEIRS = {
    "ID": "theirs",
    "Filter": {"Prefix": "tmp/"},
    "Status": "Enabled",
    "Expiration": {"Days": 30},
}


def drift_findings(bucket: Any) -> Any:
    from storage.models import Finding

    return Finding.objects.filter(bucket=bucket, check_name="lifecycle_drift")


def put(s3: Any, *rules: dict[str, Any]) -> None:
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": list(rules)}
    )


def test_edit_outside_the_portal_opens_a_finding(
    verified_account: Any, lc_bucket: Any, s3: Any
) -> None:
    from lifecycle.plan import run_rules

    put(s3, THEIRS)
    run_rules(lc_bucket, [MINE], dry_run=False)
    full_scan(verified_account)
    assert not drift_findings(lc_bucket).exists()
    put(s3, THEIRS, dict(MINE, Expiration={"Days": 1}))
    run = full_scan(verified_account)
    finding = drift_findings(lc_bucket).get()
    assert finding.severity == "medium" and finding.resolved_at is None
    assert finding.opened_by == run
    assert "Rule s3portal-logs was edited outside the portal (Expiration)" in finding.detail
    assert '{"Expiration":{"Days":7}}' in finding.detail
    assert '{"Expiration":{"Days":1}}' in finding.detail
    # A second scan refreshes, not duplicates; the observed version is recorded once.
    full_scan(verified_account)
    assert drift_findings(lc_bucket).count() == 1
    from lifecycle.models import LifecycleVersion

    assert LifecycleVersion.objects.filter(bucket=lc_bucket, reason="observed").count() == 2
    # Re-applying the portal's rules resolves it.
    from lifecycle.plan import portal_rules

    run_rules(lc_bucket, portal_rules(lc_bucket), dry_run=False)
    assert not drift_findings(lc_bucket).filter(resolved_at__isnull=True).exists()
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"][1]["Expiration"] == {
        "Days": 7
    }


def test_removed_outside_then_accepted(
    verified_account: Any, lc_bucket: Any, s3: Any, personas: Any
) -> None:
    from audit.models import AuditEvent
    from lifecycle.drift import accept_drift
    from lifecycle.models import LifecycleRule
    from lifecycle.plan import run_rules

    run_rules(lc_bucket, [MINE], dry_run=False)
    put(s3, THEIRS)
    full_scan(verified_account)
    assert (
        "Rule s3portal-logs was removed outside the portal."
        in drift_findings(lc_bucket).get().detail
    )
    accept_drift(lc_bucket, actor=personas.oscar)
    assert not LifecycleRule.objects.filter(bucket=lc_bucket).exists()
    assert drift_findings(lc_bucket).get().resolved_at is not None
    assert AuditEvent.objects.filter(action="lifecycle.drift.accept").count() == 1
    full_scan(verified_account)
    assert not drift_findings(lc_bucket).filter(resolved_at__isnull=True).exists()


def test_foreign_change_is_history_not_a_finding(
    verified_account: Any, lc_bucket: Any, s3: Any
) -> None:
    from lifecycle.models import LifecycleVersion
    from lifecycle.plan import run_rules

    run_rules(lc_bucket, [MINE], dry_run=False)
    put(s3, MINE, THEIRS)
    full_scan(verified_account)
    assert not drift_findings(lc_bucket).exists()
    latest = LifecycleVersion.objects.filter(bucket=lc_bucket).order_by("-number").first()
    assert latest.reason == "observed" and [r["ID"] for r in latest.rules] == [
        "s3portal-logs",
        "theirs",
    ]


def test_unreadable_configuration_says_nothing(
    verified_account: Any, lc_bucket: Any, s3: Any, aws_faults: Any
) -> None:
    from lifecycle.models import LifecycleVersion
    from lifecycle.plan import run_rules

    run_rules(lc_bucket, [MINE], dry_run=False)
    aws_faults.fail("GetBucketLifecycleConfiguration", "AccessDenied", bucket=BUCKET)
    full_scan(verified_account)
    assert not drift_findings(lc_bucket).exists()
    assert LifecycleVersion.objects.filter(bucket=lc_bucket).count() == 1


def test_first_scan_records_a_baseline(verified_account: Any, lc_bucket: Any, s3: Any) -> None:
    from lifecycle.models import LifecycleVersion

    put(s3, THEIRS)
    full_scan(verified_account)
    version = LifecycleVersion.objects.get(bucket=lc_bucket)
    assert (version.number, version.reason, version.owned_ids) == (1, "observed", [])


def test_failing_receiver_never_fails_the_scan(
    verified_account: Any, lc_bucket: Any, monkeypatch: Any
) -> None:
    from lifecycle import drift

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(drift, "observe", boom)
    run = full_scan(verified_account)
    assert run.status == "succeeded"
