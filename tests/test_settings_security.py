"""Settings: refuse to start without real secrets when DEBUG is off; check --deploy passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-value-1234567890",
    "FERNET_KEYS": "a-long-random-fernet-key-for-production-use-0001",
}


def run_django(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # Drop the test-only relaxations pytest-env sets (plain HTTP cookies, async-unsafe, ...).
    dropped = {
        "SECRET_KEY",
        "FERNET_KEYS",
        "DEBUG",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "STATICFILES_BACKEND",
    }
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_overrides)
    env["S3PORTAL_VAR_DIR"] = str(ROOT / "var")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"FERNET_KEYS": GOOD["FERNET_KEYS"]}, "SECRET_KEY is missing or a placeholder"),
        ({**GOOD, "SECRET_KEY": "change-me"}, "SECRET_KEY is missing or a placeholder"),
        ({"SECRET_KEY": GOOD["SECRET_KEY"]}, "FERNET_KEYS is missing"),
        ({**GOOD, "FERNET_KEYS": "change-me"}, "FERNET_KEYS is missing"),
    ],
)
def test_refuses_to_start_without_real_secrets(overrides: dict[str, str], message: str) -> None:
    result = run_django({"DEBUG": "false", **overrides}, "check")
    assert result.returncode != 0
    assert message in result.stderr


def test_debug_mode_starts_with_dev_defaults() -> None:
    result = run_django({"DEBUG": "true"}, "check")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_passes_with_production_environment(tmp_path: Path) -> None:
    result = run_django(
        {
            **GOOD,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "portal.example.com",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
        },
        "check",
        "--deploy",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The only remark left is HSTS preload, a deliberate opt-in (SECURE_HSTS_PRELOAD=true).
    remarks = [line for line in result.stderr.splitlines() if line.startswith("?: (")]
    assert [r.split(")")[0] for r in remarks] == ["?: (security.W021"], result.stderr


@pytest.mark.django_db
def test_request_id_header_is_echoed_or_generated(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc12345-req")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "abc12345-req"
    generated = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert generated["X-Request-ID"] != "bad id\nwith newline"
    assert len(generated["X-Request-ID"]) == 32
