"""AWS accounts: secrets encrypted at rest, key rotation, the AWS seam, verification."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest
from cryptography.fernet import InvalidToken
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from moto.core import set_initial_no_auth_action_count

from accounts import aws
from accounts.crypto import reset_key_cache
from accounts.models import AuthMethod, AwsAccount
from accounts.verification import verify_account
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def raw_secret_column(pk: int) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_access_key FROM accounts_awsaccount WHERE id = %s", [pk])
        value = cursor.fetchone()[0]
    return bytes(value) if not isinstance(value, str) else value.encode()


@pytest.fixture
def fresh_keys(settings: Any) -> Any:
    reset_key_cache()
    yield settings
    reset_key_cache()


def test_secret_is_not_stored_in_clear(personas: Any) -> None:
    account = AwsAccount.objects.create(
        tenant=personas.tenant_a, name="x", secret_access_key=SECRET
    )
    raw = raw_secret_column(account.pk)
    assert SECRET.encode() not in raw
    assert raw.startswith(b"gAAAAA")  # a Fernet token
    assert AwsAccount.objects.get(pk=account.pk).secret_access_key == SECRET


@pytest.mark.django_db(transaction=True)
def test_secret_not_in_sqlite_file(personas: Any) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("checks the SQLite database file itself; the column check covers PostgreSQL")
    account = AwsAccount.objects.create(
        tenant=personas.tenant_a, name="x", secret_access_key=SECRET
    )
    with open(connection.settings_dict["NAME"], "rb") as db_file:  # committed: on disk now
        data = db_file.read()
    assert account.name.encode() in data  # the row really is in this file...
    assert SECRET.encode() not in data  # ...but its secret is not, in clear


def test_rotation_reencrypts_with_first_key(personas: Any, fresh_keys: Any) -> None:
    fresh_keys.FERNET_KEYS = ["old-key-aaaaaaaaaaaaaaaaaaaa"]
    reset_key_cache()
    account = AwsAccount.objects.create(
        tenant=personas.tenant_a, name="x", secret_access_key=SECRET
    )
    before = raw_secret_column(account.pk)

    fresh_keys.FERNET_KEYS = ["new-key-bbbbbbbbbbbbbbbbbbbb", "old-key-aaaaaaaaaaaaaaaaaaaa"]
    reset_key_cache()
    call_command("rotate_fernet_keys")
    assert raw_secret_column(account.pk) != before

    fresh_keys.FERNET_KEYS = ["new-key-bbbbbbbbbbbbbbbbbbbb"]  # old key dropped
    reset_key_cache()
    assert AwsAccount.objects.get(pk=account.pk).secret_access_key == SECRET


def test_wrong_key_fails_loudly_naming_the_account(personas: Any, fresh_keys: Any) -> None:
    fresh_keys.FERNET_KEYS = ["key-one-cccccccccccccccccccc"]
    reset_key_cache()
    account = AwsAccount.objects.create(
        tenant=personas.tenant_a, name="payroll", secret_access_key=SECRET
    )
    fresh_keys.FERNET_KEYS = ["unrelated-key-dddddddddddddddd"]
    reset_key_cache()
    with pytest.raises(InvalidToken):
        AwsAccount.objects.get(pk=account.pk)  # never silently ciphertext
    with pytest.raises(CommandError, match="'payroll' of tenant 'tenant-a'"):
        call_command("rotate_fernet_keys")


def test_audit_dict_never_holds_secret(personas: Any) -> None:
    account = AwsAccount(tenant=personas.tenant_a, name="x", secret_access_key=SECRET)
    assert SECRET not in str(account.audit_dict())
    assert account.audit_dict()["secret_set"] is True


def test_client_uses_endpoint_region_and_adaptive_retries(personas: Any) -> None:
    account = AwsAccount(
        tenant=personas.tenant_a,
        name="x",
        access_key_id="AKIAXXXXXXXXXXXXXXXX",
        secret_access_key=SECRET,
        default_region="eu-west-2",
        endpoint_url="http://127.0.0.1:9",
    )
    client = aws.client(account, "s3")
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert client.meta.region_name == "eu-west-2"
    assert client.meta.config.retries["mode"] == "adaptive"
    assert client.meta.config.connect_timeout == 5.0
    creds = client._request_signer._credentials
    assert creds.access_key == "AKIAXXXXXXXXXXXXXXXX"


def test_verify_success_stores_identity_and_audits(account_a: Any) -> None:
    result = verify_account(account_a)
    assert result.ok
    account_a.refresh_from_db()
    assert account_a.verified_account_id == "123456789012"
    assert account_a.verified_arn.startswith("arn:aws:")
    assert account_a.last_verified_at is not None and account_a.last_error == ""
    event = AuditEvent.objects.get(action="accounts.aws_account.verify")
    assert event.after["verified_account_id"] == "123456789012"


@set_initial_no_auth_action_count(2)
def test_verify_with_wrong_keys_gives_readable_message(personas: Any, moto: None) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="portal")
    key = iam.create_access_key(UserName="portal")["AccessKey"]

    good = AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="good",
        access_key_id=key["AccessKeyId"],
        secret_access_key=key["SecretAccessKey"],
    )
    assert verify_account(good).ok

    wrong_secret = AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="typo",
        access_key_id=key["AccessKeyId"],
        secret_access_key="not-the-secret",
    )
    result = verify_account(wrong_secret)
    assert not result.ok
    assert "rejected the secret access key of account 'typo'" in result.error
    wrong_secret.refresh_from_db()
    assert wrong_secret.last_error == result.error

    unknown = AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="ghost",
        access_key_id="AKIAUNKNOWNUNKNOWN00",
        secret_access_key="whatever",
    )
    result = verify_account(unknown)
    assert "does not recognise the access key id of account 'ghost'" in result.error
    assert "not-the-secret" not in str(list(AuditEvent.objects.values_list("after", flat=True)))


def test_verify_unreachable_endpoint(personas: Any, aws_env: None, settings: Any) -> None:
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT = 0.5
    account = AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="offline",
        access_key_id="AKIAXXXXXXXXXXXXXXXX",
        secret_access_key="x",
        endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
    )
    result = verify_account(account)
    assert not result.ok
    assert "Could not reach the endpoint for account 'offline'" in result.error


def test_assume_role_with_external_id_is_cached_and_verified(
    personas: Any, moto: None, aws_requires_external_id: None
) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(
        RoleName="portal-reader",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}',
    )["Role"]
    account = AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="assumed",
        auth_method=AuthMethod.ASSUME_ROLE,
        role_arn=role["Arn"],
        role_session_name="portal-test",
        platform_credentials_approved=True,  # the platform's identity is the source
    )
    assert len(account.external_id) >= 32  # made by the portal on save
    result = verify_account(account)
    assert result.ok
    assert ":assumed-role/portal-reader/portal-test" in result.arn
    first = aws.session_for(account)
    assert aws.session_for(account) is first  # temporary credentials cached
    creds = first.get_credentials()
    assert creds.method == "sts-assume-role"
    assert creds.get_frozen_credentials().token  # a session token from STS
    account.role_session_name = "changed"
    account.save()
    assert aws.session_for(account) is not first  # an edit invalidates the cache


def test_ambient_account_uses_default_chain(personas: Any, moto: None) -> None:
    account = AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="ambient",
        auth_method=AuthMethod.AMBIENT,
        platform_credentials_approved=True,  # granted by platform staff (trust boundary)
    )
    creds = aws.session_for(account).get_credentials()
    assert creds.method == "env"  # boto3's default chain found the environment's key
    assert creds.access_key == os.environ["AWS_ACCESS_KEY_ID"]
    assert verify_account(account).ok


def test_access_key_sessions_are_cached_until_the_account_changes(account_a: Any) -> None:
    first = aws.session_for(account_a)
    assert aws.session_for(account_a) is first
    account_a.secret_access_key = "rotated-secret-value"
    account_a.save()
    second = aws.session_for(account_a)
    assert second is not first
    assert second.get_credentials().secret_key == "rotated-secret-value"


def test_verification_clears_only_the_verified_accounts_cached_sessions(
    personas: Any, monkeypatch: Any
) -> None:
    from accounts import aws, verification

    aws.clear_session_cache()
    first = AwsAccount.objects.create(tenant=personas.tenant_a, name="first")
    second = AwsAccount.objects.create(tenant=personas.tenant_a, name="second")
    aws.session_for(first)
    aws.session_for(second)
    assert {key[0] for key in aws._session_cache} == {first.pk, second.pk}

    class FakeSts:
        def get_caller_identity(self) -> dict[str, str]:
            return {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/x"}

    monkeypatch.setattr(verification.aws, "client", lambda *a, **k: FakeSts())
    assert verification.verify_account(first).ok
    assert {key[0] for key in aws._session_cache} == {second.pk}
    aws.clear_session_cache()
