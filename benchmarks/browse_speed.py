"""Browsing a folder of 100,000 objects through the portal, page by page, against `aws s3 ls`.

    .venv/bin/python benchmarks/browse_speed.py                    # 100,000 + 1,000 objects
    .venv/bin/python benchmarks/browse_speed.py --objects 20000 --runs 3

What it does (Linux only: /proc is used for memory):

1. starts ``moto_server`` and puts ``--objects`` empty objects under ``big/`` and 1,000 under
   ``small/`` of one bucket (32 threads);
2. sets the portal up in this process on a throwaway SQLite database (migrate, a tenant, an
   operator, an AWS account on the emulator, the bucket row) and drives it with Django's test
   client, with ``Accept: application/json`` and ``per_page=1000`` (S3's own maximum);
3. measures the time to the first page of ``small/`` and of ``big/`` (median of 5 each), then
   walks every page of ``big/`` through the portal (one request per page, the next token from
   each answer) and runs ``aws s3 ls s3://bucket/big/`` against the same emulator, alternately,
   ``--runs`` times each (medians);
4. walks ``small/`` and ``big/`` once more with ``tracemalloc``, recording the Python heap peak
   of every page request on its own, and the process's resident memory before and after.

`aws` is taken from $AWS_CLI, .venv/bin/aws or PATH (``.venv/bin/pip install awscli``; it is
needed for this benchmark only, not by the portal).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# An editable install of another checkout (pip install -e) would supply modules this checkout
# lacks (Django's admin autodiscovery imports "<app>.admin"): import from ROOT only.
sys.meta_path[:] = [
    f for f in sys.meta_path if "__editable__" not in str(getattr(f, "__module__", ""))
]
BIN = Path(sys.executable).parent

BUCKET = "browse-bench"
ACCESS_KEY, SECRET_KEY = "AKIABENCHBENCHBENCH1", "bench-secret"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def seed(endpoint: str, prefix: str, count: int) -> float:
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(max_pool_connections=64, retries={"max_attempts": 10}),
    )
    started = time.perf_counter()

    def put(i: int) -> None:
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}{i:07d}.dat", Body=b"")

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(put, range(count), chunksize=256))
    return time.perf_counter() - started


def setup_portal(workdir: Path, endpoint: str) -> tuple[Any, int]:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "s3portal.settings",
            "DEBUG": "false",
            "SECRET_KEY": "browse-bench-" + os.urandom(16).hex(),
            "FERNET_KEYS": "",
            "DATABASE_URL": f"sqlite:///{workdir / 'portal.sqlite3'}",
            "S3PORTAL_VAR_DIR": str(workdir),
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    from cryptography.fernet import Fernet

    os.environ["FERNET_KEYS"] = Fernet.generate_key().decode()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import AwsAccount, Membership, Role, Tenant
    from storage.models import Bucket

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(slug="bench", name="Benchmark")
    user = get_user_model().objects.create_user("operator", "op@example.com", "x")
    Membership.objects.create(user=user, tenant=tenant, role=Role.OPERATOR)
    account = AwsAccount.objects.create(
        tenant=tenant,
        name="emulator",
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        endpoint_url=endpoint,
    )
    bucket = Bucket.objects.create(account=account, name=BUCKET, region="us-east-1")
    client = Client()
    client.force_login(user)
    return client, bucket.pk


def get_page(client: Any, bucket_id: int, prefix: str, token: str = "") -> dict[str, Any]:
    params = {"prefix": prefix, "per_page": "1000"}
    if token:
        params["token"] = token
    answer = client.get(f"/buckets/{bucket_id}/objects/", params, HTTP_ACCEPT="application/json")
    if answer.status_code != 200:
        raise SystemExit(f"portal answered {answer.status_code}: {answer.content[:300]!r}")
    return answer.json()  # type: ignore[no-any-return]


def walk(client: Any, bucket_id: int, prefix: str) -> tuple[int, int]:
    pages = objects = 0
    token = ""
    while True:
        page = get_page(client, bucket_id, prefix, token)
        pages += 1
        objects += len(page["objects"])
        token = page["next_token"] or ""
        if not token:
            return pages, objects


def first_page_time(client: Any, bucket_id: int, prefix: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        get_page(client, bucket_id, prefix)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def heap_per_page(client: Any, bucket_id: int, prefix: str) -> list[float]:
    """The Python heap peak (MiB) of each page request, measured on its own."""
    peaks = []
    token = ""
    tracemalloc.start()
    try:
        while True:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            page = get_page(client, bucket_id, prefix, token)
            peaks.append((tracemalloc.get_traced_memory()[1] - base) / 2**20)
            token = page["next_token"] or ""
            del page
            if not token:
                return peaks
    finally:
        tracemalloc.stop()


def raw_first_page(endpoint: str, prefix: str, runs: int = 5) -> float:
    """The emulator's own time for the same ListObjectsV2 call (boto3, no portal)."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix, Delimiter="/", MaxKeys=1000)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def find_aws_cli() -> str:
    for candidate in (os.environ.get("AWS_CLI"), str(BIN / "aws"), shutil.which("aws")):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("aws CLI not found: .venv/bin/pip install awscli (or set AWS_CLI)")


def aws_ls(aws: str, endpoint: str, prefix: str) -> tuple[float, int]:
    env = {**os.environ, **CREDENTIALS}
    started = time.perf_counter()
    done = subprocess.run(
        [aws, "s3", "ls", f"s3://{BUCKET}/{prefix}", "--endpoint-url", endpoint],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started, done.stdout.count(b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    aws = find_aws_cli()
    from s3portal.localproc import free_port, wait_for_port

    workdir = Path(tempfile.mkdtemp(prefix="browse-bench-"))
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    emulator = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
            Bucket=BUCKET
        )
        print(f"seeding {args.objects:,} + 1,000 objects ...", flush=True)
        seconds = seed(endpoint, "big/", args.objects) + seed(endpoint, "small/", 1000)
        print(f"  seeded in {seconds:.0f} s", flush=True)
        client, bucket_id = setup_portal(workdir, endpoint)
        get_page(client, bucket_id, "small/")  # warm-up: session, imports, client cache

        first_small = first_page_time(client, bucket_id, "small/")
        first_big = first_page_time(client, bucket_id, "big/")
        raw_small, raw_big = raw_first_page(endpoint, "small/"), raw_first_page(endpoint, "big/")
        portal_times, cli_times = [], []
        pages = objects = listed = 0
        rss_before = rss_mib()
        for run in range(args.runs):
            started = time.perf_counter()
            pages, objects = walk(client, bucket_id, "big/")
            portal_times.append(time.perf_counter() - started)
            elapsed, listed = aws_ls(aws, endpoint, "big/")
            cli_times.append(elapsed)
            print(
                f"  run {run + 1}: portal {portal_times[-1]:.2f} s ({pages} pages, "
                f"{objects:,} objects), aws s3 ls {elapsed:.2f} s ({listed:,} lines)",
                flush=True,
            )
        rss_after = rss_mib()
        if objects != args.objects or listed != args.objects:
            raise SystemExit(f"expected {args.objects} objects, portal {objects}, aws {listed}")
        heap_small = heap_per_page(client, bucket_id, "small/")
        heap_big = heap_per_page(client, bucket_id, "big/")
    finally:
        emulator.terminate()
        try:
            emulator.wait(timeout=30)
        except subprocess.TimeoutExpired:
            emulator.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    portal, cli = statistics.median(portal_times), statistics.median(cli_times)
    print()
    print("| measure | value |\n|---|---|")
    print(f"| first page, folder of 1,000 objects (median of 5) | {first_small * 1000:.0f} ms |")
    print(
        f"| first page, folder of {args.objects:,} objects (median of 5) | "
        f"{first_big * 1000:.0f} ms ({first_big / first_small:.2f}x) |"
    )
    print(
        f"| the same ListObjectsV2 call straight to the emulator (boto3), 1,000 / "
        f"{args.objects:,} | {raw_small * 1000:.0f} ms / {raw_big * 1000:.0f} ms |"
    )
    print(f"| walk of {args.objects:,} objects, {pages} pages, portal (median) | {portal:.2f} s |")
    print(f"| `aws s3 ls s3://{BUCKET}/big/` (median) | {cli:.2f} s |")
    print(f"| portal / aws s3 ls | {portal / cli:.2f}x (target <= 1.5x) |")
    print(
        f"| heap peak per page request, max (1,000-folder / {args.objects:,}-folder) | "
        f"{max(heap_small):.1f} MiB / {max(heap_big):.1f} MiB |"
    )
    print(
        f"| heap peak per page, first and last page of the big folder | "
        f"{heap_big[0]:.1f} MiB / {heap_big[-1]:.1f} MiB |"
    )
    print(
        f"| process RSS before / after {args.runs} walks | {rss_before:.0f} / {rss_after:.0f} MiB |"
    )


if __name__ == "__main__":
    main()
