"""Every fix: dry run (exact request, before/after), apply, keeps what was there, audit, rescan."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from audit.models import AuditEvent
from storage.models import Bucket
from storage.remediation import FIXES, FixConflict, FixError, plan_fix, run_fix
from tests.scan_helpers import ALL_FLAGS, ALL_USERS, full_scan, public_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def scanned(verified_account: Any, make_bucket: Any) -> Any:
    """make and scan a bucket; returns its Bucket row."""

    def scan(name: str, **posture: Any) -> Bucket:
        make_bucket(name, **posture)
        full_scan(verified_account, patterns=[name])
        return Bucket.objects.get(name=name)

    return scan


def audit_events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=f"storage.fix.{action}").order_by("id"))


def test_every_fix_is_registered() -> None:
    assert set(FIXES) == {
        "block_public_access",
        "enable_versioning",
        "default_encryption",
        "access_logging",
        "reset_object_acls",
        "tls_only",
        "remove_public_statement",
        "public_read",
    }


# --- block public access --------------------------------------------------------------------


def test_block_public_access_dry_run_changes_nothing(scanned: Any, s3: Any, personas: Any) -> None:
    bucket = scanned("bpa-dry", acl="public-read", pab={"BlockPublicAcls": True})
    outcome = run_fix(bucket, "block_public_access", {}, actor=personas.oscar, dry_run=True)
    plan = outcome.plan
    assert not outcome.applied
    assert plan.requests[0].to_dict() == {
        "operation": "PutPublicAccessBlock",
        "params": {"Bucket": "bpa-dry", "PublicAccessBlockConfiguration": ALL_FLAGS},
    }
    assert plan.before == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": False,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }
    assert plan.after == ALL_FLAGS
    assert "IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets" in plan.summary
    current = s3.get_public_access_block(Bucket="bpa-dry")["PublicAccessBlockConfiguration"]
    assert current["IgnorePublicAcls"] is False
    assert audit_events("block_public_access") == []


def test_block_public_access_apply_audits_and_rescans(scanned: Any, s3: Any, personas: Any) -> None:
    bucket = scanned("bpa-apply", acl="public-read")
    assert bucket.is_public is True
    outcome = run_fix(bucket, "block_public_access", {}, actor=personas.oscar, dry_run=False)
    assert outcome.applied
    assert (
        s3.get_public_access_block(Bucket="bpa-apply")["PublicAccessBlockConfiguration"]
        == ALL_FLAGS
    )
    (event,) = audit_events("block_public_access")
    assert event.actor_name == "oscar"
    assert event.tenant_id == personas.tenant_a.pk
    assert event.before == {"bucket": "bpa-apply", "document": None}
    assert event.after["document"] == ALL_FLAGS
    assert event.after["requests"][0]["operation"] == "PutPublicAccessBlock"
    bucket.refresh_from_db()
    assert bucket.is_public is False  # rescanned: the public ACL is now ignored
    assert outcome.rescan.status == "succeeded"
    # Applying again is a no-op, not a second write.
    again = run_fix(bucket, "block_public_access", {}, actor=personas.oscar, dry_run=False)
    assert again.plan.noop and not again.applied
    assert len(audit_events("block_public_access")) == 1


def test_a_fix_stops_when_the_current_setting_cannot_be_read(
    scanned: Any, aws_faults: Any, personas: Any
) -> None:
    bucket = scanned("bpa-denied")
    aws_faults.fail("GetPublicAccessBlock", "AccessDenied")
    with pytest.raises(FixError, match="s3:GetBucketPublicAccessBlock"):
        run_fix(bucket, "block_public_access", {}, actor=personas.oscar, dry_run=False)
    assert aws_faults.count("PutPublicAccessBlock") == 0


def test_a_refused_write_is_reported_with_the_permission(
    scanned: Any, aws_faults: Any, personas: Any
) -> None:
    bucket = scanned("bpa-write-denied")
    aws_faults.fail("PutPublicAccessBlock", "AccessDenied")
    with pytest.raises(FixError, match="s3:PutBucketPublicAccessBlock"):
        run_fix(bucket, "block_public_access", {}, actor=personas.oscar, dry_run=False)
    assert audit_events("block_public_access") == []


def test_apply_refuses_when_the_bucket_changed_since_the_dry_run(
    scanned: Any, s3: Any, personas: Any
) -> None:
    bucket = scanned("bpa-race")
    digest = plan_fix(bucket, "block_public_access", {}).digest()
    s3.put_public_access_block(
        Bucket="bpa-race", PublicAccessBlockConfiguration={"BlockPublicAcls": True}
    )
    with pytest.raises(FixConflict):
        run_fix(bucket, "block_public_access", {}, dry_run=False, expected_digest=digest)
    digest = plan_fix(bucket, "block_public_access", {}).digest()
    assert run_fix(bucket, "block_public_access", {}, dry_run=False, expected_digest=digest).applied


# --- versioning -----------------------------------------------------------------------------


def test_enable_versioning(scanned: Any, s3: Any, personas: Any) -> None:
    bucket = scanned("ver-fix")
    dry = run_fix(bucket, "enable_versioning", {}, dry_run=True)
    assert dry.plan.requests[0].to_dict() == {
        "operation": "PutBucketVersioning",
        "params": {"Bucket": "ver-fix", "VersioningConfiguration": {"Status": "Enabled"}},
    }
    assert dry.plan.before == {} and dry.plan.after == {"Status": "Enabled"}
    assert "Status" not in s3.get_bucket_versioning(Bucket="ver-fix")
    outcome = run_fix(bucket, "enable_versioning", {}, actor=personas.alice, dry_run=False)
    assert outcome.applied
    assert s3.get_bucket_versioning(Bucket="ver-fix")["Status"] == "Enabled"
    bucket.refresh_from_db()
    assert bucket.checks["versioning"]["status"] == "pass"
    assert len(audit_events("enable_versioning")) == 1


def test_enable_versioning_keeps_mfa_delete_and_refuses_without_mfa(
    scanned: Any, aws_faults: Any
) -> None:
    bucket = scanned("ver-mfa-fix")
    aws_faults.respond("GetBucketVersioning", {"Status": "Suspended", "MFADelete": "Enabled"})
    with pytest.raises(FixError, match="MFA delete is on"):
        run_fix(bucket, "enable_versioning", {}, dry_run=True)


# --- default encryption ---------------------------------------------------------------------


def test_default_encryption_sse_s3(scanned: Any, s3: Any) -> None:
    bucket = scanned("enc-fix")
    dry = run_fix(bucket, "default_encryption", {}, dry_run=True)
    assert dry.plan.before is None
    assert dry.plan.after == {
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }
    with pytest.raises(Exception, match="ServerSideEncryptionConfigurationNotFoundError"):
        s3.get_bucket_encryption(Bucket="enc-fix")
    assert run_fix(bucket, "default_encryption", {}, dry_run=False).applied
    rules = s3.get_bucket_encryption(Bucket="enc-fix")["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    bucket.refresh_from_db()
    assert bucket.checks["encryption"]["status"] == "pass"


def test_default_encryption_kms_keeps_the_other_fields(scanned: Any, s3: Any) -> None:
    bucket = scanned(
        "enc-kms",
        encryption={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "alias/old",
                    },
                    "BucketKeyEnabled": False,
                }
            ]
        },
    )
    kms = boto3.client("kms", region_name="us-east-1")  # the dry run checks the key exists
    kms.create_alias(AliasName="alias/new", TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    outcome = run_fix(bucket, "default_encryption", {"kms_key_id": "alias/new"}, dry_run=False)
    assert outcome.plan.before["Rules"][0]["BucketKeyEnabled"] is False
    rule = s3.get_bucket_encryption(Bucket="enc-kms")["ServerSideEncryptionConfiguration"]["Rules"][
        0
    ]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "alias/new",
    }
    assert rule["BucketKeyEnabled"] is False  # what was there is kept


def test_default_encryption_never_downgrades_kms(scanned: Any) -> None:
    bucket = scanned(
        "enc-no-downgrade",
        encryption={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]},
    )
    with pytest.raises(FixError, match="does not downgrade"):
        run_fix(bucket, "default_encryption", {}, dry_run=True)


def test_default_encryption_rejects_a_bad_key(scanned: Any) -> None:
    bucket = scanned("enc-bad-key")
    with pytest.raises(FixError, match="not a KMS key"):
        run_fix(bucket, "default_encryption", {"kms_key_id": "key with spaces"}, dry_run=True)


# --- access logging -------------------------------------------------------------------------


def test_access_logging(scanned: Any, make_bucket: Any, s3: Any, personas: Any) -> None:
    scanned("logs-target", acl="log-delivery-write")  # a log target must be the tenant's own
    bucket = scanned("log-me")
    params = {"target_bucket": "logs-target", "target_prefix": "s3/{bucket}/"}
    dry = run_fix(bucket, "access_logging", params, dry_run=True)
    assert dry.plan.requests[0].to_dict() == {
        "operation": "PutBucketLogging",
        "params": {
            "Bucket": "log-me",
            "BucketLoggingStatus": {
                "LoggingEnabled": {"TargetBucket": "logs-target", "TargetPrefix": "s3/log-me/"}
            },
        },
    }
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket="log-me")
    assert run_fix(bucket, "access_logging", params, actor=personas.oscar, dry_run=False).applied
    assert s3.get_bucket_logging(Bucket="log-me")["LoggingEnabled"]["TargetPrefix"] == "s3/log-me/"
    bucket.refresh_from_db()
    assert bucket.checks["logging"]["status"] == "pass"
    assert run_fix(bucket, "access_logging", params, dry_run=True).plan.noop


def test_access_logging_keeps_existing_grants(
    scanned: Any, make_bucket: Any, s3: Any, aws_faults: Any
) -> None:
    scanned("logs-new", acl="log-delivery-write")
    bucket = scanned("log-grants")
    grants = [
        {
            "Grantee": {
                "Type": "Group",
                "URI": ALL_USERS.replace("global/AllUsers", "s3/LogDelivery"),
            },
            "Permission": "READ",
        }
    ]
    aws_faults.respond(
        "GetBucketLogging",
        {
            "LoggingEnabled": {
                "TargetBucket": "logs-old",
                "TargetPrefix": "x/",
                "TargetGrants": grants,
            }
        },
    )
    plan = plan_fix(bucket, "access_logging", {"target_bucket": "logs-new"})
    assert plan.after == {
        "TargetBucket": "logs-new",
        "TargetPrefix": "log-grants/",
        "TargetGrants": grants,
    }
    assert "now s3://logs-old/x/" in plan.summary


def test_access_logging_rejects_a_target_in_another_region(scanned: Any) -> None:
    scanned("logs-eu", region="eu-west-1")
    bucket = scanned("log-us")
    with pytest.raises(FixError, match="same region"):
        run_fix(bucket, "access_logging", {"target_bucket": "logs-eu"}, dry_run=True)


def test_access_logging_reports_what_aws_refuses(scanned: Any, make_bucket: Any) -> None:
    scanned("logs-closed")  # no permission for the logging service
    bucket = scanned("log-refused")
    # Said by the dry run already, before Apply (S3 would answer InvalidTargetBucketForLogging).
    with pytest.raises(FixError, match="does not let the S3 logging service write to it"):
        run_fix(bucket, "access_logging", {"target_bucket": "logs-closed"}, dry_run=True)


# --- object ACLs ----------------------------------------------------------------------------


def _put(s3: Any, bucket: str, key: str, acl: str = "private") -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=b"x", ACL=acl)


def test_reset_object_acls_with_patterns(scanned: Any, s3: Any, personas: Any) -> None:
    bucket = scanned("objs")
    _put(s3, "objs", "reports/a.pdf", "public-read")
    _put(s3, "objs", "reports/b.pdf", "public-read")
    _put(s3, "objs", "reports/keep.pdf", "public-read")
    _put(s3, "objs", "images/c.jpg", "public-read")
    _put(s3, "objs", "reports/d.pdf")
    params = {"only": ["reports/*"], "exclude": ["*/keep.pdf"]}
    dry = run_fix(bucket, "reset_object_acls", params, dry_run=True)
    assert dry.plan.total_requests == 2
    assert {r.params["Key"] for r in dry.plan.requests} == {"reports/a.pdf", "reports/b.pdf"}
    assert dry.plan.requests[0].params["ACL"] == "private"
    assert "Examined 3 object(s)" in dry.plan.summary
    assert len(s3.get_object_acl(Bucket="objs", Key="reports/a.pdf")["Grants"]) == 2  # unchanged

    outcome = run_fix(bucket, "reset_object_acls", params, actor=personas.oscar, dry_run=False)
    assert outcome.applied and outcome.changed == 2

    def is_public(key: str) -> bool:
        grants = s3.get_object_acl(Bucket="objs", Key=key)["Grants"]
        return any(g["Grantee"].get("URI") == ALL_USERS for g in grants)

    assert not is_public("reports/a.pdf") and not is_public("reports/b.pdf")
    assert is_public("reports/keep.pdf") and is_public("images/c.jpg")  # filtered out: kept
    (event,) = audit_events("reset_object_acls")
    assert {o["key"] for o in event.before["objects"]} == {"reports/a.pdf", "reports/b.pdf"}
    assert event.after["reset"] == 2
    assert event.before["filters"] == {"only": ["reports/*"], "exclude": ["*/keep.pdf"]}


def test_reset_object_acls_is_a_no_op_when_acls_are_disabled(scanned: Any, s3: Any) -> None:
    bucket = scanned("objs-enforced", ownership="BucketOwnerEnforced")
    plan = run_fix(bucket, "reset_object_acls", {}, dry_run=True).plan
    assert plan.noop and "ACLs are disabled" in plan.summary


def test_reset_object_acls_dry_run_stops_at_the_limit(scanned: Any, s3: Any) -> None:
    bucket = scanned("objs-many")
    for i in range(7):
        _put(s3, "objs-many", f"k{i}", "public-read")
    plan = run_fix(bucket, "reset_object_acls", {}, dry_run=True, limit=5).plan
    assert plan.truncated
    assert "stopped after 5 objects" in plan.summary


# --- bucket policy --------------------------------------------------------------------------


def test_tls_only_merges_with_the_existing_policy(scanned: Any, s3: Any, personas: Any) -> None:
    existing = {
        "Version": "2012-10-17",
        "Id": "keep-me",
        "Statement": [
            {
                "Sid": "ReadForPartner",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::tls-fix/*",
            }
        ],
    }
    bucket = scanned("tls-fix", policy=existing)
    dry = run_fix(bucket, "tls_only", {}, dry_run=True)
    assert dry.plan.before == existing
    assert dry.plan.after["Id"] == "keep-me"
    assert dry.plan.after["Statement"][0] == existing["Statement"][0]
    added = dry.plan.after["Statement"][1]
    assert added == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::tls-fix", "arn:aws:s3:::tls-fix/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert dry.plan.requests[0].operation == "PutBucketPolicy"
    assert json.loads(dry.plan.requests[0].params["Policy"]) == dry.plan.after
    assert json.loads(s3.get_bucket_policy(Bucket="tls-fix")["Policy"]) == existing

    run_fix(bucket, "tls_only", {}, actor=personas.alice, dry_run=False)
    stored = json.loads(s3.get_bucket_policy(Bucket="tls-fix")["Policy"])
    assert stored["Statement"][0] == existing["Statement"][0]
    bucket.refresh_from_db()
    assert bucket.checks["tls_only"]["status"] == "pass"
    (event,) = audit_events("tls_only")
    assert event.before["document"] == existing
    assert event.after["document"] == stored


def test_tls_only_without_a_policy_creates_one(scanned: Any, s3: Any) -> None:
    bucket = scanned(
        "tls-new",
        policy={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:DeleteBucket",
                    "Resource": "arn:aws:s3:::tls-new",
                }
            ],
        },
    )
    plan = plan_fix(bucket, "tls_only", {})
    assert plan.after["Statement"][1]["Sid"] == "DenyInsecureTransport2"  # no Sid clash

    bucket = scanned("tls-none")
    plan = plan_fix(bucket, "tls_only", {})
    assert plan.before is None
    assert plan.after["Version"] == "2012-10-17" and len(plan.after["Statement"]) == 1


def test_remove_public_statement_keeps_the_others(scanned: Any, s3: Any, personas: Any) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Partner",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::rm-pub/*",
            },
            {
                "Sid": "Everyone",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::rm-pub/*",
            },
            {
                "Sid": "Office",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::rm-pub/*",
                "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            },
        ],
    }
    bucket = scanned("rm-pub", policy=policy)
    assert bucket.is_public is True
    dry = run_fix(bucket, "remove_public_statement", {"statement": "Everyone"}, dry_run=True)
    assert [s["Sid"] for s in dry.plan.after["Statement"]] == ["Partner", "Office"]
    assert 'Remove statement "Everyone"' in dry.plan.summary

    with pytest.raises(FixError, match="not public"):
        run_fix(bucket, "remove_public_statement", {"statement": "Office"}, dry_run=True)
    with pytest.raises(FixError, match="no statement"):
        run_fix(bucket, "remove_public_statement", {"statement": "Nope"}, dry_run=True)

    run_fix(
        bucket, "remove_public_statement", {"statement": "#2"}, actor=personas.oscar, dry_run=False
    )
    stored = json.loads(s3.get_bucket_policy(Bucket="rm-pub")["Policy"])
    assert stored["Statement"] == [policy["Statement"][0], policy["Statement"][2]]
    bucket.refresh_from_db()
    assert bucket.is_public is False
    assert len(audit_events("remove_public_statement")) == 1


def test_removing_the_only_statement_deletes_the_policy(scanned: Any, s3: Any) -> None:
    bucket = scanned("rm-only", policy=public_policy("rm-only"))
    plan = plan_fix(bucket, "remove_public_statement", {})
    assert plan.requests[0].to_dict() == {
        "operation": "DeleteBucketPolicy",
        "params": {"Bucket": "rm-only"},
    }
    assert plan.after is None
    run_fix(bucket, "remove_public_statement", {}, dry_run=False)
    with pytest.raises(Exception, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="rm-only")
