"""Two changes to one bucket never interleave (storage/remediation/locks.py).

S3 has no conditional write for bucket configuration: without the lock, two applies that both
re-read the bucket before either writes would both pass the "unchanged since the dry run" check,
and the second write would silently replace the first's rules.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from storage.models import BucketChangeLock
from storage.remediation import FixConflict, FixError, run_fix
from storage.remediation.locks import BucketBusy, bucket_change_lock
from tests.lifecycle_helpers import BUCKET

pytest_plugins = ["tests.lifecycle_fixtures"]
pytestmark = pytest.mark.django_db


def rule(rule_id: str, prefix: str) -> dict[str, Any]:
    return {
        "ID": rule_id,
        "Filter": {"Prefix": prefix},
        "Status": "Enabled",
        "Expiration": {"Days": 7},
    }


def test_an_apply_while_another_holds_the_bucket_is_refused_and_writes_nothing(
    lc_bucket: Any, s3: Any, s3_calls: Any
) -> None:
    from lifecycle.plan import plan_rules, run_rules

    digest = plan_rules(lc_bucket, [rule("s3portal-a", "a/")]).digest()
    busy = r"\(lifecycle by bob\) is being applied right now"
    with bucket_change_lock(lc_bucket, "lifecycle by bob"), pytest.raises(BucketBusy, match=busy):
        run_rules(lc_bucket, [rule("s3portal-a", "a/")], dry_run=False, expected_digest=digest)
    assert s3_calls.writes == []
    assert BucketChangeLock.objects.count() == 0  # released
    outcome = run_rules(
        lc_bucket, [rule("s3portal-a", "a/")], dry_run=False, expected_digest=digest
    )
    assert outcome.applied


def test_interleaved_applies_lose_nothing(lc_bucket: Any, s3: Any, monkeypatch: Any) -> None:
    """Alice and Bob both reviewed the empty bucket. Bob's apply starts while Alice's is between
    its re-read and its write: Bob is refused, Alice's rule is written, and Bob's next review
    shows her rule (his plan keeps it out only if he removes it on purpose)."""
    from lifecycle import plan as lifecycle_plan
    from lifecycle.plan import plan_rules, run_rules

    alice_digest = plan_rules(lc_bucket, [rule("s3portal-alice", "a/")]).digest()
    bob_digest = plan_rules(lc_bucket, [rule("s3portal-bob", "b/")]).digest()
    assert alice_digest and bob_digest
    real_apply = lifecycle_plan.LifecycleFix.apply
    bob: dict[str, Any] = {}

    def alice_writing(self: Any, ctx: Any, plan: Any) -> int:
        if not bob:  # Bob clicks Apply in the instant before Alice's write
            try:
                run_rules(
                    lc_bucket,
                    [rule("s3portal-bob", "b/")],
                    dry_run=False,
                    expected_digest=bob_digest,
                )
                bob["result"] = "applied"
            except FixConflict as exc:
                bob["result"] = exc
        return real_apply(self, ctx, plan)

    monkeypatch.setattr(lifecycle_plan.LifecycleFix, "apply", alice_writing)
    run_rules(
        lc_bucket, [rule("s3portal-alice", "a/")], dry_run=False, expected_digest=alice_digest
    )
    assert isinstance(bob["result"], BucketBusy)
    ids = [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]]
    assert ids == ["s3portal-alice"]
    # Bob's old dry run no longer matches: he must review again
    monkeypatch.setattr(lifecycle_plan.LifecycleFix, "apply", real_apply)
    with pytest.raises(FixConflict, match="changed since your dry run"):
        run_rules(
            lc_bucket, [rule("s3portal-bob", "b/")], dry_run=False, expected_digest=bob_digest
        )


def test_a_lock_left_by_a_crashed_worker_expires(lc_bucket: Any, s3: Any) -> None:
    from lifecycle.plan import run_rules

    BucketChangeLock.objects.create(
        bucket=lc_bucket,
        token="gone",
        taken_at=timezone.now() - timedelta(hours=1),
        expires_at=timezone.now() - timedelta(seconds=1),
        what="a worker that died",
    )
    assert run_rules(lc_bucket, [rule("s3portal-a", "a/")], dry_run=False).applied
    assert BucketChangeLock.objects.count() == 0


def test_a_live_lock_is_not_taken_over(lc_bucket: Any) -> None:
    BucketChangeLock.objects.create(
        bucket=lc_bucket, token="live", expires_at=timezone.now() + timedelta(minutes=1)
    )
    with pytest.raises(BucketBusy), bucket_change_lock(lc_bucket):
        pass
    assert BucketChangeLock.objects.get(bucket=lc_bucket).token == "live"  # left alone


def test_the_lock_is_released_when_the_write_fails(
    lc_bucket: Any, s3: Any, aws_faults: Any
) -> None:
    from lifecycle.plan import run_rules

    aws_faults.fail("PutBucketLifecycleConfiguration", "AccessDenied")
    with pytest.raises(FixError):
        run_rules(lc_bucket, [rule("s3portal-a", "a/")], dry_run=False)
    assert BucketChangeLock.objects.count() == 0


def test_security_fixes_take_the_same_lock(lc_bucket: Any, s3: Any, s3_calls: Any) -> None:
    with bucket_change_lock(lc_bucket, "versioning"), pytest.raises(BucketBusy):
        run_fix(lc_bucket, "block_public_access", {}, dry_run=False)
    assert s3_calls.writes == []


def test_a_dry_run_needs_no_lock(lc_bucket: Any, s3: Any) -> None:
    from lifecycle.plan import plan_rules

    with bucket_change_lock(lc_bucket, "someone else"):
        plan = plan_rules(lc_bucket, [rule("s3portal-a", "a/")])
    assert plan.requests[0].operation == "PutBucketLifecycleConfiguration"


def test_locks_of_two_buckets_are_independent(lc_bucket: Any, lc_bucket_b: Any) -> None:
    with bucket_change_lock(lc_bucket), bucket_change_lock(lc_bucket_b):
        assert BucketChangeLock.objects.count() == 2
    assert BucketChangeLock.objects.count() == 0
