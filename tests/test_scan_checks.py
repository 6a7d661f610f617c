"""Every check and every verdict path against moto in-process: pass / fail / error.

moto does not enforce Block Public Access or policies, and its GetBucketAcl keeps only the
first permission of a canned ACL, so these tests assert what the portal *computes* from what S3
returns, never what moto would refuse.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from storage.scan.checks import CHECK_NAMES
from tests.scan_helpers import ACCOUNT_ID, ALL_FLAGS, ALL_USERS, public_policy, scan_one

pytestmark = pytest.mark.django_db


def statuses(result: Any) -> dict[str, str]:
    return {name: check["status"] for name, check in result.checks.items()}


# --- the baseline ---------------------------------------------------------------------------


def test_every_check_runs_and_not_configured_is_not_an_error(
    verified_account: Any, make_bucket: Any
) -> None:
    make_bucket("plain-bucket")
    result = scan_one(verified_account, "plain-bucket")
    assert list(result.checks) == list(CHECK_NAMES)
    assert "error" not in statuses(result).values()
    assert result.evaluation.public is False
    checks = result.checks
    assert checks["public"]["status"] == "pass"
    assert checks["acl"]["status"] == "pass"
    assert checks["policy"]["detail"] == "No bucket policy."
    assert checks["encryption"]["status"] == "fail"
    assert "No default encryption" in checks["encryption"]["detail"]
    assert checks["website"]["status"] == "pass"
    assert checks["lifecycle"]["status"] == "fail"
    assert checks["tls_only"]["status"] == "fail"
    assert checks["versioning"]["detail"].startswith("Versioning has never been enabled")
    assert checks["public_access_block"]["status"] == "fail"
    assert checks["ownership"]["status"] == "fail"
    for name, check in checks.items():
        if check["status"] == "fail":
            assert check["severity"] in {"high", "medium", "low", "info"}, name
            assert check["detail"], name


def test_well_configured_bucket_passes(verified_account: Any, make_bucket: Any, s3: Any) -> None:
    name = make_bucket(
        "good-bucket",
        pab=ALL_FLAGS,
        ownership="BucketOwnerEnforced",
        versioning=True,
        encryption={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "alias/data",
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    make_bucket("log-target", acl="log-delivery-write")
    s3.put_bucket_logging(
        Bucket=name,
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "log-target", "TargetPrefix": "good/"}
        },
    )
    tls = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(tls))
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "old-versions",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                }
            ]
        },
    )
    result = scan_one(verified_account, name)
    checks = result.checks
    for check in (
        "public",
        "acl",
        "policy",
        "policy_status",
        "public_access_block",
        "ownership",
        "logging",
        "versioning",
        "encryption",
        "website",
        "tls_only",
        "lifecycle",
    ):
        assert checks[check]["status"] == "pass", (check, checks[check])
    assert checks["encryption"]["detail"] == (
        "Default encryption: SSE-KMS with key alias/data, S3 Bucket Key on."
    )
    assert "s3://log-target/good/" in checks["logging"]["detail"]
    assert "MFA delete is off" in checks["versioning"]["detail"]
    assert checks["lifecycle"]["detail"] == "1 lifecycle rule(s), 1 enabled."


# --- ACL ------------------------------------------------------------------------------------


def test_public_read_acl_makes_the_bucket_public(verified_account: Any, make_bucket: Any) -> None:
    make_bucket("acl-public", acl="public-read")
    result = scan_one(verified_account, "acl-public")
    assert result.evaluation.public is True
    assert result.checks["acl"]["status"] == "fail"
    assert result.checks["acl"]["severity"] == "high"
    assert "READ (list the objects) to anyone (AllUsers group)" in result.checks["acl"]["detail"]
    assert result.checks["public"]["severity"] == "high"
    assert result.evaluation.public_reasons == [
        "bucket ACL grants READ (list the objects) to anyone (AllUsers group)"
    ]


def test_authenticated_users_grant_is_public(verified_account: Any, make_bucket: Any) -> None:
    make_bucket("acl-authenticated", acl="authenticated-read")
    result = scan_one(verified_account, "acl-authenticated")
    assert result.evaluation.public is True
    assert "any AWS user (AuthenticatedUsers group)" in result.checks["acl"]["detail"]


def test_acl_with_several_permissions_is_reported_whole(
    verified_account: Any, make_bucket: Any, s3: Any
) -> None:
    """Grants written explicitly (moto keeps them all, unlike its canned ACLs)."""
    make_bucket("acl-write")
    owner = s3.get_bucket_acl(Bucket="acl-write")["Owner"]
    s3.put_bucket_acl(
        Bucket="acl-write",
        AccessControlPolicy={
            "Owner": owner,
            "Grants": [
                {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"},
                {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "WRITE"},
            ],
        },
    )
    detail = scan_one(verified_account, "acl-write").checks["acl"]["detail"]
    assert "READ (list the objects), WRITE (create, overwrite and delete objects)" in detail


@pytest.mark.parametrize(
    ("bucket_pab", "account_pab", "ownership", "public", "why"),
    [
        ({"IgnorePublicAcls": True}, None, None, False, "IgnorePublicAcls is on (bucket level)"),
        (None, {"IgnorePublicAcls": True}, None, False, "IgnorePublicAcls is on (account level)"),
        ({"BlockPublicAcls": True}, None, None, True, None),  # only rejects *new* ACLs
        (None, {"BlockPublicAcls": True, "BlockPublicPolicy": True}, None, True, None),
    ],
)
def test_acl_and_block_public_access_combinations(
    verified_account: Any,
    make_bucket: Any,
    s3control: Any,
    bucket_pab: Any,
    account_pab: Any,
    ownership: Any,
    public: bool,
    why: str | None,
) -> None:
    make_bucket("acl-combo", acl="public-read", pab=bucket_pab, ownership=ownership)
    if account_pab:
        s3control.put_public_access_block(
            AccountId=ACCOUNT_ID, PublicAccessBlockConfiguration=account_pab
        )
    result = scan_one(verified_account, "acl-combo")
    assert result.evaluation.public is public
    acl = result.checks["acl"]
    assert acl["status"] == "fail"  # the grant exists either way
    if public:
        assert acl["severity"] == "high"
        assert result.checks["public"]["status"] == "fail"
    else:
        assert acl["severity"] == "low"
        assert why in acl["detail"]
        assert result.checks["public"]["status"] == "pass"
        assert why in result.checks["public"]["detail"]
    if bucket_pab == {"BlockPublicAcls": True}:
        assert any("only rejects new public ACLs" in n for n in result.evaluation.verdict.notes)


def test_owner_enforced_disables_acls_without_reading_them(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    # S3 refuses BucketOwnerEnforced while the ACL grants anyone but the owner, so there is
    # nothing to read (moto, unlike S3, would accept it).
    make_bucket("acl-enforced", ownership="BucketOwnerEnforced")
    result = scan_one(verified_account, "acl-enforced")
    assert aws_faults.count("GetBucketAcl") == 0
    assert result.checks["acl"]["status"] == "pass"
    assert "ACLs are disabled" in result.checks["acl"]["detail"]
    assert result.facts.calls["acl"].inferred


def test_public_acl_neutralised_by_ownership_in_the_verdict(
    verified_account: Any, make_bucket: Any
) -> None:
    """Should an enforced bucket still hold a public grant, the verdict is still not public."""
    from storage.scan.checks import evaluate
    from storage.scan.collect import Fetched

    make_bucket("acl-enforced-grant", ownership="BucketOwnerEnforced")
    facts = scan_one(verified_account, "acl-enforced-grant").facts
    facts.calls["acl"] = Fetched(
        "GetBucketAcl",
        value={"Grants": [{"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]},
    )
    evaluation = evaluate(facts, None)
    assert evaluation.public is False
    acl = evaluation.checks["acl"]
    assert (acl.status, acl.severity) == ("fail", "low")
    assert "Object Ownership is BucketOwnerEnforced" in acl.detail
    assert "Object Ownership is BucketOwnerEnforced" in evaluation.checks["public"].detail


# --- policy ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "principal",
    ["*", {"AWS": "*"}, {"AWS": ["*"]}, {"AWS": ["arn:aws:iam::111122223333:root", "*"]}],
)
def test_every_form_of_anonymous_principal_is_public(
    verified_account: Any, make_bucket: Any, principal: Any
) -> None:
    make_bucket("pol-principal", policy=public_policy("pol-principal", principal=principal))
    result = scan_one(verified_account, "pol-principal")
    assert result.evaluation.public is True
    assert result.checks["policy"]["status"] == "fail"
    assert (
        'policy statement "Public" allows s3:GetObject to anyone'
        in result.checks["policy"]["detail"]
    )


@pytest.mark.parametrize(
    ("condition", "public"),
    [
        ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, False),
        ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, True),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, False),
        ({"StringEquals": {"aws:SourceVpc": "vpc-1a2b3c4d"}}, False),
        ({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, False),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}}, False),
        ({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}, False),
        ({"StringEquals": {"aws:SourceAccount": "111122223333"}}, False),
        (
            {"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}},
            False,
        ),
        ({"StringLike": {"aws:PrincipalOrgID": "o-*"}}, True),
        ({"StringLike": {"aws:SourceVpce": "*"}}, True),
        ({"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, True),
        ({"StringEquals": {"s3:prefix": "public/"}}, True),
    ],
)
def test_policy_conditions(
    verified_account: Any, make_bucket: Any, condition: dict[str, Any], public: bool
) -> None:
    make_bucket("pol-cond", policy=public_policy("pol-cond", condition=condition))
    result = scan_one(verified_account, "pol-cond")
    assert result.evaluation.public is public
    policy = result.checks["policy"]
    if public:
        assert policy["status"] == "fail"
        assert policy["severity"] == "high"
    else:
        assert policy["status"] == "pass"
        assert "Not public" in policy["detail"]
        assert "pinned" in policy["detail"] or "only when" in policy["detail"]


@pytest.mark.parametrize(
    ("bucket_pab", "account_pab", "public"),
    [
        ({"RestrictPublicBuckets": True}, None, False),
        (None, {"RestrictPublicBuckets": True}, False),
        ({"BlockPublicPolicy": True}, None, True),  # only rejects *new* public policies
        ({"BlockPublicAcls": True, "IgnorePublicAcls": True}, None, True),
        (ALL_FLAGS, None, False),
    ],
)
def test_policy_and_block_public_access_combinations(
    verified_account: Any,
    make_bucket: Any,
    s3control: Any,
    bucket_pab: Any,
    account_pab: Any,
    public: bool,
) -> None:
    make_bucket("pol-combo", policy=public_policy("pol-combo"), pab=bucket_pab)
    if account_pab:
        s3control.put_public_access_block(
            AccountId=ACCOUNT_ID, PublicAccessBlockConfiguration=account_pab
        )
    result = scan_one(verified_account, "pol-combo")
    assert result.evaluation.public is public
    policy = result.checks["policy"]
    assert policy["status"] == "fail"
    assert policy["severity"] == ("high" if public else "low")
    if not public:
        assert "RestrictPublicBuckets is on" in policy["detail"]


def test_public_access_block_check_combines_levels(
    verified_account: Any, make_bucket: Any, s3control: Any
) -> None:
    make_bucket("pab-split", pab={"BlockPublicAcls": True, "IgnorePublicAcls": True})
    s3control.put_public_access_block(
        AccountId=ACCOUNT_ID,
        PublicAccessBlockConfiguration={"BlockPublicPolicy": True, "RestrictPublicBuckets": True},
    )
    check = scan_one(verified_account, "pab-split").checks["public_access_block"]
    assert check["status"] == "pass"
    assert "BlockPublicAcls: bucket" in check["detail"]
    assert "RestrictPublicBuckets: account" in check["detail"]

    make_bucket("pab-partial", pab={"BlockPublicAcls": True})
    s3control.delete_public_access_block(AccountId=ACCOUNT_ID)
    check = scan_one(verified_account, "pab-partial").checks["public_access_block"]
    assert check["status"] == "fail"
    assert "IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets" in check["detail"]


def test_aws_policy_status_disagreement_is_explained(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    make_bucket("pol-disagree", policy=public_policy("pol-disagree"))
    aws_faults.respond("GetBucketPolicyStatus", {"PolicyStatus": {"IsPublic": False}})
    result = scan_one(verified_account, "pol-disagree")
    assert result.evaluation.public is True  # the stricter verdict stays
    status = result.checks["policy_status"]
    assert status["status"] == "fail"
    assert "reports it as not public (IsPublic=false)" in status["detail"]


def test_aws_saying_public_wins_over_a_clean_analysis(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    condition = {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
    make_bucket("pol-aws-public", policy=public_policy("pol-aws-public", condition=condition))
    aws_faults.respond("GetBucketPolicyStatus", {"PolicyStatus": {"IsPublic": True}})
    result = scan_one(verified_account, "pol-aws-public")
    assert result.evaluation.public is True
    assert (
        "AWS GetBucketPolicyStatus reports the bucket policy as public"
        in result.evaluation.public_reasons
    )
    assert result.checks["policy_status"]["status"] == "fail"


def test_policy_status_is_not_called_without_a_policy(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    make_bucket("no-policy")
    result = scan_one(verified_account, "no-policy")
    assert aws_faults.count("GetBucketPolicyStatus") == 0
    assert result.checks["policy_status"]["status"] == "pass"
    assert result.facts.calls["policy_status"].inferred


def test_tls_only_statement_is_recognised(verified_account: Any, make_bucket: Any) -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::tls-bucket", "arn:aws:s3:::tls-bucket/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    make_bucket("tls-bucket", policy=doc)
    result = scan_one(verified_account, "tls-bucket")
    assert result.checks["tls_only"]["status"] == "pass"
    assert result.evaluation.public is False  # a Deny is never public


# --- the other settings ---------------------------------------------------------------------


def test_ownership_settings(verified_account: Any, make_bucket: Any) -> None:
    make_bucket("own-enforced", ownership="BucketOwnerEnforced")
    make_bucket("own-preferred", ownership="BucketOwnerPreferred")
    assert scan_one(verified_account, "own-enforced").checks["ownership"]["status"] == "pass"
    preferred = scan_one(verified_account, "own-preferred").checks["ownership"]
    assert preferred["status"] == "fail"
    assert "BucketOwnerPreferred" in preferred["detail"]


def test_versioning_suspended_and_mfa_delete(
    verified_account: Any, make_bucket: Any, s3: Any, aws_faults: Any
) -> None:
    make_bucket("ver-suspended", versioning=True)
    s3.put_bucket_versioning(
        Bucket="ver-suspended", VersioningConfiguration={"Status": "Suspended"}
    )
    check = scan_one(verified_account, "ver-suspended").checks["versioning"]
    assert check["status"] == "fail"
    assert "suspended" in check["detail"]

    make_bucket("ver-mfa")
    aws_faults.respond(
        "GetBucketVersioning", {"Status": "Enabled", "MFADelete": "Enabled"}, bucket="ver-mfa"
    )
    check = scan_one(verified_account, "ver-mfa").checks["versioning"]
    assert check == {
        "status": "pass",
        "detail": "Versioning is enabled; MFA delete is on.",
        "severity": None,
    }


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ({"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}, "SSE-S3 (AES256)"),
        (
            {
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                "BucketKeyEnabled": False,
            },
            "SSE-KMS with the AWS managed key aws/s3, S3 Bucket Key off",
        ),
        (
            {
                "ApplyServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "aws:kms:dsse",
                    "KMSMasterKeyID": "arn:aws:kms:us-east-1:123456789012:key/k1",
                }
            },
            "DSSE-KMS with key arn:aws:kms:us-east-1:123456789012:key/k1, S3 Bucket Key off",
        ),
    ],
)
def test_encryption_kinds(verified_account: Any, make_bucket: Any, rule: Any, text: str) -> None:
    make_bucket("enc-bucket", encryption={"Rules": [rule]})
    check = scan_one(verified_account, "enc-bucket").checks["encryption"]
    assert check["status"] == "pass"
    assert check["detail"] == f"Default encryption: {text}."


def test_website_hosting_is_reported(verified_account: Any, make_bucket: Any, s3: Any) -> None:
    make_bucket("site-bucket")
    s3.put_bucket_website(
        Bucket="site-bucket", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}}
    )
    check = scan_one(verified_account, "site-bucket").checks["website"]
    assert check["status"] == "fail"
    assert "index document index.html" in check["detail"]


def test_replication_and_object_lock(verified_account: Any, make_bucket: Any, s3: Any) -> None:
    make_bucket("repl-src", versioning=True)
    make_bucket("repl-dst", versioning=True)
    s3.put_bucket_replication(
        Bucket="repl-src",
        ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/replication",
            "Rules": [
                {
                    "ID": "all",
                    "Priority": 1,
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": "arn:aws:s3:::repl-dst"},
                }
            ],
        },
    )
    result = scan_one(verified_account, "repl-src")
    assert result.checks["replication"] == {
        "status": "pass",
        "detail": "1 replication rule(s) to repl-dst.",
        "severity": None,
    }
    assert result.checks["object_lock"]["status"] == "fail"
    assert result.checks["object_lock"]["severity"] == "info"

    make_bucket("locked", object_lock=True)
    s3.put_object_lock_configuration(
        Bucket="locked",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}},
        },
    )
    lock = scan_one(verified_account, "locked").checks["object_lock"]
    assert lock["status"] == "pass"
    assert lock["detail"] == "Object Lock is on; default retention GOVERNANCE 30 days."


def test_never_versioned_buckets_skip_replication_and_lock_calls(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    make_bucket("unversioned")
    result = scan_one(verified_account, "unversioned")
    assert aws_faults.count("GetBucketReplication") == 0
    assert aws_faults.count("GetObjectLockConfiguration") == 0
    assert "never versioned" in result.checks["replication"]["detail"]


# --- errors: never "pass", never stopping the scan ------------------------------------------


def test_access_denied_names_the_missing_permission(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    make_bucket("denied-bucket")
    make_bucket("fine-bucket")
    aws_faults.fail("GetBucketAcl", "AccessDenied", bucket="denied-bucket")
    aws_faults.fail("GetBucketLogging", "AccessDenied", bucket="denied-bucket")
    from storage.scan.runner import ScanOptions, scan_account_results

    results = {r.name: r for r in scan_account_results(verified_account, ScanOptions())}
    denied = results["denied-bucket"]
    assert denied.checks["acl"]["status"] == "error"
    assert (
        "lack the permission s3:GetBucketAcl on bucket denied-bucket"
        in denied.checks["acl"]["detail"]
    )
    assert "s3:GetBucketLogging" in denied.checks["logging"]["detail"]
    # The ACL could be public: the verdict is unknown, never "not public".
    assert denied.evaluation.public is None
    assert denied.checks["public"]["status"] == "error"
    assert "Cannot tell whether the bucket is public" in denied.checks["public"]["detail"]
    # Everything else still ran, and the other bucket is untouched.
    assert denied.checks["versioning"]["status"] == "fail"
    assert "error" not in statuses(results["fine-bucket"]).values()


def test_unreadable_acl_does_not_matter_when_acls_are_ignored(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    make_bucket("ignored-acl", pab={"IgnorePublicAcls": True})
    aws_faults.fail("GetBucketAcl", "AccessDenied")
    result = scan_one(verified_account, "ignored-acl")
    assert result.checks["acl"]["status"] == "error"
    assert result.evaluation.public is False
    assert result.checks["public"]["status"] == "pass"


def test_unreadable_block_counts_as_off(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    make_bucket("block-unknown", acl="public-read")
    aws_faults.fail("GetPublicAccessBlock", "AccessDenied")
    result = scan_one(verified_account, "block-unknown")
    assert result.evaluation.public is True
    assert "may be less exposed than shown" in result.checks["public"]["detail"]
    assert result.checks["public_access_block"]["status"] == "error"
    assert "s3:GetBucketPublicAccessBlock" in result.checks["public_access_block"]["detail"]


@pytest.mark.parametrize("code", ["SlowDown", "ThrottlingException"])
def test_throttling_after_retries_is_an_error(
    verified_account: Any, make_bucket: Any, aws_faults: Any, code: str
) -> None:
    make_bucket("throttled", policy=public_policy("throttled"))
    aws_faults.fail("GetBucketPolicy", code)
    result = scan_one(verified_account, "throttled")
    for check in ("policy", "tls_only", "policy_status"):
        assert result.checks[check]["status"] == "error", check
        assert "throttled" in result.checks[check]["detail"]
    assert result.evaluation.public is None


def test_account_level_block_unreadable(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    make_bucket("acct-denied")
    make_bucket("acct-denied-but-blocked", pab=ALL_FLAGS)
    aws_faults.fail("GetPublicAccessBlock", "AccessDenied", bucket=None)
    # Only the s3control call: bucket-level reads carry a Bucket parameter.
    aws_faults.faults[-1].bucket = None

    from storage.scan.collect import fetch_account_pab

    fetched = fetch_account_pab(verified_account)
    assert "s3:GetAccountPublicAccessBlock" in fetched.error


def test_account_pab_error_is_reported_per_bucket(
    verified_account: Any, make_bucket: Any, monkeypatch: Any
) -> None:
    from storage.scan import collect, fanout

    denied = collect.Fetched(
        "GetPublicAccessBlock (s3control)",
        error="The credentials of account 'prod' lack the permission "
        "s3:GetAccountPublicAccessBlock",
        error_code="AccessDenied",
    )
    monkeypatch.setattr(fanout, "fetch_account_pab", lambda account: denied)
    make_bucket("acct-open")
    make_bucket("acct-blocked", pab=ALL_FLAGS)
    open_check = scan_one(verified_account, "acct-open").checks["public_access_block"]
    assert open_check["status"] == "error"
    assert "s3:GetAccountPublicAccessBlock" in open_check["detail"]
    # The bucket blocks everything itself: the account level cannot change the answer.
    blocked = scan_one(verified_account, "acct-blocked").checks["public_access_block"]
    assert blocked["status"] == "pass"


def test_unverified_account_cannot_read_account_level_block(
    account_a: Any, make_bucket: Any
) -> None:
    make_bucket("unverified-bucket")
    check = scan_one(account_a, "unverified-bucket").checks["public_access_block"]
    assert check["status"] == "error"
    assert "has not been verified yet" in check["detail"]


def test_vanished_bucket_is_reported_as_missing(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    make_bucket("vanishing")
    for operation in (
        "GetBucketAcl",
        "GetBucketPolicy",
        "GetPublicAccessBlock",
        "GetBucketOwnershipControls",
        "GetBucketLogging",
        "GetBucketVersioning",
        "GetBucketEncryption",
        "GetBucketWebsite",
        "GetBucketLifecycleConfiguration",
        "GetBucketPolicyStatus",
        "GetBucketReplication",
        "GetObjectLockConfiguration",
    ):
        aws_faults.fail(operation, "NoSuchBucket", bucket="vanishing")
    result = scan_one(verified_account, "vanishing")
    assert result.facts.vanished
    assert all(c["status"] == "error" for c in result.checks.values())
    assert "no longer exists" in result.checks["acl"]["detail"]


def test_malformed_policy_is_an_error(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    make_bucket("bad-policy")
    aws_faults.respond("GetBucketPolicy", {"Policy": '{"Statement": "nope"'}, bucket="bad-policy")
    result = scan_one(verified_account, "bad-policy")
    assert result.checks["policy"]["status"] == "error"
    assert "not a valid policy document" in result.checks["policy"]["detail"]
    assert result.checks["public"]["status"] == "error"


def test_internal_error_in_one_bucket_does_not_stop_the_scan(
    verified_account: Any, make_bucket: Any, monkeypatch: Any
) -> None:
    from storage.scan import fanout

    make_bucket("boom-bucket")
    make_bucket("calm-bucket")
    real = fanout.collect_bucket

    def explode(client: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "boom-bucket":
            raise RuntimeError("bug")
        return real(client, name, *args, **kwargs)

    monkeypatch.setattr(fanout, "collect_bucket", explode)
    results = {
        r.name: r for r in fanout.scan_account_results(verified_account, fanout.ScanOptions())
    }
    assert all(c["status"] == "error" for c in results["boom-bucket"].checks.values())
    assert "Internal error" in results["boom-bucket"].checks["acl"]["detail"]
    assert results["calm-bucket"].checks["acl"]["status"] == "pass"


def test_skip_leaves_checks_out_and_saves_calls(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    make_bucket("skippy")
    result = scan_one(verified_account, "skippy", skip=frozenset({"logging", "website", "acl"}))
    assert "logging" not in result.checks and "website" not in result.checks
    assert "acl" not in result.checks
    assert aws_faults.count("GetBucketLogging") == 0
    assert aws_faults.count("GetBucketWebsite") == 0
    # The verdict still reads the ACL.
    assert aws_faults.count("GetBucketAcl") == 1
    assert result.checks["public"]["status"] == "pass"
