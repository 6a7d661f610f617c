"""Issue 8, items 6-9: the command line outside the demo.

One line naming what is missing (and how to load the demo's settings), one message per cause,
a non-zero exit when something errored, and no scan run left unfinished.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from storage import tasks
from storage.models import ScanRun

pytest_plugins = ["tests.scan_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
DEMO_ENV = "SECRET_KEY={secret}\nFERNET_KEYS={fernet}\nDEMO_PASSWORD=pw\n"


def manage(var_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """manage.py in a fresh process, with only the environment given (no DEBUG, no keys)."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "FERNET_KEYS", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "S3PORTAL_VAR_DIR": str(var_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_secret_key_is_one_line_naming_it_and_the_demo_env(tmp_path: Path) -> None:
    (tmp_path / "demo.env").write_text(DEMO_ENV.format(secret="s" * 50, fernet="f" * 40))
    done = manage(tmp_path, "scan", "--format", "json")
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: SECRET_KEY is missing")
    assert 'make manage ARGS="..."' in lines[0] and "var/demo.env" in lines[0]


def test_unmigrated_database_is_one_line(tmp_path: Path) -> None:
    done = manage(tmp_path, "scan", DEBUG="true")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "the database has no tables yet" in lines[0] and "manage.py migrate" in lines[0]


def test_secrets_written_with_other_keys_are_one_line(tmp_path: Path) -> None:
    keys = {"DEBUG": "true", "SECRET_KEY": "k" * 50, "FERNET_KEYS": "a" * 40}
    assert manage(tmp_path, "migrate", "-v", "0", **keys).returncode == 0
    assert manage(tmp_path, "create_tenant", "t1", "--name", "T1", **keys).returncode == 0
    added = manage(
        tmp_path,
        "add_aws_account", "t1", "acct", "--access-key-id", "AKIAEXAMPLEEXAMPLE00",
        "--secret-from-env", "THE_SECRET",
        THE_SECRET="not-a-real-secret", **keys,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    done = manage(tmp_path, "scan", "--format", "json", **{**keys, "FERNET_KEYS": "b" * 40})
    assert done.returncode == 1
    assert done.stdout == ""  # not even the opening bracket of the JSON list
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [line for line in done.stderr.splitlines() if "Traceback" not in line][-1:]
    assert "cannot be decrypted with the configured FERNET_KEYS" in errors[0]
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_manage_loads_var_demo_env(tmp_path: Path) -> None:
    (tmp_path / "demo.env").write_text(DEMO_ENV.format(secret="s" * 50, fernet="f" * 40))
    venv = Path(sys.executable).parent.parent
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "FERNET_KEYS"}}
    done = subprocess.run(
        ["make", "-s", "-o", f"{venv}/.installed", "manage", f"VENV={venv}", "ARGS=check"],
        cwd=ROOT,
        env={**base, "S3PORTAL_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout
    missing = subprocess.run(
        ["make", "-s", "-o", f"{venv}/.installed", "manage", f"VENV={venv}", "ARGS=check"],
        cwd=ROOT,
        env={**base, "S3PORTAL_VAR_DIR": str(tmp_path / "nowhere")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode != 0
    assert "demo.env is missing: run 'make run' once" in missing.stderr


# --- item 7: one message per cause ---------------------------------------------------------


def command_error(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        call_command(*args, stdout=StringIO(), stderr=StringIO())
    return str(caught.value)


@pytest.mark.django_db
def test_unknown_tenant_is_named_as_such(verified_account: Any, make_bucket: Any) -> None:
    make_bucket("known")
    call_command("scan", stdout=StringIO(), stderr=StringIO())
    assert command_error("scan", "--tenant", "nope").startswith("unknown tenant 'nope'")
    assert command_error("fix", "enable-versioning", "known", "--tenant", "nope").startswith(
        "unknown tenant 'nope'"
    )
    assert command_error("scan_object_acl", "known", "--tenant", "nope").startswith(
        "unknown tenant 'nope'"
    )
    assert command_error("scan", "--account", "nope") == (
        "unknown AWS account 'nope' in any tenant"
    )
    assert command_error("scan", "--tenant", "tenant-a", "--account", "nope") == (
        "unknown AWS account 'nope' in tenant 'tenant-a'"
    )


@pytest.mark.django_db
def test_tenant_without_accounts(verified_account: Any) -> None:
    assert (
        command_error("scan", "--tenant", "tenant-b") == "tenant 'tenant-b' has no AWS account yet"
    )


@pytest.mark.django_db
def test_a_bucket_that_does_not_exist_is_named_once(verified_account: Any, s3: Any) -> None:
    message = command_error("fix", "enable-versioning", "no-such-bucket", "--account", "prod")
    assert "Bucket 'no-such-bucket' does not exist in account 'prod'" in message
    assert "bucket on bucket" not in message.lower()


# --- item 8: errors give a non-zero exit ------------------------------------------------------


@pytest.mark.django_db
def test_scan_object_acl_exits_non_zero_when_an_acl_errored(
    verified_account: Any, make_bucket: Any, s3: Any, aws_faults: Any
) -> None:
    make_bucket("acl-errors")
    s3.put_object(Bucket="acl-errors", Key="a", Body=b"1")
    call_command("scan", "acl-errors", stdout=StringIO(), stderr=StringIO())
    aws_faults.fail("GetObjectAcl", "AccessDenied")
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("scan_object_acl", "acl-errors", stdout=out, stderr=err)
    assert exited.value.code == 1
    assert "a  error:" in out.getvalue()
    assert "1 object ACL(s) in acl-errors could not be read" in err.getvalue()


# --- item 9: every run ends in a terminal state ------------------------------------------------


@pytest.mark.django_db
def test_cli_scan_of_an_unreachable_account_ends_failed(
    verified_account: Any, aws_faults: Any
) -> None:
    aws_faults.fail("ListBuckets", "SlowDown")
    err = StringIO()
    call_command("scan", stdout=StringIO(), stderr=err)
    run = ScanRun.objects.get(account=verified_account)
    assert run.status == ScanRun.Status.FAILED
    assert run.finished_at is not None
    assert "the command does not retry" in run.message
    assert f"scan #{run.pk} failed:" in err.getvalue()


@pytest.mark.django_db
def test_stale_queued_runs_expire_even_for_unverified_accounts(
    account_a: Any, settings: Any
) -> None:
    # account_a is not verified, so no scheduled scan would ever touch it again.
    waiting = ScanRun.objects.create(
        account=account_a,
        status=ScanRun.Status.QUEUED,
        heartbeat_at=timezone.now() - timedelta(seconds=settings.SCAN_STALE_AFTER + 5),
        message="will retry: Could not reach the endpoint",
    )
    fresh = ScanRun.objects.create(
        account=account_a, status=ScanRun.Status.QUEUED, heartbeat_at=timezone.now()
    )
    assert tasks.expire_stale_scan_runs() == 1
    waiting.refresh_from_db()
    fresh.refresh_from_db()
    assert waiting.status == ScanRun.Status.FAILED
    assert waiting.message.startswith("gave up: no retry came within")
    assert "Could not reach the endpoint" in waiting.message
    assert fresh.status == ScanRun.Status.QUEUED
    entry = settings.CELERY_BEAT_SCHEDULE["scan-expire-stale-runs"]
    assert entry["task"] == "storage.expire_stale_scan_runs"
    assert entry["schedule"] == settings.SCAN_STALE_AFTER
