"""Upload a 1 GiB file through the running portal and compare it with `aws s3 cp`.

What runs (all on 127.0.0.1, in a throwaway folder):
  * moto_server (the S3 emulator), the portal under gunicorn (1 sync worker, DEBUG off,
    SQLite + the filesystem Celery broker), and a Celery worker for the backups;
  * setup through the management commands: create_tenant, add_member, add_aws_account,
    set_file_space (the same path an operator takes).

What it measures:
  * the gunicorn worker's resident memory: idle (after a warm-up upload) and the peak during the
    1 GiB upload (kernel high-water mark VmHWM, reset before the upload, plus 10 ms sampling);
  * upload throughput through the portal's JSON API (session login, CSRF header, multipart
    body streamed from disk) and of `aws s3 cp` of the same file to the same moto_server;
  * the backup: the time until the portal reports it copied, the Celery worker's total I/O
    while copying (read+write syscalls incl. sockets, /proc/<pid>/io) against the object size,
    and that the backup object matches the primary (size, ETag, SHA-256 checksum).

Usage:  .venv/bin/python benchmarks/upload_1gib.py [--size-mib 1024] [--runs 1] [--keep]
`aws` is taken from $AWS_CLI, .venv/bin/aws or PATH (`.venv/bin/pip install awscli`).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MiB = 1024 * 1024
PASSWORD = secrets.token_urlsafe(16)
ACCESS_KEY = "AKIABENCHBENCHBENCH1"
SECRET_KEY = "bench-secret-key-not-real"
BUCKET, BACKUP = "bench-files", "bench-backup"

sys.path.insert(0, str(ROOT))
from s3portal.localproc import free_port, wait_for_port  # noqa: E402


def proc_status(pid: int, field_name: str) -> int:
    """A kB field of /proc/<pid>/status (VmRSS, VmHWM) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field_name)


def proc_io(pid: int) -> int:
    fields = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return int(fields["rchar"]) + int(fields["wchar"])


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def human(n: float) -> str:
    return f"{n / MiB:,.1f} MiB"


@dataclass
class Services:
    workdir: Path
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    endpoint: str = ""
    web: str = ""
    web_worker_pid: int = 0
    celery_pid: int = 0

    def start(self, *cmd: str, log: str) -> subprocess.Popen[bytes]:
        out = open(self.workdir / log, "wb")  # noqa: SIM115 - lives as long as the process
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def manage(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout.strip()

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def setup(svc: Services, max_size: int) -> None:
    s3_port, web_port = free_port(), free_port()
    svc.endpoint = f"http://127.0.0.1:{s3_port}"
    svc.start(str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port), log="moto.log")
    wait_for_port(s3_port)

    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=svc.endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    for bucket in (BUCKET, BACKUP):
        s3.create_bucket(Bucket=bucket)

    svc.manage("migrate", "--noinput")
    print(" ", svc.manage("create_tenant", "bench", "--name", "Benchmark"))
    print(" ", svc.manage("add_member", "bench", "member", "member", "--create-user"))
    svc.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model as g; "
        "u = g().objects.get(username='member'); "
        f"u.set_password('{PASSWORD}'); u.save()",
    )
    print(
        " ",
        svc.manage(
            "add_aws_account", "bench", "emulator", "--access-key-id", ACCESS_KEY,
            "--secret-from-env", "BENCH_SECRET", "--endpoint-url", svc.endpoint,
            extra_env={"BENCH_SECRET": SECRET_KEY},
        ),
    )  # fmt: skip
    print(
        " ",
        svc.manage(
            "set_file_space", "bench", "--account", "emulator", "--bucket", BUCKET,
            "--prefix", "bench", "--backup-account", "emulator", "--backup-bucket", BACKUP,
            "--max-file-size", str(max_size),
        ),
    )  # fmt: skip

    master = svc.start(
        str(BIN / "gunicorn"),
        "s3portal.wsgi:application",
        "--workers", "1",
        "--bind", f"127.0.0.1:{web_port}",
        "--timeout", "900",
        log="gunicorn.log",
    )  # fmt: skip
    wait_for_port(web_port)
    svc.web = f"127.0.0.1:{web_port}"
    deadline = time.monotonic() + 20
    while not (kids := children(master.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    if len(kids) != 1:
        raise SystemExit(f"expected one gunicorn worker, found {kids}")
    svc.web_worker_pid = kids[0]


class Session:
    """Session login through the login form, then the JSON API with the CSRF header."""

    def __init__(self, host: str) -> None:
        import requests

        self.host = host
        self.http = requests.Session()
        base = f"http://{host}"
        self.http.get(f"{base}/login/").raise_for_status()
        token = self.http.cookies["csrftoken"]
        response = self.http.post(
            f"{base}/login/",
            data={"username": "member", "password": PASSWORD, "csrfmiddlewaretoken": token},
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise SystemExit(f"login failed: HTTP {response.status_code}")
        self.csrf = self.http.cookies["csrftoken"]

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)

    def files(self) -> list[dict[str, Any]]:
        response = self.http.get(
            f"http://{self.host}/files/",
            params={"per_page": 100},
            headers={"Accept": "application/json"},
        )
        response.raise_for_status()
        return list(response.json()["files"])

    def upload(self, path: Path, name: str) -> tuple[dict[str, Any], float]:
        """Stream `path` as a multipart body (never in memory); (file JSON, seconds)."""
        boundary = "----s3portal-bench-" + secrets.token_hex(8)
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = path.stat().st_size
        conn = http.client.HTTPConnection(self.host, timeout=900)
        started = time.perf_counter()
        conn.putrequest("POST", "/files/upload/")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(head) + size + len(tail)))
        conn.putheader("Cookie", self.cookie_header())
        conn.putheader("X-CSRFToken", self.csrf)
        conn.putheader("Accept", "application/json")
        conn.endheaders()
        conn.send(head)
        with path.open("rb") as source:
            while chunk := source.read(MiB):
                conn.send(chunk)
        conn.send(tail)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        conn.close()
        if response.status != 201:
            raise SystemExit(f"upload failed: HTTP {response.status}: {body[:500]!r}")
        return json.loads(body)["files"][0], elapsed


class PeakSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, proc_status(self.pid, "VmRSS"))
            time.sleep(0.01)


def make_file(path: Path, size: int) -> str:
    """Write `size` random bytes; their hex SHA-256."""
    block = os.urandom(8 * MiB)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        written = 0
        while written < size:
            # Vary every block so no layer can deduplicate or compress it.
            piece = (secrets.token_bytes(16) + block[16:])[: size - written]
            out.write(piece)
            digest.update(piece)
            written += len(piece)
    return digest.hexdigest()


def find_aws_cli() -> str:
    candidates = [os.environ.get("AWS_CLI", ""), str(BIN / "aws"), shutil.which("aws") or ""]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("aws CLI not found: .venv/bin/pip install awscli (or set AWS_CLI)")


def aws_cp(aws: str, endpoint: str, path: Path, key: str) -> float:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.pop("AWS_PROFILE", None)
    started = time.perf_counter()
    subprocess.run(
        [aws, "--endpoint-url", endpoint, "s3", "cp", str(path), f"s3://{BUCKET}/{key}",
         "--no-progress", "--only-show-errors"],
        env=env,
        check=True,
    )  # fmt: skip
    return time.perf_counter() - started


def wait_backup(session: Session, file_id: int, timeout: float = 600) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        status = {f["id"]: f["backup_status"] for f in session.files()}.get(file_id)
        if status == "copied":
            return time.perf_counter() - started
        if status == "failed":
            raise SystemExit(f"the backup of file {file_id} failed")
        time.sleep(0.25)
    raise SystemExit(f"the backup of file {file_id} was not copied after {timeout}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    opts = parser.parse_args()
    size = opts.size_mib * MiB
    aws = find_aws_cli()

    workdir = Path(tempfile.mkdtemp(prefix="s3portal-bench-"))
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FERNET_KEYS": secrets.token_urlsafe(32),
        "S3PORTAL_VAR_DIR": str(workdir / "var"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "AWS_EC2_METADATA_DISABLED": "true",
        # The local emulator: plain HTTP on loopback (refused by default, accounts/endpoints.py).
        "AWS_ENDPOINT_ALLOW_HTTP": "true",
        "AWS_ENDPOINT_ALLOWED_NETWORKS": "127.0.0.0/8",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "AWS_PROFILE"):
        env.pop(name, None)
    svc = Services(workdir, env)
    try:
        print(f"work folder {workdir}; generating a {opts.size_mib} MiB file ...")
        data_file = workdir / "bench.bin"
        sha256 = make_file(data_file, size)
        print("starting moto_server, setting up the tenant, starting gunicorn ...")
        setup(svc, max_size=max(size, 5 * 1024 * MiB))
        session = Session(svc.web)
        warm, _ = session.upload(_small(workdir), "warm-up.txt")
        session.http.get(f"http://{svc.web}/files/").raise_for_status()
        celery = svc.start(
            str(BIN / "celery"), "-A", "s3portal", "worker", "-P", "solo", "-c", "1",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING",
            log="celery.log",
        )  # fmt: skip
        wait_backup(session, warm["id"], timeout=120)  # the worker is warm too now

        pid = svc.web_worker_pid
        portal_times, cli_times, peaks, backups = [], [], [], []
        idle = proc_status(pid, "VmRSS")
        for run in range(1, opts.runs + 1):
            cli_times.append(aws_cp(aws, svc.endpoint, data_file, f"awscli/run-{run}.bin"))
            io_before = proc_io(celery.pid)
            idle = proc_status(pid, "VmRSS")
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
            sampler = PeakSampler(pid)
            sampler.start()
            item, elapsed = session.upload(data_file, f"bench-run-{run}.bin")
            sampler.running = False
            sampler.join()
            peak = max(sampler.peak, proc_status(pid, "VmHWM"))
            portal_times.append(elapsed)
            peaks.append((idle, peak))
            if item["size"] != size or item["sha256"] != sha256:
                raise SystemExit(f"the portal stored something else: {item}")
            copy_seconds = wait_backup(session, item["id"])
            moved = proc_io(celery.pid) - io_before
            backups.append((item, copy_seconds, moved))
            print(
                f"  run {run}: aws s3 cp {cli_times[-1]:.2f} s, portal {elapsed:.2f} s, "
                f"web RSS +{human(peak - idle)}, backup {copy_seconds:.2f} s"
            )

        verify_backup(svc.endpoint, backups[-1][0], size, sha256)
        report(size, portal_times, cli_times, peaks, backups)
    finally:
        svc.stop()
        if opts.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _small(workdir: Path) -> Path:
    path = workdir / "warm-up.txt"
    path.write_bytes(b"warm-up\n")
    return path


def verify_backup(endpoint: str, item: dict[str, Any], size: int, sha256: str) -> None:
    """The backup is the same object: size, type, metadata, and S3's SHA-256 of the copy
    (a full-object checksum for CopyObject, the composite one for a multipart copy)."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    primary = s3.head_object(Bucket=BUCKET, Key=item["key"], ChecksumMode="ENABLED")
    copy = s3.head_object(Bucket=BACKUP, Key=item["key"], ChecksumMode="ENABLED")
    full = base64.b64encode(bytes.fromhex(sha256)).decode()
    checksum = str(copy.get("ChecksumSHA256") or "").split("-")[0]
    composite = str(primary.get("ChecksumSHA256") or "").split("-")[0]
    checks = {
        "size": primary["ContentLength"] == copy["ContentLength"] == size,
        "sha256": checksum == full if size <= 5 * 1024 * MiB else checksum == composite,
        "content type": primary["ContentType"] == copy["ContentType"],
        "metadata": primary["Metadata"] == copy["Metadata"],
    }
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        raise SystemExit(f"the backup differs from the primary: {', '.join(failed)}")
    print(f"  backup s3://{BACKUP}/{item['key']} matches the primary: {', '.join(checks)}")


def report(
    size: int,
    portal: list[float],
    cli: list[float],
    peaks: list[tuple[int, int]],
    backups: list[tuple[dict[str, Any], float, int]],
) -> None:
    portal_s, cli_s = statistics.median(portal), statistics.median(cli)
    portal_tp, cli_tp = size / portal_s / MiB, size / cli_s / MiB
    idle, peak = max(peaks, key=lambda p: p[1] - p[0])
    above = peak - idle
    moved = max(b[2] for b in backups)
    copy_s = statistics.median(b[1] for b in backups)
    ratio = portal_tp / cli_tp
    rows = [
        ("upload time (median)", f"{portal_s:.2f} s", f"{cli_s:.2f} s", ""),
        ("throughput", f"{portal_tp:,.1f} MiB/s", f"{cli_tp:,.1f} MiB/s",
         f"{ratio:.2f}x (target >= 0.80x) {'PASS' if ratio >= 0.8 else 'FAIL'}"),
        ("web worker RSS idle", human(idle), "", ""),
        ("web worker RSS peak", human(peak), "", ""),
        ("peak above idle", human(above), "",
         f"target < 150 MiB {'PASS' if above < 150 * MiB else 'FAIL'}"),
        ("backup (server-side copy)", f"{copy_s:.2f} s", "", ""),
        ("celery worker I/O for it", human(moved), "",
         f"{moved / size:.2%} of the object {'PASS' if moved < size / 10 else 'FAIL'}"),
    ]  # fmt: skip
    print()
    print(f"Upload of {size / MiB:,.0f} MiB to moto_server, {len(portal)} run(s)")
    header = ("", "portal (gunicorn)", "aws s3 cp", "ratio / check")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
