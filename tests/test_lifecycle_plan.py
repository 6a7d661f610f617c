"""Merge-safe plan/apply: foreign rules byte-identical, the setting carried, failed reads stop
everything, changed-since-plan refused, delete only when nothing is left, history, rollback."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.lifecycle_helpers import BUCKET, FOREIGN_RULES

pytest_plugins = ["tests.lifecycle_fixtures"]


def portal_rule(rule_id: str = "s3portal-logs", days: int = 7, **extra: Any) -> dict[str, Any]:
    return {
        "ID": rule_id,
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": days},
        **extra,
    }


def answer_with(aws_faults: Any, rules: list[dict[str, Any]], tdmos: str | None = None) -> Any:
    response: dict[str, Any] = {"Rules": rules}
    if tdmos:
        response["TransitionDefaultMinimumObjectSize"] = tdmos
    return aws_faults.respond("GetBucketLifecycleConfiguration", response, bucket=BUCKET)


def test_first_rule_is_written_and_recorded(lc_bucket: Any, s3: Any, personas: Any) -> None:
    from audit.models import AuditEvent
    from lifecycle.models import LifecycleRule, LifecycleVersion
    from lifecycle.plan import run_rules

    outcome = run_rules(lc_bucket, [portal_rule()], actor=personas.oscar, dry_run=False)
    assert outcome.applied
    got = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert [r["ID"] for r in got] == ["s3portal-logs"]
    assert got[0]["Expiration"] == {"Days": 7}
    row = LifecycleRule.objects.get(bucket=lc_bucket)
    assert (row.rule_id, row.prefix, row.expiration_days, row.updated_by) == (
        "s3portal-logs",
        "logs/",
        7,
        personas.oscar,
    )
    version = LifecycleVersion.objects.get(bucket=lc_bucket)
    assert (version.number, version.reason, version.owned_ids) == (1, "apply", ["s3portal-logs"])
    event = AuditEvent.objects.get(action="lifecycle.apply")
    assert event.before["document"] == {"Rules": []}
    assert event.after["document"]["Rules"][0]["ID"] == "s3portal-logs"
    assert event.after["requests"][0]["operation"] == "PutBucketLifecycleConfiguration"


def test_foreign_rules_byte_identical_after_any_sequence(
    lc_bucket: Any, aws_faults: Any, s3_calls: Any, foreign_rules: list[dict[str, Any]]
) -> None:
    """Each Put carries every foreign rule exactly as the Get answered it, in its place."""
    from lifecycle.plan import run_rules

    state: list[dict[str, Any]] = [foreign_rules[0], foreign_rules[1]]
    state += [portal_rule("s3portal-a")] + foreign_rules[2:]
    fault = answer_with(aws_faults, state, "varies_by_storage_class")
    from lifecycle.models import LifecycleRule

    LifecycleRule.objects.create(bucket=lc_bucket, rule_id="s3portal-a", filter_kind="prefix")
    sequences = [
        [portal_rule("s3portal-a", 9)],
        [portal_rule("s3portal-a", 9), portal_rule("s3portal-b", 3)],
        [portal_rule("s3portal-b", 4)],
        [],
    ]
    for desired in sequences:
        before_put = len(s3_calls.of("PutBucketLifecycleConfiguration"))
        run_rules(lc_bucket, desired, dry_run=False)
        put = s3_calls.of("PutBucketLifecycleConfiguration")[before_put]
        sent = put["LifecycleConfiguration"]["Rules"]
        assert [r for r in sent if not r["ID"].startswith("s3portal-")] == FOREIGN_RULES
        # Foreign positions are kept: the two before the portal rule stay first.
        assert [r["ID"] for r in sent][:2] == ["team-archive", "legacy-prefix"]
        assert put["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
        assert [r for r in sent if r["ID"].startswith("s3portal-")] == desired
        # Next round reads what this round wrote.
        fault.response = {
            "Rules": copy.deepcopy(sent),
            "TransitionDefaultMinimumObjectSize": "varies_by_storage_class",
        }
    # Removing the portal's last rule kept the foreign ones: no DeleteBucketLifecycle.
    assert s3_calls.of("DeleteBucketLifecycle") == []


def test_transition_default_minimum_object_size_read_is_written(
    lc_bucket: Any, aws_faults: Any, s3_calls: Any
) -> None:
    """S3 switches a pre-2024 bucket to 128K when a Put omits it (terraform-provider-aws#41073)."""
    from lifecycle.plan import run_rules

    answer_with(aws_faults, [], "varies_by_storage_class")
    run_rules(lc_bucket, [portal_rule()], dry_run=False)
    (put,) = s3_calls.of("PutBucketLifecycleConfiguration")
    assert put["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"


def test_without_the_setting_in_the_read_none_is_sent(lc_bucket: Any, s3_calls: Any) -> None:
    from lifecycle.plan import run_rules

    run_rules(lc_bucket, [portal_rule()], dry_run=False)
    (put,) = s3_calls.of("PutBucketLifecycleConfiguration")
    assert "TransitionDefaultMinimumObjectSize" not in put


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("AccessDenied", "lack the permission s3:GetLifecycleConfiguration on bucket lc-data"),
        ("SlowDown", "throttled"),
        ("InternalError", "throttled"),
    ],
)
def test_failed_read_changes_nothing(
    lc_bucket: Any, s3: Any, aws_faults: Any, s3_calls: Any, code: str, words: str
) -> None:
    from lifecycle.plan import FixError, run_rules

    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": [FOREIGN_SMALL]}
    )
    aws_faults.fail("GetBucketLifecycleConfiguration", code, bucket=BUCKET)
    with pytest.raises(FixError) as caught:
        run_rules(lc_bucket, [portal_rule()], dry_run=False)
    assert words in str(caught.value)
    assert "Nothing was changed." in str(caught.value)
    assert s3_calls.writes == []
    aws_faults.faults.clear()
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"] == [FOREIGN_SMALL]


def test_500_that_is_not_throttling_changes_nothing(
    lc_bucket: Any, aws_faults: Any, s3_calls: Any
) -> None:
    from lifecycle.plan import FixError, run_rules

    aws_faults.fail("GetBucketLifecycleConfiguration", "InternalServerError", bucket=BUCKET)
    from tests.scan_fixtures import STATUS_FOR_CODE

    STATUS_FOR_CODE.setdefault("InternalServerError", 500)
    with pytest.raises(FixError, match="InternalServerError.*Nothing was changed"):
        run_rules(lc_bucket, [portal_rule()], dry_run=False)
    assert s3_calls.writes == []


def test_read_timeout_changes_nothing(lc_bucket: Any, read_timeout: list[int]) -> None:
    from lifecycle.plan import FixError, run_rules

    with pytest.raises(FixError, match="did not answer in time.*Nothing was changed"):
        run_rules(lc_bucket, [portal_rule()], dry_run=False)
    assert read_timeout == [1]


def test_malformed_answer_changes_nothing(lc_bucket: Any, aws_faults: Any, s3_calls: Any) -> None:
    from lifecycle.plan import FixError, run_rules

    aws_faults.respond("GetBucketLifecycleConfiguration", {"Rules": "garbage"}, bucket=BUCKET)
    with pytest.raises(FixError, match="malformed"):
        run_rules(lc_bucket, [portal_rule()], dry_run=False)
    assert s3_calls.writes == []


FOREIGN_SMALL = {
    "Expiration": {"Days": 30},
    "ID": "theirs",
    "Filter": {"Prefix": "tmp/"},
    "Status": "Enabled",
}


def test_changed_since_dry_run_is_refused(lc_bucket: Any, s3: Any, s3_calls: Any) -> None:
    from lifecycle.plan import FixConflict, plan_rules, run_rules

    plan = plan_rules(lc_bucket, [portal_rule()])
    assert plan.requests[0].operation == "PutBucketLifecycleConfiguration"
    # Someone else writes a rule between the dry run and the apply.
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": [FOREIGN_SMALL]}
    )
    with pytest.raises(FixConflict, match="changed since your dry run: review again"):
        run_rules(lc_bucket, [portal_rule()], dry_run=False, expected_digest=plan.digest())
    assert s3_calls.writes == []
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"] == [FOREIGN_SMALL]


def test_unchanged_since_dry_run_applies(lc_bucket: Any, s3: Any) -> None:
    from lifecycle.plan import plan_rules, run_rules

    plan = plan_rules(lc_bucket, [portal_rule()])
    outcome = run_rules(lc_bucket, [portal_rule()], dry_run=False, expected_digest=plan.digest())
    assert outcome.applied
    assert outcome.plan.requests == plan.requests


def test_delete_only_when_nothing_is_left(lc_bucket: Any, s3: Any, s3_calls: Any) -> None:
    from lifecycle.plan import run_rules

    run_rules(lc_bucket, [portal_rule()], dry_run=False)
    outcome = run_rules(lc_bucket, [], dry_run=False)
    assert [r.operation for r in outcome.plan.requests] == ["DeleteBucketLifecycle"]
    assert "deleted" in outcome.plan.summary
    assert s3_calls.of("DeleteBucketLifecycle") == [{"Bucket": BUCKET}]


def test_nothing_to_change_sends_nothing(lc_bucket: Any, s3_calls: Any) -> None:
    from lifecycle.plan import run_rules

    run_rules(lc_bucket, [portal_rule()], dry_run=False)
    outcome = run_rules(lc_bucket, [portal_rule()], dry_run=False)
    assert outcome.plan.noop and not outcome.applied
    assert s3_calls.writes == ["PutBucketLifecycleConfiguration"]


def test_rule_with_a_foreign_id_is_refused(lc_bucket: Any, s3: Any, s3_calls: Any) -> None:
    from lifecycle.plan import LifecycleInvalid, run_rules

    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": [FOREIGN_SMALL]}
    )
    with pytest.raises(LifecycleInvalid, match="'theirs' is a foreign rule.*adopt it first"):
        run_rules(lc_bucket, [dict(FOREIGN_SMALL, Expiration={"Days": 1})], dry_run=False)
    assert s3_calls.writes == []


def test_new_rule_needs_the_portal_prefix(lc_bucket: Any) -> None:
    from lifecycle.plan import LifecycleInvalid, plan_rules

    with pytest.raises(LifecycleInvalid, match="start with 's3portal-'"):
        plan_rules(lc_bucket, [portal_rule("mine")])


def test_invalid_rule_is_refused_before_any_request(lc_bucket: Any, s3_calls: Any) -> None:
    from lifecycle.plan import LifecycleInvalid, run_rules

    bad = portal_rule(Expiration={"Date": "2030-01-01T12:00:00+00:00"})
    with pytest.raises(LifecycleInvalid, match="midnight UTC") as caught:
        run_rules(lc_bucket, [bad], dry_run=False)
    assert caught.value.problems and s3_calls.calls == []


def test_prefix_marks_ownership_without_database(
    lc_bucket: Any, s3: Any, aws_faults: Any, s3_calls: Any
) -> None:
    """Rows lost: a rule with the portal's prefix is still the portal's (and is replaced)."""
    from lifecycle.plan import run_rules

    answer_with(aws_faults, [FOREIGN_SMALL, portal_rule("s3portal-old")])
    run_rules(lc_bucket, [portal_rule("s3portal-new")], dry_run=False)
    (put,) = s3_calls.of("PutBucketLifecycleConfiguration")
    assert [r["ID"] for r in put["LifecycleConfiguration"]["Rules"]] == ["theirs", "s3portal-new"]


def test_adopt_makes_a_foreign_rule_editable(lc_bucket: Any, s3: Any, personas: Any) -> None:
    from audit.models import AuditEvent
    from lifecycle.plan import adopt_rule, owned_ids, run_rules

    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": [FOREIGN_SMALL]}
    )
    adopt_rule(lc_bucket, "theirs", actor=personas.alice)
    assert "theirs" in owned_ids(lc_bucket)
    assert AuditEvent.objects.filter(action="lifecycle.rule.adopt").count() == 1
    run_rules(lc_bucket, [dict(FOREIGN_SMALL, Expiration={"Days": 60})], dry_run=False)
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rules[0]["Expiration"] == {"Days": 60}


def test_history_and_rollback(lc_bucket: Any, s3: Any, personas: Any) -> None:
    from audit.models import AuditEvent
    from lifecycle.models import LifecycleVersion
    from lifecycle.plan import rollback_rules, run_rules

    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": [FOREIGN_SMALL]}
    )
    run_rules(lc_bucket, [portal_rule(days=7)], dry_run=False, actor=personas.oscar)
    run_rules(lc_bucket, [portal_rule(days=9)], dry_run=False, actor=personas.oscar)
    numbers = list(
        LifecycleVersion.objects.filter(bucket=lc_bucket)
        .order_by("number")
        .values_list("number", "reason")
    )
    assert numbers == [(1, "observed"), (2, "apply"), (3, "apply")]
    v2 = LifecycleVersion.objects.get(bucket=lc_bucket, number=2)
    # A foreign rule changes in the meantime: rollback keeps it as it is now.
    changed_foreign = dict(FOREIGN_SMALL, Expiration={"Days": 45})
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET,
        LifecycleConfiguration={"Rules": [changed_foreign, portal_rule(days=9)]},
    )
    rules, exact = rollback_rules(lc_bucket, v2)
    assert exact is None
    outcome = run_rules(lc_bucket, rules, reason="rollback", detail="to version 2", dry_run=False)
    assert outcome.applied
    now = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert now[0]["Expiration"] == {"Days": 45}
    assert now[1]["Expiration"] == {"Days": 7}
    assert AuditEvent.objects.filter(action="lifecycle.rollback").count() == 1
    # Restoring foreign rules too gives version 2 exactly.
    rules, exact = rollback_rules(lc_bucket, v2, restore_foreign=True)
    run_rules(lc_bucket, rules, reason="rollback", exact_rules=exact, dry_run=False)
    got = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert [r["Expiration"] for r in got] == [{"Days": 30}, {"Days": 7}]


def test_reread_right_before_the_put(
    lc_bucket: Any, s3: Any, s3_calls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even without a dry run (CLI, tasks), a change between the plan's read and the Put is
    caught by the re-read just before the Put: nothing is written."""
    from lifecycle import plan as plan_module
    from lifecycle.plan import FixConflict, run_rules

    real = plan_module.read_current
    reads: list[int] = []

    def read_then_someone_writes(ctx: Any) -> Any:
        reads.append(1)
        current = real(ctx)
        if len(reads) == 1:
            s3.put_bucket_lifecycle_configuration(
                Bucket=BUCKET, LifecycleConfiguration={"Rules": [FOREIGN_SMALL]}
            )
        return current

    monkeypatch.setattr(plan_module, "read_current", read_then_someone_writes)
    with pytest.raises(FixConflict):
        run_rules(lc_bucket, [portal_rule()], dry_run=False)
    assert len(reads) == 2
    assert s3_calls.writes == []
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"] == [FOREIGN_SMALL]
