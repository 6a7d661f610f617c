"""Load the portal's busiest pages under gunicorn, beside a trivial view of the same stack.

What runs (all on 127.0.0.1, in a throwaway folder):
  * a SQLite database seeded through the ORM with one tenant, two AWS accounts, BUCKETS buckets
    (1,000 by default) with realistic scan results, and FINDINGS open findings (7,550);
  * the portal under gunicorn exactly as the Dockerfile runs it (3 sync workers, DEBUG off);
  * CLIENTS concurrent clients (50 threads, one logged-in tenant admin each sharing a session)
    hitting one URL at a time for SECONDS seconds: `/healthz` (the trivial view: one SELECT 1),
    `/`, `/buckets/`, `/buckets/findings/` and `/admin/storage/finding/`.

What it reports, per URL: requests per second, the ratio to `/healthz` in the same run, p50 and
p95 latency, and the gunicorn workers' CPU time per request (utime + stime from /proc, so the
load generator's own CPU is not counted). Then the SQL queries each page makes at 50 and at
BUCKETS buckets (in-process test client: must be equal), and the workers' resident memory at the
start and the end of the run.

Targets (issue 13): each portal page at least 1/6 of `/healthz`'s requests per second (the admin
list 1/10), query counts constant from 50 to 1,000 buckets, worker memory flat over the run.

Usage:  .venv/bin/python benchmarks/pages_load.py [--buckets 1000] [--seconds 10] [--clients 50]
Linux only (/proc). Nothing is left behind unless --keep is given.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from s3portal.localproc import free_port, wait_for_port  # noqa: E402

PAGES = ["/healthz", "/", "/buckets/", "/buckets/findings/", "/admin/storage/finding/"]
TARGETS = {"/": 6, "/buckets/": 6, "/buckets/findings/": 6, "/admin/storage/finding/": 10}
CHECK_NAMES = ["acl", "policy", "block_public_access", "logging", "versioning", "encryption"]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def environment(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "s3portal.settings",
            "DEBUG": "false",
            "SECRET_KEY": "benchmark-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
            "FERNET_KEYS": "benchmark-fernet-key",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "S3PORTAL_VAR_DIR": str(workdir / "var"),
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "LOG_LEVEL": "WARNING",
            # no collectstatic in a throwaway folder: plain static URLs (the manifest only renames)
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "OTP_REQUIRED_FOR_SUPERUSERS": "false",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


def seed(buckets: int, findings: int, start: int = 0) -> None:
    """Add buckets [start, buckets) with scan results and open findings (bulk inserts)."""
    from accounts.models import AwsAccount, Tenant
    from storage.models import Bucket, Finding

    tenant = Tenant.objects.get(slug="bench")
    accounts = list(AwsAccount.objects.filter(tenant=tenant).order_by("pk"))
    checks = {
        name: {"status": "fail" if i % 2 else "pass", "detail": f"{name} detail " * 8}
        for i, name in enumerate(CHECK_NAMES)
    }
    rows = [
        Bucket(
            account=accounts[i % len(accounts)],
            name=f"bench-bucket-{i:05d}",
            region=["us-east-1", "eu-west-1", "ap-south-1"][i % 3],
            is_public=(i % 50 == 0),
            public_reasons=["policy grants s3:GetObject to *"] if i % 50 == 0 else [],
            verdict={"public": i % 50 == 0, "why": ["x" * 200], "statements": list(range(20))},
            checks=checks,
            fail_count=3,
            error_count=i % 7 == 0,
            worst_severity="high" if i % 50 == 0 else "medium",
            last_scanned_at="2026-12-01T00:00:00Z",
        )
        for i in range(start, buckets)
    ]
    created = Bucket.objects.bulk_create(rows, batch_size=500)
    per_bucket = max(1, round(findings / max(buckets, 1)))
    severities = ["high", "medium", "low", "info"]
    extra = [
        Finding(
            bucket=bucket,
            check_name=f"check_{n}",
            severity=severities[(bucket.pk + n) % 4],
            detail="A finding detail a person can act on. " * 3,
        )
        for bucket in created
        for n in range(per_bucket)
    ]
    Finding.objects.bulk_create(extra, batch_size=1000)


def setup_database(opts: argparse.Namespace) -> str:
    """Migrate, seed the base objects and 50 buckets; return a logged-in session cookie."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import AwsAccount, Membership, Role, Tenant

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(slug="bench", name="Bench Tenant")
    for n in range(2):
        AwsAccount.objects.create(
            tenant=tenant,
            name=f"bench-{n}",
            access_key_id="AKIAIOSFODNN7EXAMPLE",
            secret_access_key="benchmark-secret-value-that-is-encrypted",
            verified_account_id=f"12345678901{n}",
            last_verified_at="2026-12-01T00:00:00Z",
        )
    user = get_user_model().objects.create_user("bench-admin", "bench@example.com", "x")
    Membership.objects.create(user=user, tenant=tenant, role=Role.ADMIN)
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def query_counts(session_user: str) -> dict[str, int]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(get_user_model().objects.get(username=session_user))
    counts: dict[str, int] = {}
    for page in PAGES[1:]:
        client.get(page)  # warm caches (content types, sessions)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(page)
        if response.status_code != 200:
            raise SystemExit(f"{page} answered {response.status_code} in-process")
        counts[page] = len(ctx.captured_queries)
    return counts


def workers_of(master: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (after the comm field)
    return total / CLK_TCK


def rss_mib(pids: list[int]) -> list[float]:
    values = []
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                values.append(int(line.split()[1]) / 1024)
    return values


def load(url: str, cookie: str, clients: int, seconds: float) -> tuple[int, list[float], int]:
    """CLIENTS threads requesting url for SECONDS; (requests, latencies, errors)."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client() -> None:
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop:
            request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})  # noqa: S310
            began = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    response.read()
                    ok = response.status == 200
            except Exception:
                ok = False
            mine.append(time.perf_counter() - began)
            bad += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), latencies, errors[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buckets", type=int, default=1000)
    parser.add_argument("--findings", type=int, default=7550)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    opts = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="s3portal-pages-"))
    (workdir / "var").mkdir()
    env = environment(workdir)
    os.environ.update(env)
    os.chdir(ROOT)
    master = None
    try:
        cookie = setup_database(opts)
        seed(50, round(opts.findings * 50 / opts.buckets))
        small = query_counts("bench-admin")
        seed(opts.buckets, opts.findings, start=50)
        large = query_counts("bench-admin")

        port = free_port()
        with open(workdir / "gunicorn.log", "w") as log:
            master = subprocess.Popen(
                [str(BIN / "gunicorn"), "s3portal.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(opts.workers), "--timeout", "120", "--log-level", "warning"],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for_port(port)
        deadline = time.monotonic() + 20
        while len(workers := workers_of(master.pid)) < opts.workers:
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn started {workers}, expected {opts.workers} workers")
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        for page in PAGES:  # warm every worker (imports, template caches)
            load(base + page, cookie, opts.workers * 2, 1.0)
        rss_start = rss_mib(workers)

        results: dict[str, dict[str, Any]] = {}
        for page in PAGES:
            cpu_before = cpu_seconds(workers)
            count, latencies, errors = load(base + page, cookie, opts.clients, opts.seconds)
            cpu = cpu_seconds(workers) - cpu_before
            if errors:
                raise SystemExit(f"{page}: {errors} of {count} requests failed (see gunicorn.log)")
            latencies.sort()
            results[page] = {
                "rps": count / opts.seconds,
                "p50": statistics.median(latencies) * 1000,
                "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
                "cpu_ms": cpu / count * 1000,
            }
        rss_end = rss_mib(workers)
    finally:
        if master is not None:
            master.send_signal(signal.SIGTERM)
            master.wait(timeout=20)
        if opts.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    trivial = results["/healthz"]["rps"]
    print(
        f"\n{opts.buckets} buckets, {opts.findings} open findings; gunicorn {opts.workers} sync "
        f"workers; {opts.clients} clients x {opts.seconds:.0f} s per URL; {os.cpu_count()} cores\n"
    )
    print(f"{'URL':28} {'req/s':>8} {'vs healthz':>11} {'target':>8} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'CPU ms/req':>11}")  # fmt: skip
    failed = []
    for page, r in results.items():
        ratio = r["rps"] / trivial
        target = TARGETS.get(page)
        mark = "" if target is None else (f"1/{target}" + ("" if ratio >= 1 / target else " !"))
        if target is not None and ratio < 1 / target:
            failed.append(page)
        print(f"{page:28} {r['rps']:8.0f} {ratio:10.2f}x {mark:>8} {r['p50']:8.1f} "
              f"{r['p95']:8.1f} {r['cpu_ms']:11.2f}")  # fmt: skip
    print(f"\nSQL queries per page at 50 / {opts.buckets} buckets:")
    for page in PAGES[1:]:
        same = "constant" if small[page] == large[page] else "GROWS !"
        if small[page] != large[page]:
            failed.append(f"queries {page}")
        print(f"  {page:28} {small[page]:3} / {large[page]:3}  {same}")
    print(
        "\nworker RSS MiB, start -> end: "
        + ", ".join(f"{a:.0f} -> {b:.0f}" for a, b in zip(rss_start, rss_end, strict=False))
    )
    if failed:
        print(f"\nbelow target: {', '.join(failed)}")
        return 1
    print("\nall targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
