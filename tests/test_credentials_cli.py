"""manage.py credentials: create (dry run, formats), policy, list, rotate, revoke; errors."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from django.core.management import CommandError, call_command

from storage.credentials import formats
from storage.credentials.models import IssuedCredential, State

pytest_plugins = ["tests.credentials_fixtures"]


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("credentials", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_policy_prints_the_generated_document() -> None:
    out, _ = run("policy", "my-s3-bucket", "--read-only", "--prefix", "in")
    policy = json.loads(out)
    assert policy["Statement"][1]["Condition"] == {"StringLike": {"s3:prefix": ["in/*"]}}


def test_policy_errors_are_one_line() -> None:
    with pytest.raises(CommandError) as caught:
        run("policy", "b1x", "--statement", '{"Effect":"Allow","Action":"ec2:*","Resource":"*"}')
    assert "\n" not in str(caught.value)
    assert "'ec2:*' is not an S3 action" in str(caught.value)


def test_create_dry_run_creates_nothing(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    out, _ = run(
        "create", "tenant-a", "prod", "alpha-data", "beta-logs", "--write-only", "--dry-run"
    )
    plan = json.loads(out)
    assert [r["operation"] for r in plan["requests"]] == [
        "CreateUser",
        "PutUserPolicy",
        "CreateAccessKey",
    ]
    assert boto3.client("iam", region_name="us-east-1").list_users()["Users"] == []
    assert IssuedCredential.objects.count() == 0


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_create_prints_the_secret_once_in_each_format(
    personas: Any, account_a: Any, cred_buckets: list[str], fmt: str
) -> None:
    out, err = run("create", "tenant-a", "prod", "alpha-data", "--format", fmt)
    parsed = formats.parse_auth(out)
    credential = IssuedCredential.objects.get()
    assert parsed.access_key_id == credential.access_key_id
    assert parsed.secret_access_key not in err
    assert "shown only once" in err
    listed, _ = run("list", "--tenant", "tenant-a", "--format", "ndjson")
    assert parsed.secret_access_key not in listed
    assert json.loads(listed.splitlines()[0])["access_key_id"] == credential.access_key_id


def test_temporary_create_and_list_json(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    out, _ = run("create", "tenant-a", "prod", "alpha-data", "--duration", "15m", "--format", "env")
    assert "AWS_SESSION_TOKEN=" in out
    listed = json.loads(run("list")[0])
    assert listed[0]["kind"] == "temporary"


def test_rotate_and_revoke(personas: Any, account_a: Any, cred_buckets: list[str]) -> None:
    run("create", "tenant-a", "prod", "alpha-data")
    credential = IssuedCredential.objects.get()
    out, err = run("rotate", str(credential.pk), "--grace", "0", "--format", "ini")
    new = formats.parse_auth(out)
    iam = boto3.client("iam", region_name="us-east-1")
    keys = iam.list_access_keys(UserName=credential.iam_user_name)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [new.access_key_id]  # grace 0: old one gone
    out, _ = run("revoke", str(credential.pk), "--reason", "done")
    assert out.startswith(f"revoked credential #{credential.pk}: deleted access key")
    credential.refresh_from_db()
    assert credential.state == State.REVOKED and credential.revoke_reason == "done"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "nope", "prod", "b"], "unknown tenant 'nope'"),
        (["create", "tenant-a", "nope", "b"], "tenant 'tenant-a' has no AWS account 'nope'"),
        (["create", "tenant-a", "prod", "alpha-data", "--duration", "13h"], "outside AssumeRole"),
        (["create", "tenant-a", "prod", "alpha-data", "--expires", "soon"], "use YYYY-MM-DD"),
        (["create", "tenant-a", "prod", "tenant-b-bucket"], "is not one of this tenant's"),
        (["rotate", "999"], "no credential with id 999"),
        (["whoami", "--auth", "/nonexistent"], "cannot read credentials file /nonexistent"),
    ],
)
def test_errors_are_one_line(
    personas: Any, account_a: Any, cred_buckets: list[str], args: list[str], message: str
) -> None:
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert message in str(caught.value) and "\n" not in str(caught.value)
