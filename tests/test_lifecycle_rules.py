"""The rule model: lossless round trip rows <-> S3's shape <-> moto, rules in words, and local
validation to AWS's documented rules (moto accepts most of what S3 rejects)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.lifecycle_helpers import BUCKET, FOREIGN_RULES

pytest_plugins = ["tests.lifecycle_fixtures"]

EVERY_FIELD = {
    "ID": "s3portal-everything",
    "Filter": {
        "And": {
            "Prefix": "logs/",
            "Tags": [{"Key": "temp", "Value": "true"}],
            "ObjectSizeGreaterThan": 1024,
            "ObjectSizeLessThan": 1048576,
        }
    },
    "Status": "Disabled",
    "Expiration": {"Days": 400},
    "Transitions": [
        {"Days": 30, "StorageClass": "STANDARD_IA"},
        {"Days": 90, "StorageClass": "GLACIER"},
        {"Days": 365, "StorageClass": "DEEP_ARCHIVE"},
    ],
    "NoncurrentVersionTransitions": [
        {"NoncurrentDays": 30, "StorageClass": "STANDARD_IA", "NewerNoncurrentVersions": 2}
    ],
    "NoncurrentVersionExpiration": {"NoncurrentDays": 90, "NewerNoncurrentVersions": 3},
}


@pytest.mark.parametrize("rule", [EVERY_FIELD, *FOREIGN_RULES], ids=lambda r: r["ID"])
def test_round_trip_s3_to_row_to_s3(rule: dict[str, Any], db: Any) -> None:
    from lifecycle.s3shape import rule_from_s3, rule_to_s3

    assert rule_to_s3(rule_from_s3(rule)) == rule


def test_round_trip_through_the_database_and_moto(lc_bucket: Any, s3: Any) -> None:
    from lifecycle.models import LifecycleRule
    from lifecycle.s3shape import normalise_configuration, rule_from_s3

    date_rule = {
        "ID": "s3portal-dated",
        "Filter": {"Tag": {"Key": "k", "Value": "v"}},
        "Status": "Enabled",
        "Expiration": {"Date": "2031-01-01T00:00:00+00:00"},
        "Transitions": [{"Date": "2030-01-01T00:00:00+00:00", "StorageClass": "GLACIER"}],
    }
    abort_rule = {
        "ID": "s3portal-abort",
        "Filter": {},
        "Status": "Enabled",
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        "Expiration": {"ExpiredObjectDeleteMarker": True},
    }
    for position, rule in enumerate((date_rule, abort_rule)):
        row = rule_from_s3(rule, bucket=lc_bucket, position=position)
        row.save()
    stored = [r.to_s3() for r in LifecycleRule.objects.filter(bucket=lc_bucket)]
    assert stored == [date_rule, abort_rule]
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": stored})
    read = normalise_configuration(s3.get_bucket_lifecycle_configuration(Bucket=BUCKET))
    # moto answers in its own key order and with datetimes; normalised, it is the same.
    assert read["Rules"] == stored


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (
            {
                "ID": "x",
                "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "temp", "Value": "true"}]}},
                "Status": "Enabled",
                "Expiration": {"Days": 7},
            },
            "objects under logs/ tagged temp=true expire 7 days after creation",
        ),
        (
            {
                "ID": "x",
                "Filter": {},
                "Status": "Enabled",
                "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
            },
            "all objects move to Standard-IA 30 days after creation",
        ),
        (
            {
                "ID": "x",
                "Prefix": "old/",
                "Status": "Disabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            },
            "objects under old/ unfinished multipart uploads are aborted after 7 days (disabled)",
        ),
    ],
)
def test_rules_in_words(rule: dict[str, Any], words: str) -> None:
    from lifecycle.s3shape import describe_rule

    assert describe_rule(rule) == words


def ok_rule(**fields: Any) -> dict[str, Any]:
    rule = {"ID": "s3portal-r", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}
    rule.update(fields)
    return {k: v for k, v in rule.items() if v is not None}


# Each case: the rule (or configuration), the words of the one problem, the documented rule.
CASES = [
    # PutBucketLifecycleConfiguration: "up to 1,000 rules".
    ("config", {"Rules": [ok_rule(ID=f"s3portal-{i}") for i in range(1001)]}, "at most 1000"),
    # LifecycleRule.ID: "The value cannot be longer than 255 characters."
    ("rule", ok_rule(ID="s3portal-" + "x" * 250), "at most 255"),
    # Rule IDs are unique within a configuration (S3 answers InvalidArgument).
    ("config", {"Rules": [ok_rule(), ok_rule()]}, "used twice"),
    # LifecycleRuleAndOperator: "all of these predicates must be true" - two or more
    # (terraform-provider-aws#23882: And with one predicate -> MalformedXML).
    ("rule", ok_rule(Filter={"And": {"Prefix": "a/"}}), "two or more predicates"),
    # LifecycleRuleFilter holds exactly one predicate.
    ("rule", ok_rule(Filter={"Prefix": "a/", "Tag": {"Key": "k", "Value": "v"}}), "exactly one"),
    # A rule needs a Filter or the legacy Prefix (cloud-custodian#5183: MalformedXML).
    ("rule", ok_rule(Filter=None), "needs a Filter"),
    # LifecycleExpiration.Date: "must be in ISO 8601 format ... midnight UTC" (aws-cli#7677).
    ("rule", ok_rule(Expiration={"Date": "2030-01-01T10:30:00+00:00"}), "midnight UTC"),
    ("rule", ok_rule(Expiration={"Date": "2030-01-01T00:00:00+02:00"}), "midnight UTC"),
    # LifecycleExpiration.Days: "The value must be a non-zero positive integer."
    ("rule", ok_rule(Expiration={"Days": 0}), "greater than 0"),
    (
        "rule",
        ok_rule(Expiration=None, NoncurrentVersionExpiration={"NoncurrentDays": 0}),
        "greater than 0",
    ),
    (
        "rule",
        ok_rule(Expiration=None, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 0}),
        "DaysAfterInitiation > 0",
    ),
    # S3 UG transition considerations: >= 30 days before Standard-IA / One Zone-IA.
    (
        "rule",
        ok_rule(Expiration=None, Transitions=[{"Days": 10, "StorageClass": "STANDARD_IA"}]),
        "at least 30 days old",
    ),
    (
        "rule",
        ok_rule(
            Expiration=None,
            NoncurrentVersionTransitions=[{"NoncurrentDays": 29, "StorageClass": "ONEZONE_IA"}],
        ),
        "at least 30 days noncurrent",
    ),
    # ...and 30 days in IA before Glacier / Deep Archive in one rule.
    (
        "rule",
        ok_rule(
            Expiration=None,
            Transitions=[
                {"Days": 30, "StorageClass": "STANDARD_IA"},
                {"Days": 45, "StorageClass": "GLACIER"},
            ],
        ),
        "stay 30 days in Standard-IA",
    ),
    # Nothing moves out of Deep Archive (the waterfall only goes down).
    (
        "rule",
        ok_rule(
            Expiration=None,
            Transitions=[
                {"Days": 90, "StorageClass": "DEEP_ARCHIVE"},
                {"Days": 200, "StorageClass": "GLACIER"},
            ],
        ),
        "nothing moves out of Glacier Deep Archive",
    ),
    # S3 UG: no tag filter with abort-multipart or expired-object-delete-marker.
    (
        "rule",
        ok_rule(
            Filter={"Tag": {"Key": "k", "Value": "v"}},
            Expiration=None,
            AbortIncompleteMultipartUpload={"DaysAfterInitiation": 7},
        ),
        "cannot be combined with a tag filter",
    ),
    (
        "rule",
        ok_rule(
            Filter={"Tag": {"Key": "k", "Value": "v"}},
            Expiration={"ExpiredObjectDeleteMarker": True},
        ),
        "cannot be combined with a tag filter",
    ),
    # aws-cli#8239: expired delete marker with a size filter -> MalformedXML.
    (
        "rule",
        ok_rule(
            Filter={"ObjectSizeGreaterThan": 10}, Expiration={"ExpiredObjectDeleteMarker": True}
        ),
        "object size filter",
    ),
    # LifecycleExpiration: ExpiredObjectDeleteMarker "cannot be specified with Days or Date".
    ("rule", ok_rule(Expiration={"Days": 5, "ExpiredObjectDeleteMarker": True}), "stands alone"),
    # NoncurrentVersionExpiration.NewerNoncurrentVersions: "up to 100".
    (
        "rule",
        ok_rule(
            Expiration=None,
            NoncurrentVersionExpiration={"NoncurrentDays": 5, "NewerNoncurrentVersions": 101},
        ),
        "from 1 to 100",
    ),
    # Sizes: at most 5 TB.
    ("rule", ok_rule(Filter={"ObjectSizeGreaterThan": 6 * 1024**4}), "0 to 5 TB"),
    (
        "rule",
        ok_rule(Filter={"And": {"ObjectSizeGreaterThan": 100, "ObjectSizeLessThan": 50}}),
        "must be less than",
    ),
    # Expiration after the last transition (S3: InvalidArgument).
    (
        "rule",
        ok_rule(Expiration={"Days": 30}, Transitions=[{"Days": 60, "StorageClass": "GLACIER"}]),
        "greater than the last transition",
    ),
    ("rule", ok_rule(Status="On"), "Enabled or Disabled"),
    ("rule", ok_rule(Expiration=None), "no action"),
    (
        "rule",
        ok_rule(
            Transitions=[{"Days": 30, "StorageClass": "REDUCED_REDUNDANCY"}],
            Expiration={"Days": 90},
        ),
        "is not one of",
    ),
    (
        "rule",
        ok_rule(
            Expiration=None,
            Transitions=[
                {"Date": "2030-01-01T00:00:00+00:00", "StorageClass": "GLACIER"},
                {"Days": 400, "StorageClass": "DEEP_ARCHIVE"},
            ],
        ),
        "do not mix Date and Days",
    ),
]


@pytest.mark.parametrize(("kind", "value", "words"), CASES, ids=[c[2] for c in CASES])
def test_validation_one_clear_message(kind: str, value: Any, words: str) -> None:
    from lifecycle.validation import validate_configuration, validate_rule

    problems = validate_configuration(value) if kind == "config" else validate_rule(value)
    assert len(problems) == 1, problems
    assert words in problems[0]


@pytest.mark.parametrize("rule", [EVERY_FIELD, *FOREIGN_RULES], ids=lambda r: r["ID"])
def test_valid_rules_pass(rule: dict[str, Any]) -> None:
    from lifecycle.validation import validate_rule

    assert validate_rule(rule) == []


def test_zero_day_transition_to_glacier_classes_is_valid() -> None:
    """Transition.Days: 0 is valid for INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE."""
    from lifecycle.validation import validate_rule

    rule = ok_rule(Expiration=None, Transitions=[{"Days": 0, "StorageClass": "GLACIER"}])
    assert validate_rule(rule) == []


# --- conflict analysis (S3 UG lifecycle-conflicts) --------------------------------------


def _r(rid: str, flt: dict[str, Any], **actions: Any) -> dict[str, Any]:
    return {"ID": rid, "Filter": flt, "Status": "Enabled", **actions}


def test_shorter_expiration_wins() -> None:
    from lifecycle.conflicts import analyse

    found = analyse(
        [
            _r("a", {"Prefix": "logs/"}, Expiration={"Days": 7}),
            _r("b", {"Tag": {"Key": "t", "Value": "1"}}, Expiration={"Days": 30}),
        ]
    )
    assert [c.text for c in found] == [
        "Where a and b overlap, the shorter expiration wins: objects expire after 7 days (a), "
        "not 30 (b)."
    ]


def test_cheaper_class_wins() -> None:
    from lifecycle.conflicts import analyse

    found = analyse(
        [
            _r("ia", {}, Transitions=[{"Days": 60, "StorageClass": "STANDARD_IA"}]),
            _r("gl", {"Prefix": "x/"}, Transitions=[{"Days": 60, "StorageClass": "GLACIER"}]),
        ]
    )
    assert "the cheaper one wins (Glacier Flexible Retrieval)" in found[0].text


def test_disjoint_filters_do_not_conflict() -> None:
    from lifecycle.conflicts import analyse

    rules = [
        _r("a", {"Prefix": "logs/"}, Expiration={"Days": 7}),
        _r("b", {"Prefix": "data/"}, Expiration={"Days": 30}),
        _r("c", {"Tag": {"Key": "t", "Value": "1"}}, Expiration={"Days": 1}),
        _r("d", {"Tag": {"Key": "t", "Value": "2"}}, Expiration={"Days": 2}),
        _r("e", {"ObjectSizeLessThan": 100}, Expiration={"Days": 3}),
        _r("f", {"ObjectSizeGreaterThan": 1000}, Expiration={"Days": 4}),
        {"ID": "off", "Filter": {}, "Status": "Disabled", "Expiration": {"Days": 9}},
    ]
    pairs = {c.rules for c in analyse(rules)}
    for pair in [("a", "b"), ("c", "d"), ("e", "f")]:
        assert pair not in pairs
    assert not any("off" in p for p in pairs)
