"""The public-read bucket policy: only through the fixes' plan/apply, confirmed, merged."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from audit.models import AuditEvent
from storage.models import Bucket
from storage.remediation import FixError, plan_fix, run_fix


@pytest.fixture
def bucket(account_a: Any) -> Bucket:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="site-bucket")
    s3.put_bucket_policy(
        Bucket="site-bucket",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "Keep",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:DeleteBucket",
                        "Resource": "arn:aws:s3:::site-bucket",
                    }
                ],
            }
        ),
    )
    return Bucket.objects.create(account=account_a, name="site-bucket", region="us-east-1")


def test_needs_the_bucket_name_to_confirm(bucket: Bucket) -> None:
    with pytest.raises(FixError, match="needs its name typed in to confirm"):
        plan_fix(bucket, "public_read", {})


def test_dry_run_then_apply_merges_the_statement(bucket: Bucket, personas: Any) -> None:
    plan = plan_fix(bucket, "public_read", {"confirm": "site-bucket"})
    assert [r.operation for r in plan.requests] == ["PutBucketPolicy"]
    assert [s["Sid"] for s in plan.after["Statement"]] == ["Keep", "AllowAllGetObject"]
    assert plan.after["Statement"][1] == {
        "Sid": "AllowAllGetObject",
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["s3:GetObject"],
        "Resource": ["arn:aws:s3:::site-bucket/*"],
    }
    assert any("Block Public Access" in note for note in plan.notes)
    s3 = boto3.client("s3", region_name="us-east-1")
    assert "AllowAllGetObject" not in s3.get_bucket_policy(Bucket="site-bucket")["Policy"]

    outcome = run_fix(
        bucket,
        "public_read",
        {"confirm": "site-bucket"},
        actor=personas.alice,
        dry_run=False,
        expected_digest=plan.digest(),
        rescan=False,
    )
    assert outcome.applied
    stored = json.loads(s3.get_bucket_policy(Bucket="site-bucket")["Policy"])
    assert [s["Sid"] for s in stored["Statement"]] == ["Keep", "AllowAllGetObject"]
    assert AuditEvent.objects.filter(action="storage.fix.public_read").count() == 1
    again = plan_fix(bucket, "public_read", {"confirm": "site-bucket"})
    assert again.noop
