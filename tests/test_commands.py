"""Onboarding commands: happy paths, and bad input as one clear stderr line with nothing left."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuthMethod, AwsAccount, Membership, Tenant
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def test_create_tenant_and_duplicate(capsys: Any) -> None:
    call_command("create_tenant", "acme", name="ACME Corp")
    assert Tenant.objects.get(slug="acme").name == "ACME Corp"
    assert AuditEvent.objects.filter(action="accounts.tenant.create").count() == 1
    with pytest.raises(CommandError, match="tenant 'acme' already exists"):
        call_command("create_tenant", "acme", name="Again")
    with pytest.raises(CommandError, match="slug"):
        call_command("create_tenant", "bad slug!", name="x")
    assert Tenant.objects.count() == 1


def test_add_member_paths(personas: Any) -> None:
    call_command("add_member", "tenant-a", "newbie", "viewer", create_user=True)
    user = get_user_model().objects.get(username="newbie")
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user).role == "viewer"
    with pytest.raises(CommandError, match="unknown user 'ghost'"):
        call_command("add_member", "tenant-a", "ghost", "member")
    with pytest.raises(CommandError, match="unknown tenant 'nope'"):
        call_command("add_member", "nope", "bob", "member")
    with pytest.raises(CommandError, match="already a member"):
        call_command("add_member", "tenant-a", "bob", "admin")
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("add_member", "tenant-a", "bob", "overlord")
    assert not get_user_model().objects.filter(username="ghost").exists()


def test_add_aws_account_secret_from_env(personas: Any, moto: None, monkeypatch: Any) -> None:
    monkeypatch.setenv("PROD_SECRET", "the-secret-from-env-123")
    out = io.StringIO()
    call_command(
        "add_aws_account",
        "tenant-a",
        "prod",
        access_key_id="AKIAPRODPRODPRODPROD",
        secret_from_env="PROD_SECRET",
        region="eu-west-1",
        verify=True,
        stdout=out,
    )
    account = AwsAccount.objects.get(name="prod")
    assert account.secret_access_key == "the-secret-from-env-123"
    assert account.default_region == "eu-west-1"
    assert account.verified_account_id == "123456789012"
    assert "verified as arn:aws:" in out.getvalue()
    assert "the-secret-from-env" not in str(list(AuditEvent.objects.values("before", "after")))


def test_add_aws_account_secret_from_stdin(personas: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("stdin-secret-value\n"))
    call_command(
        "add_aws_account",
        "tenant-a",
        "s",
        access_key_id="AKIASSSSSSSSSSSSSSSS",
        secret_from_stdin=True,
    )
    assert AwsAccount.objects.get(name="s").secret_access_key == "stdin-secret-value"


def test_add_aws_account_role_and_ambient(personas: Any, capsys: Any) -> None:
    # The CLI is the platform operator's tool: it may grant platform credentials, and says so.
    call_command(
        "add_aws_account",
        "tenant-a",
        "role",
        role_arn="arn:aws:iam::111122223333:role/PortalAudit",
    )
    role = AwsAccount.objects.get(name="role")
    assert role.auth_method == AuthMethod.ASSUME_ROLE and len(role.external_id) >= 32
    assert role.platform_credentials_approved
    out, err = capsys.readouterr()
    assert "tenant 'tenant-a' gets the platform's own AWS credentials" in err
    assert role.external_id in out and '"sts:ExternalId"' in out  # the trust policy to put on it
    call_command(
        "add_aws_account", "tenant-a", "amb", ambient=True, endpoint_url="http://127.0.0.1:9"
    )
    assert AwsAccount.objects.get(name="amb").auth_method == AuthMethod.AMBIENT
    assert "tenant 'tenant-a' gets the platform's own AWS credentials" in capsys.readouterr().err


def test_add_aws_account_refuses_a_chosen_external_id(personas: Any) -> None:
    with pytest.raises(CommandError, match="the portal makes the external ID"):
        call_command(
            "add_aws_account",
            "tenant-a",
            "role",
            role_arn="arn:aws:iam::111122223333:role/PortalAudit",
            external_id="ext-1",
        )
    assert not AwsAccount.objects.filter(name="role").exists()


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (["nope", "x"], {"ambient": True}, "unknown tenant 'nope'"),
        (["tenant-a", "x"], {}, "choose one of --access-key-id, --role-arn or --ambient"),
        (["tenant-a", "x"], {"role_arn": "arn:aws:iam::12:role/x"}, "role_arn: arn:aws:iam::12"),
        (
            ["tenant-a", "x"],
            {"access_key_id": "notakey", "secret_from_env": "SOME_SECRET"},
            "is not an AWS access key id",
        ),
        (["tenant-a", "x"], {"access_key_id": "AKIAXXXXXXXXXXXXXXXX"}, "needs its secret"),
        (
            ["tenant-a", "x"],
            {"access_key_id": "AKIAXXXXXXXXXXXXXXXX", "secret_from_env": "EMPTY_VAR"},
            "EMPTY_VAR is empty",
        ),
        (["tenant-a", "x"], {"ambient": True, "endpoint_url": "ftp://x"}, "not an http(s) URL"),
        (["tenant-a", "x"], {"ambient": True, "region": "mars-1"}, "not an AWS region"),
    ],
)
def test_add_aws_account_bad_input(
    personas: Any, monkeypatch: Any, args: list[str], kwargs: dict[str, Any], message: str
) -> None:
    monkeypatch.setenv("SOME_SECRET", "s")
    monkeypatch.setenv("EMPTY_VAR", "")
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("add_aws_account", *args, **kwargs)
    assert not AwsAccount.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="accounts.aws_account").exists()


def test_duplicate_account_name(personas: Any) -> None:
    call_command("add_aws_account", "tenant-a", "dup", ambient=True)
    with pytest.raises(CommandError, match="already has an account 'dup'"):
        call_command("add_aws_account", "tenant-a", "dup", ambient=True)


def test_failed_verification_leaves_nothing(personas: Any, aws_env: None, settings: Any) -> None:
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT = 0.5
    with pytest.raises(CommandError, match="Could not reach the endpoint"):
        call_command(
            "add_aws_account",
            "tenant-a",
            "offline",
            ambient=True,
            endpoint_url="http://127.0.0.1:9",
            verify=True,
        )
    assert not AwsAccount.objects.filter(name="offline").exists()
    assert not AuditEvent.objects.filter(action__startswith="accounts.aws_account").exists()


def test_verify_aws_account_command(personas: Any, account_a: Any, capsys: Any) -> None:
    call_command("verify_aws_account", "tenant-a", "prod")
    assert "123456789012" in capsys.readouterr().out
    with pytest.raises(CommandError, match="has no AWS account 'nope'"):
        call_command("verify_aws_account", "tenant-a", "nope")


def test_secret_cannot_be_passed_in_argv() -> None:
    env = {**os.environ}
    result = subprocess.run(
        [sys.executable, "manage.py", "add_aws_account", "t", "n", "--secret-access-key", "x"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "unrecognized arguments: --secret-access-key" in result.stderr


def test_cli_error_is_one_line_on_stderr(tmp_path: Path) -> None:
    # Runs against an empty throwaway database of its own: the tenant does not exist.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli-test.sqlite3'}"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "add_member", "missing-tenant", "bob", "member"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: unknown tenant 'missing-tenant' (create it with: manage.py create_tenant)"
    ]
