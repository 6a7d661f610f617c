"""Policy generators (golden files for every access level x prefixes x buckets) and validation.

Regenerate the golden files after an intended change with UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from storage.credentials.policies import (
    INLINE_USER_POLICY_LIMIT,
    AccessLevel,
    PolicyError,
    PolicyRequest,
    build_policy,
    normalize_prefix,
    policy_size,
    public_read_bucket_policy,
    scopes_for,
    validate_policy,
)

GOLDEN = Path(__file__).parent / "golden" / "credentials"
LEVELS = [AccessLevel.READ_WRITE, AccessLevel.READ_ONLY, AccessLevel.WRITE_ONLY]
PREFIXES = {"none": [], "one": ["reports/"], "two": ["reports/", "uploads/in"]}
BUCKETS = {"one": ["alpha-data"], "two": ["alpha-data", "beta-logs"]}
OWN = {"alpha-data", "beta-logs"}


def golden(name: str, document: dict) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(document, indent=2) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"missing golden file {path} (run with UPDATE_GOLDEN=1)"
    assert text == path.read_text(), f"{path.name} differs from the generated policy"


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("prefixes", PREFIXES)
@pytest.mark.parametrize("buckets", BUCKETS)
def test_golden_policies(level: str, prefixes: str, buckets: str) -> None:
    policy = build_policy(
        PolicyRequest(scopes=scopes_for(BUCKETS[buckets], PREFIXES[prefixes]), access=level)
    )
    validate_policy(policy, OWN, limit=INLINE_USER_POLICY_LIMIT, limit_name="inline user policy")
    golden(f"{level}__prefixes-{prefixes}__buckets-{buckets}", policy)


def test_parity_with_s3_credentials_actions_plus_multipart_cleanup() -> None:
    rw = build_policy(PolicyRequest(scopes=scopes_for(["b"], []), access=AccessLevel.READ_WRITE))
    assert rw["Statement"][0]["Action"] == ["s3:ListBucket", "s3:GetBucketLocation"]
    assert rw["Statement"][1]["Action"] == [
        "s3:GetObject",
        "s3:GetObjectAcl",
        "s3:GetObjectLegalHold",
        "s3:GetObjectRetention",
        "s3:GetObjectTagging",
    ]
    assert rw["Statement"][2]["Action"] == [
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    ]
    wo = build_policy(PolicyRequest(scopes=scopes_for(["b"], []), access=AccessLevel.WRITE_ONLY))
    assert wo["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            "Resource": ["arn:aws:s3:::b/*"],
        }
    ]


def test_prefixes_condition_lists_every_prefix() -> None:
    policy = build_policy(
        PolicyRequest(scopes=scopes_for(["b"], ["a/", "c"]), access=AccessLevel.READ_ONLY)
    )
    listing = [s for s in policy["Statement"] if s["Action"] == ["s3:ListBucket"]][0]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["a/*", "c/*"]}}
    objects = policy["Statement"][-1]["Resource"]
    assert objects == ["arn:aws:s3:::b/a/*", "arn:aws:s3:::b/c/*"]


def test_custom_policy_substitutes_every_bucket() -> None:
    custom = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject*", "s3:ListBucket"],
                    "Resource": ["arn:aws:s3:::$!BUCKET_NAME!$", "arn:aws:s3:::$!BUCKET_NAME!$/*"],
                }
            ],
        }
    )
    policy = build_policy(
        PolicyRequest(
            scopes=scopes_for(["alpha-data", "beta-logs"], []),
            access=AccessLevel.CUSTOM,
            custom_policy=custom,
            extra_statements=[
                '{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::$!BUCKET_NAME!$/*"}'
            ],
        )
    )
    validate_policy(policy, OWN, limit=2048, limit_name="inline user policy")
    golden("custom__buckets-two", policy)
    assert policy["Statement"][0]["Resource"] == [
        "arn:aws:s3:::alpha-data",
        "arn:aws:s3:::beta-logs",
        "arn:aws:s3:::alpha-data/*",
        "arn:aws:s3:::beta-logs/*",
    ]
    assert policy["Statement"][1]["Resource"] == [
        "arn:aws:s3:::alpha-data/*",
        "arn:aws:s3:::beta-logs/*",
    ]


def test_public_read_bucket_policy_matches_s3_credentials() -> None:
    golden("public_read_bucket_policy", public_read_bucket_policy("my-s3-bucket"))


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            {"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::alpha-data/*"},
            "'s3:GetObjekt' is not a known S3 action",
        ),
        (
            {"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "arn:aws:s3:::alpha-data"},
            "is not an S3 action",
        ),
        (
            {"Effect": "Allow", "Action": "s3:Frob*", "Resource": "arn:aws:s3:::alpha-data"},
            "matches no known S3 action",
        ),
        (
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::someone-else/*",
            },
            "bucket 'someone-else' is not one of this tenant's buckets",
        ),
        (
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            "is not an S3 bucket or object ARN",
        ),
        (
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::alpha-*/*"},
            "names buckets by wildcard",
        ),
        (
            {"Effect": "Allow", "NotAction": "s3:GetObject", "Resource": "arn:aws:s3:::alpha-data"},
            "Allow with NotAction",
        ),
        (
            {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::alpha-data"},
            "Allow with NotResource",
        ),
        (
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::alpha-data/*",
            },
            "an identity policy has no Principal",
        ),
        (
            {"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::alpha-data/*"},
            'Effect must be "Allow" or "Deny"',
        ),
    ],
)
def test_validation_names_each_problem(statement: dict, expected: str) -> None:
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    with pytest.raises(PolicyError) as caught:
        validate_policy(policy, OWN, limit=2048, limit_name="inline user policy")
    assert any(expected in p for p in caught.value.problems), caught.value.problems


def test_invalid_json_is_refused_with_position() -> None:
    with pytest.raises(PolicyError, match=r"not valid JSON: .*line 1, column"):
        build_policy(
            PolicyRequest(
                scopes=scopes_for(["alpha-data"], []), access=AccessLevel.CUSTOM, custom_policy="{"
            )
        )


def test_size_limit_names_the_limit_and_the_excess() -> None:
    # IAM User Guide, "IAM and AWS STS quotas": inline policies of a user total 2,048 characters.
    buckets = [f"bucket-number-{i:03d}" for i in range(30)]
    policy = build_policy(
        PolicyRequest(scopes=scopes_for(buckets, []), access=AccessLevel.READ_WRITE)
    )
    size = policy_size(policy)
    assert size > 2048
    with pytest.raises(PolicyError) as caught:
        validate_policy(policy, set(buckets), limit=2048, limit_name="inline user policy")
    assert caught.value.problems == [
        f"The inline user policy is {size:,} characters; AWS allows 2,048 "
        f"({size - 2048:,} too many). Use fewer buckets, prefixes or statements."
    ]


def test_prefix_normalisation() -> None:
    assert normalize_prefix("/reports") == "reports/"
    assert normalize_prefix("a/b/") == "a/b/"
    for bad in ["", "/", "a*", "a//b"]:
        with pytest.raises(PolicyError):
            normalize_prefix(bad)
