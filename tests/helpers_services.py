"""Start real helper processes for integration tests: moto_server and a Celery worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@contextmanager
def moto_server() -> Iterator[str]:
    """A real moto_server over HTTP; yields its endpoint URL."""
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
