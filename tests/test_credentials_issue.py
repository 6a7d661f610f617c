"""Issuing with moto in-process: plan, permanent create/revoke, rollback, temporary, no secrets."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from unittest import mock

import boto3
import pytest
from django.utils import timezone

from audit.models import AuditEvent
from storage.credentials import lifecycle
from storage.credentials.issuing import CredentialError, IssueRequest, issue, plan_issue
from storage.credentials.models import IssuedCredential, Kind, State
from storage.credentials.policies import AccessLevel, PolicyError

pytest_plugins = ["tests.credentials_fixtures"]


def request(personas: Any, account: Any, **overrides: Any) -> IssueRequest:
    values: dict[str, Any] = {
        "tenant": personas.tenant_a,
        "account": account,
        "buckets": ["alpha-data"],
        "actor": personas.alice,
    }
    values.update(overrides)
    return IssueRequest(**values)


def iam() -> Any:
    return boto3.client("iam", region_name="us-east-1")


def test_plan_lists_exact_requests_and_makes_no_aws_call(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    plan = plan_issue(request(personas, account_a, prefixes=["in"], access=AccessLevel.READ_ONLY))
    ops = [r["operation"] for r in plan.requests]
    assert ops == ["CreateUser", "PutUserPolicy", "CreateAccessKey"]
    create = plan.requests[0]["params"]
    assert create["Path"] == "/s3portal/tenant-a/"
    assert create["PermissionsBoundary"] == "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    assert len(create["UserName"]) <= 64  # IAM: user names are at most 64 characters
    assert plan.requests[1]["params"]["PolicyDocument"] == plan.policy
    assert iam().list_users()["Users"] == []


def test_foreign_bucket_is_refused_before_any_call(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    with pytest.raises(PolicyError) as caught:
        plan_issue(request(personas, account_a, buckets=["alpha-data", "tenant-b-bucket"]))
    assert caught.value.problems == [
        "Bucket 'tenant-b-bucket' is not one of this tenant's buckets in account 'prod' "
        "(scan the account first if it is new)."
    ]
    statement = json.dumps(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::tenant-b-bucket/*"}
    )
    with pytest.raises(PolicyError, match="'tenant-b-bucket' is not one of this tenant's"):
        plan_issue(request(personas, account_a, statements=[statement]))
    assert iam().list_users()["Users"] == []


def test_permanent_create_then_revoke(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    plan = plan_issue(request(personas, account_a, purpose="backup job"))
    credential, secret = issue(plan)
    user = iam().get_user(UserName=credential.iam_user_name)["User"]
    assert user["Path"] == "/s3portal/tenant-a/"
    # moto does not keep a user's boundary: check what was sent (the plan is what issue() sends)
    assert plan.requests[0]["params"]["PermissionsBoundary"].endswith("AmazonS3FullAccess")
    assert credential.boundary_arn == "arn:aws:iam::aws:policy/AmazonS3FullAccess"
    stored = iam().get_user_policy(UserName=credential.iam_user_name, PolicyName="s3portal")
    assert stored["PolicyDocument"] == plan.policy
    assert credential.access_key_id == secret.access_key_id
    assert secret.secret_access_key not in repr(secret)
    event = AuditEvent.objects.get(action="credentials.issue")
    assert event.after["policy"] == plan.policy
    assert secret.secret_access_key not in json.dumps(event.after)

    done = lifecycle.revoke(credential, actor=personas.alice, reason="job retired")
    assert done[0] == f"deleted access key {secret.access_key_id}"
    assert done[-1] == f"deleted user {credential.iam_user_name}"
    assert iam().list_users()["Users"] == []
    credential.refresh_from_db()
    assert credential.state == State.REVOKED and credential.revoke_reason == "job retired"
    assert credential.revoked_by == personas.alice
    assert AuditEvent.objects.filter(action="credentials.revoke").count() == 1


def test_failure_after_create_user_deletes_what_was_created(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    plan = plan_issue(request(personas, account_a))
    real_client = __import__("accounts.aws", fromlist=["client"]).client

    def failing_client(account: Any, service: str, **kw: Any) -> Any:
        made = real_client(account, service, **kw)
        if service == "iam":

            def boom(**_: Any) -> None:
                from botocore.exceptions import ClientError

                raise ClientError(
                    {"Error": {"Code": "LimitExceeded", "Message": "too many keys"}},
                    "CreateAccessKey",
                )

            made.create_access_key = boom
        return made

    with (
        mock.patch("storage.credentials.issuing.aws.client", failing_client),
        pytest.raises(CredentialError) as caught,
    ):
        issue(plan)
    message = str(caught.value)
    assert message.startswith("IAM refused CreateAccessKey: a limit was reached")
    assert "Nothing was left behind: the portal deleted inline policy s3portal, deleted user" in (
        message
    )
    assert iam().list_users()["Users"] == []
    assert IssuedCredential.objects.count() == 0
    assert not AuditEvent.objects.filter(action="credentials.issue").exists()


def test_temporary_credentials_use_the_portal_role_and_a_session_policy(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    plan = plan_issue(request(personas, account_a, kind=Kind.TEMPORARY, duration_seconds=2 * 3600))
    assert [r["operation"] for r in plan.requests] == ["GetRole", "AssumeRole"]
    credential, secret = issue(plan)
    role = iam().get_role(RoleName="s3portal-credentials")["Role"]
    assert role["MaxSessionDuration"] == 43200
    assert credential.role_arn == role["Arn"]
    assert secret.session_token and credential.access_key_id == secret.access_key_id
    assert credential.expires_at is not None
    assert (
        timedelta(hours=1, minutes=59)
        < credential.expires_at - timezone.now()
        <= timedelta(hours=2)
    )
    assert AuditEvent.objects.filter(action="credentials.role.create").count() == 1
    # second issue reuses the role
    issue(plan_issue(request(personas, account_a, kind=Kind.TEMPORARY)))
    assert AuditEvent.objects.filter(action="credentials.role.create").count() == 1


def test_named_role_duration_is_capped_by_its_max(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    role = iam().create_role(
        RoleName="deploy",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        MaxSessionDuration=3600,
    )["Role"]
    plan = plan_issue(
        request(
            personas,
            account_a,
            kind=Kind.TEMPORARY,
            duration_seconds=6 * 3600,
            role_arn=role["Arn"],
        )
    )
    credential, _ = issue(plan)
    assert "Capped to the role's MaxSessionDuration of 3600 seconds." in plan.notes
    assert credential.expires_at is not None
    assert credential.expires_at - timezone.now() <= timedelta(hours=1)


def test_session_policy_size_limit(personas: Any, account_a: Any) -> None:
    from storage.models import Bucket

    names = [f"bucket-number-{i:03d}" for i in range(25)]
    for name in names:
        Bucket.objects.create(account=account_a, name=name)
    with pytest.raises(PolicyError) as caught:
        plan_issue(request(personas, account_a, buckets=names, kind=Kind.TEMPORARY))
    # AssumeRole API reference: the session policy's plain text is at most 2,048 characters.
    assert caught.value.problems[-1].startswith("The session policy is ")
    assert "AWS allows 2,048" in caught.value.problems[-1]


def test_revoking_a_temporary_credential_denies_that_session_only(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    from storage.credentials.issuing import ROLE_S3_ONLY_POLICY
    from tests.policy_eval import allowed

    first, _ = issue(plan_issue(request(personas, account_a, kind=Kind.TEMPORARY)))
    second, _ = issue(plan_issue(request(personas, account_a, kind=Kind.TEMPORARY)))
    done = lifecycle.revoke(first, actor=personas.alice, reason="leaked in a log")
    assert done == [
        f"session {first.session_name} denied by the role's s3portal-revoked-sessions policy"
    ]
    stored = iam().get_role_policy(
        RoleName="s3portal-credentials", PolicyName="s3portal-revoked-sessions"
    )["PolicyDocument"]
    role_id = iam().get_role(RoleName="s3portal-credentials")["Role"]["RoleId"]
    # moto does not evaluate aws:userid: the evaluator shows only the revoked session is denied
    deny = stored if isinstance(stored, dict) else json.loads(stored)
    for credential, expected in [(first, False), (second, True)]:
        verdict = allowed(
            "s3:GetObject",
            "arn:aws:s3:::alpha-data/x",
            identity={
                "Version": "2012-10-17",
                "Statement": ROLE_S3_ONLY_POLICY["Statement"] + deny["Statement"],
            },
            session=credential.policy,
            context={"aws:userid": f"{role_id}:{credential.session_name}"},
        )
        assert verdict is expected, credential.session_name


def test_named_role_in_another_account_is_refused(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    account_a.verified_account_id = "123456789012"
    account_a.save()
    with pytest.raises(CredentialError, match="is in account 999999999999, not in 'prod'"):
        plan_issue(
            request(
                personas,
                account_a,
                kind=Kind.TEMPORARY,
                role_arn="arn:aws:iam::999999999999:role/other",
            )
        )
    with pytest.raises(CredentialError, match="is not an IAM role ARN"):
        plan_issue(request(personas, account_a, kind=Kind.TEMPORARY, role_arn="role/x"))


def test_role_chaining_caps_the_session_at_one_hour_in_the_dry_run(
    personas: Any, account_a: Any, cred_buckets: list[str]
) -> None:
    from accounts.models import AuthMethod

    account_a.auth_method = AuthMethod.ASSUME_ROLE
    account_a.role_arn = "arn:aws:iam::123456789012:role/portal"
    plan = plan_issue(request(personas, account_a, kind=Kind.TEMPORARY, duration_seconds=43200))
    assert plan.requests[-1]["params"]["DurationSeconds"] == 3600  # IAM: role chaining, 1 hour
    assert any("role chaining" in note for note in plan.notes)
