"""Start real helper processes for integration tests: moto_server and a Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from s3portal.localproc import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@contextmanager
def moto_server(extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """A real moto_server over HTTP; yields its endpoint URL. `extra_env` e.g. turns on IAM
    enforcement (INITIAL_NO_AUTH_ACTION_COUNT)."""
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(extra_env or {})},
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def database_url(settings_dict: dict[str, object]) -> str:
    """A DATABASE_URL pointing a child process at the database the tests are using."""
    name = settings_dict["NAME"]
    if "sqlite" in str(settings_dict["ENGINE"]):
        return f"sqlite:///{name}"
    user, password = settings_dict.get("USER") or "", settings_dict.get("PASSWORD") or ""
    host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or 5432
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{host}:{port}/{name}"


@contextmanager
def celery_worker(extra_env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, **extra_env}
    proc = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "s3portal",
            "worker",
            "-P",
            "solo",
            "-c",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
