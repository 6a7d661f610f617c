"""The command line: `scan` (its JSON contract), `scan_object_acl` and `fix`."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import boto3
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from storage.models import Bucket, BucketSnapshot, Finding, ScanRun
from storage.scan.checks import CHECK_NAMES
from tests.scan_helpers import ALL_FLAGS

pytestmark = pytest.mark.django_db
STATUSES = {"pass", "fail", "error"}


def run(*args: str) -> tuple[str, str, int]:
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return out.getvalue(), err.getvalue(), code


@pytest.fixture
def buckets(verified_account: Any, make_bucket: Any) -> None:
    make_bucket("cli-public", acl="public-read")
    make_bucket("cli-private", region="eu-west-1", pab=ALL_FLAGS)
    make_bucket("other-bucket")


def assert_contract(item: dict[str, Any]) -> None:
    for key in (
        "tenant",
        "account",
        "bucket",
        "region",
        "public",
        "public_reasons",
        "checks",
        "findings",
    ):
        assert key in item, key
    assert isinstance(item["public"], bool)
    assert isinstance(item["public_reasons"], list)
    assert all(isinstance(r, str) for r in item["public_reasons"])
    assert isinstance(item["findings"], list)
    for name, check in item["checks"].items():
        assert name in CHECK_NAMES
        assert check["status"] in STATUSES
        assert isinstance(check["detail"], str) and check["detail"]


def test_json_contract(buckets: Any) -> None:
    out, err, code = run("scan", "--format", "json")
    assert code == 0, err
    items = json.loads(out)
    assert isinstance(items, list)
    by_name = {i["bucket"]: i for i in items}
    assert set(by_name) == {"cli-public", "cli-private", "other-bucket"}
    for item in items:
        assert_contract(item)
    public = by_name["cli-public"]
    assert public["tenant"] == "tenant-a" and public["account"] == "prod"
    assert public["region"] == "us-east-1"
    assert public["public"] is True
    assert public["public_reasons"] == [
        "bucket ACL grants READ (list the objects) to anyone (AllUsers group)"
    ]
    assert public["checks"]["acl"]["status"] == "fail"
    assert {f["check"] for f in public["findings"]} >= {"public", "acl"}
    assert all(f["new"] for f in public["findings"])
    private = by_name["cli-private"]
    assert private["public"] is False and private["public_reasons"] == []
    assert private["region"] == "eu-west-1"
    assert private["checks"]["public_access_block"]["status"] == "pass"
    # Saved: one run, snapshots and findings.
    assert ScanRun.objects.get().trigger == "cli"
    assert BucketSnapshot.objects.count() == 3
    assert Finding.objects.filter(bucket__name="cli-public", check_name="public").exists()


def test_ndjson_and_patterns(buckets: Any) -> None:
    out, _, code = run("scan", "cli-*", "--format", "ndjson")
    assert code == 0
    lines = out.strip().splitlines()
    items = [json.loads(line) for line in lines]
    assert sorted(i["bucket"] for i in items) == ["cli-private", "cli-public"]
    for item in items:
        assert_contract(item)
    out, _, _ = run("scan", "other-bucket", "cli-public", "--format", "ndjson")
    assert sorted(json.loads(line)["bucket"] for line in out.strip().splitlines()) == [
        "cli-public",
        "other-bucket",
    ]


def test_no_save_writes_nothing(buckets: Any) -> None:
    out, _, code = run("scan", "--format", "json", "--no-save")
    assert code == 0
    items = json.loads(out)
    assert len(items) == 3
    public = next(i for i in items if i["bucket"] == "cli-public")
    assert {
        "check": "public",
        "severity": "high",
        "detail": public["checks"]["public"]["detail"],
    } in public["findings"]
    assert not Bucket.objects.exists() and not ScanRun.objects.exists()


def test_skip(buckets: Any) -> None:
    out, _, _ = run(
        "scan",
        "cli-public",
        "--format",
        "json",
        "--skip",
        "logging",
        "website",
        "--skip",
        "lifecycle",
        "--no-save",
    )
    item = json.loads(out)[0]
    assert not {"logging", "website", "lifecycle"} & set(item["checks"])
    assert "acl" in item["checks"]
    with pytest.raises(CommandError):
        call_command("scan", "--skip", "not-a-check", stdout=StringIO(), stderr=StringIO())


@pytest.mark.parametrize(
    ("pattern", "fail_on", "code"),
    [
        ("cli-public", "high", 1),
        ("cli-private", "high", 0),
        ("cli-private", "medium", 1),  # versioning, logging, encryption... fail at medium
        ("cli-private", None, 0),
        ("cli-public", None, 0),
    ],
)
def test_fail_on(buckets: Any, pattern: str, fail_on: str | None, code: int) -> None:
    args = ["scan", pattern, "--format", "json", "--no-save"]
    if fail_on:
        args += ["--fail-on", fail_on]
    out, _, exit_code = run(*args)
    assert exit_code == code
    assert json.loads(out)  # the report is printed either way


def test_fail_on_counts_unreadable_exposure(buckets: Any, aws_faults: Any) -> None:
    aws_faults.fail("GetBucketAcl", "AccessDenied", bucket="cli-private")
    aws_faults.fail("GetBucketAcl", "AccessDenied", bucket="other-bucket")
    out, _, code = run("scan", "other-bucket", "--format", "json", "--no-save", "--fail-on", "high")
    item = json.loads(out)[0]
    assert item["public"] is True and item["public_determined"] is False  # fail safe
    assert item["public_reasons"][0].startswith("unknown: Cannot tell whether the bucket is public")
    assert item["checks"]["acl"]["status"] == "error"
    assert code == 1


def test_listing_failure_is_reported_and_fails_fail_on(buckets: Any, aws_faults: Any) -> None:
    aws_faults.fail("ListBuckets", "AccessDenied")
    out, err, code = run("scan", "--format", "json")
    assert json.loads(out) == []
    assert "s3:ListAllMyBuckets" in err
    assert code == 0
    _, _, code = run("scan", "--format", "json", "--fail-on", "high")
    assert code == 1


def test_tenant_and_account_selection(buckets: Any, verified_account_b: Any) -> None:
    out, _, _ = run("scan", "cli-public", "--tenant", "tenant-b", "--format", "json", "--no-save")
    items = json.loads(out)
    assert [(i["tenant"], i["account"]) for i in items] == [("tenant-b", "b-main")]
    out, _, _ = run("scan", "cli-public", "--account", "prod", "--format", "json", "--no-save")
    assert [i["account"] for i in json.loads(out)] == ["prod"]
    with pytest.raises(CommandError, match="unknown AWS account .nope. in any tenant"):
        call_command("scan", "--account", "nope", stdout=StringIO())


def test_table_format(buckets: Any) -> None:
    out, _, code = run("scan")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "TENANT",
        "ACCOUNT",
        "BUCKET",
        "REGION",
        "PUBLIC",
        "FAILING",
        "ERRORS",
    ]
    assert any(
        line.split()[2:5] == ["cli-public", "us-east-1", "yes"]
        for line in lines[1:]
        if line.startswith("tenant-a")
    )
    assert "why public: bucket ACL grants READ" in out


# --- scan_object_acl ------------------------------------------------------------------------


def test_scan_object_acl(buckets: Any, s3: Any) -> None:
    run("scan", "other-bucket")  # the bucket is known after a scan (moto gives new objects
    # of a public-read bucket its ACL, so the objects live in a private bucket)
    s3.put_object(Bucket="other-bucket", Key="docs/a.pdf", Body=b"1", ACL="public-read")
    s3.put_object(Bucket="other-bucket", Key="docs/b.txt", Body=b"1", ACL="authenticated-read")
    s3.put_object(Bucket="other-bucket", Key="docs/c.pdf", Body=b"1")
    s3.put_object(Bucket="other-bucket", Key="img/d.jpg", Body=b"1", ACL="public-read")
    out, _, code = run("scan_object_acl", "other-bucket")
    assert code == 0
    assert "docs/a.pdf  public-read" in out
    assert "docs/b.txt  authenticated-read" in out
    assert "img/d.jpg  public-read" in out
    assert "docs/c.pdf" not in out
    assert "4 object(s) in other-bucket; 3 public" in out
    out, _, _ = run("scan_object_acl", "other-bucket", "--only", "docs/*", "--except", "*.txt")
    assert "docs/a.pdf" in out and "docs/b.txt" not in out and "img/d.jpg" not in out
    assert "2 object(s)" in out
    out, err, _ = run("scan_object_acl", "other-bucket", "--format", "ndjson", "--only", "img/*")
    assert [json.loads(line) for line in out.strip().splitlines()][0]["acl"] == "public-read"


def test_scan_object_acl_needs_a_known_bucket(buckets: Any) -> None:
    with pytest.raises(CommandError, match="unknown bucket"):
        call_command("scan_object_acl", "cli-public", stdout=StringIO())
    out, _, _ = run("scan_object_acl", "cli-public", "--account", "prod")
    assert "0 object(s)" in out


# --- fix ------------------------------------------------------------------------------------


def test_fix_dry_run_then_apply(buckets: Any, s3: Any, personas: Any) -> None:
    run("scan")
    out, _, code = run("fix", "block-public-access", "cli-public", "--dry-run")
    assert code == 0
    assert out.startswith("DRY RUN: Turn on BlockPublicAcls")
    assert '"operation": "PutPublicAccessBlock"' in out
    assert "Before:\nnull" in out
    with pytest.raises(Exception, match="NoSuchPublicAccessBlockConfiguration"):
        s3.get_public_access_block(Bucket="cli-public")
    out, _, code = run("fix", "block-public-access", "cli-public", "--actor", "oscar")
    assert code == 0
    assert "the rescan finds it not public now (it was public)" in out
    event = AuditEvent.objects.get(action="storage.fix.block_public_access")
    assert event.actor_name == "oscar"


def test_fix_json_and_parameters(buckets: Any, s3: Any) -> None:
    run("scan")
    kms = boto3.client("kms", region_name="us-east-1")  # the dry run checks the key exists
    kms.create_alias(AliasName="alias/x", TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    out, _, _ = run(
        "fix",
        "default-encryption",
        "cli-public",
        "--kms-key-id",
        "alias/x",
        "--dry-run",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert data["dry_run"] is True and data["applied"] is False
    assert (
        data["requests"][0]["params"]["ServerSideEncryptionConfiguration"]["Rules"][0][
            "BucketKeyEnabled"
        ]
        is True
    )
    out, _, _ = run(
        "fix",
        "default_encryption",
        "cli-public",
        "--kms-key-id",
        "alias/x",
        "--no-bucket-key",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert data["applied"] is True and data["public_after"] is True
    rule = s3.get_bucket_encryption(Bucket="cli-public")["ServerSideEncryptionConfiguration"][
        "Rules"
    ][0]
    assert rule["BucketKeyEnabled"] is False
    event = AuditEvent.objects.get(action="storage.fix.default_encryption")
    assert event.actor_name.startswith("cli:")


def test_fix_errors_are_command_errors(buckets: Any) -> None:
    run("scan")
    with pytest.raises(CommandError, match="Give the target bucket"):
        call_command("fix", "access-logging", "cli-public", stdout=StringIO())
    with pytest.raises(CommandError, match="unknown bucket"):
        call_command("fix", "tls-only", "never-scanned", stdout=StringIO())


def test_fix_reset_object_acls_from_the_command_line(buckets: Any, s3: Any) -> None:
    run("scan")
    for key in ("a/1", "a/2", "b/3"):
        s3.put_object(Bucket="cli-public", Key=key, Body=b"1", ACL="public-read")
    out, _, _ = run("fix", "reset-object-acls", "cli-public", "--only", "a/*", "--dry-run")
    assert "2 would be reset to private" in out
    out, _, _ = run("fix", "reset-object-acls", "cli-public", "--only", "a/*")
    assert "Reset 2 of 2 object ACL(s) to private" in out
    grants = s3.get_object_acl(Bucket="cli-public", Key="b/3")["Grants"]
    assert len(grants) == 2  # not matched: untouched
