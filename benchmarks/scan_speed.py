"""Scan speed: the portal's scanner against s3tk's one-call-after-another scan.

    .venv/bin/python benchmarks/scan_speed.py                     # 100 and 300 buckets, 0 and 20 ms
    .venv/bin/python benchmarks/scan_speed.py --buckets 300 --latency-ms 0,50 --pool-size 32

What it does (Linux only: /proc is used for memory):

1. starts ``moto_server`` and creates buckets of mixed postures (public ACLs, public and
   IP-restricted policies, Block Public Access, versioning, encryption, websites, TLS-only
   policies, a second region...);
2. optionally adds a network round trip of ``--latency-ms`` to every request (a botocore
   ``before-send`` hook that sleeps, on every client of every scanner: a local emulator
   answers in ~2 ms, AWS in 20-100 ms; concurrency only pays where there is latency to
   overlap, so both are measured);
3. runs, each in a fresh child process: the portal's scan (``storage.scan.runner.execute``,
   in-process, everything saved to a throwaway SQLite database, pool size from
   ``SCAN_POOL_SIZE``), and s3tk's ``scan`` command (``pip install s3tk``; run in-process
   with ``AWS_ENDPOINT_URL``) or, when s3tk is missing, a faithful loop of its six calls;
4. gives the emulator a CPU core of its own and every scanner another (``--no-pin`` to turn
   off; S3 does not share the scanner's CPU, and on a small machine an emulator that does
   measures the machine, not the scanner);
5. counts HTTP requests with a botocore ``before-send`` hook on every client, measures wall
   time, the resident memory added at the peak of the scan (``VmHWM`` reset before, via
   ``/proc/self/clear_refs``) and, in a second child at 0 ms, the Python heap peak
   (``tracemalloc``); at 100 and at 300 buckets, to show memory flat in the number of buckets.

Prints one table; ratios are against s3tk at the same size and latency.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    ACCOUNT_ID,
    FAKE_CREDENTIALS,
    bench_account,
    child_env,
    migrate_template,
    on_every_client,
    rss_kib,
)

REGIONS = ("us-east-1", "eu-west-1")


# --- the emulator, its latency, and the buckets --------------------------------------------


class Latency:
    """A network round trip, added to every request of every client (``before-send``).

    The calling thread sleeps (the GIL is released, no CPU is used) as it would wait for a
    distant server; the same hook is used for every scanner. A local emulator answers in about
    2 ms, AWS in 20-100 ms: concurrency only pays where there is latency to overlap, so the
    benchmark is run at 0 ms too."""

    def __init__(self, milliseconds: float) -> None:
        self.seconds = milliseconds / 1000

    def __call__(self, **_: Any) -> None:
        if self.seconds:
            time.sleep(self.seconds)


def seed(endpoint: str, start: int, stop: int) -> None:
    """Buckets bench-NNNN of ten postures (i % 10), straight to the emulator."""
    import boto3

    clients = {r: boto3.client("s3", endpoint_url=endpoint, region_name=r) for r in REGIONS}
    all_flags = dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )

    def policy(name: str, condition: Any = None, effect: str = "Allow") -> str:
        statement: dict[str, Any] = {
            "Effect": effect,
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{name}/*",
        }
        if condition:
            statement["Condition"] = condition
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    for i in range(start, stop):
        name = f"bench-{i:04d}"
        kind = i % 10
        region = "eu-west-1" if kind == 9 else "us-east-1"
        s3 = clients[region]
        params: dict[str, Any] = {"Bucket": name}
        if region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**params)
        if kind in (1, 4):
            s3.put_bucket_acl(Bucket=name, ACL="public-read")
        if kind in (2, 8):
            s3.put_bucket_policy(Bucket=name, Policy=policy(name))
        if kind == 3:
            s3.put_bucket_policy(
                Bucket=name, Policy=policy(name, {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
            )
        if kind in (4, 7):
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=all_flags)
        if kind == 8:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True}
            )
            s3.put_bucket_website(
                Bucket=name, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}}
            )
        if kind in (5, 9):
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if kind == 5:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            )
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [
                        {
                            "ID": "old",
                            "Status": "Enabled",
                            "Filter": {"Prefix": ""},
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                        }
                    ]
                },
            )
        if kind == 6:
            tls = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(tls))
            enforced = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=enforced)
        if kind == 7:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": "alias/bench",
                            },
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
            )


# --- measuring, in a child process ----------------------------------------------------------


class Meter:
    """Wall time, peak RSS added, and (optionally) the tracemalloc peak, around one scan."""

    def __init__(self, trace: bool) -> None:
        self.trace = trace
        self.requests = 0
        self.lock = threading.Lock()

    def count(self, **_: Any) -> None:
        with self.lock:
            self.requests += 1

    def hook(self, client_events: Any, latency: Latency) -> None:
        client_events.register("before-send", self.count)
        client_events.register("before-send", latency)

    def __enter__(self) -> Meter:
        import gc
        import tracemalloc

        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        self.rss_before = rss_kib("VmRSS")
        if self.trace:
            tracemalloc.start()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        import tracemalloc

        self.wall = time.perf_counter() - self.started
        self.traced_peak = 0
        if self.trace:
            self.traced_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        self.rss_peak_added = rss_kib("VmHWM") - self.rss_before


def child_portal(endpoint: str, trace: bool, latency: Latency) -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings

    from storage.models import Bucket, ScanRun
    from storage.scan.runner import create_run, execute

    account = bench_account(endpoint, verified_account_id=ACCOUNT_ID)
    meters: list[Meter] = []
    on_every_client(lambda made: meters[-1].hook(made.meta.events, latency))
    results: list[dict[str, Any]] = []
    # The first scan of the account, then the next scheduled one (buckets already known).
    for _ in ("first", "repeat"):
        meter = Meter(trace)
        meters.append(meter)
        run = create_run(account, trigger="cli")
        with meter:
            execute(run)
        run.refresh_from_db()
        assert run.status == ScanRun.Status.SUCCEEDED, run.message
        buckets = Bucket.objects.filter(account=account)
        results.append(
            {
                "buckets": run.buckets_done,
                "public": buckets.filter(is_public=True).count(),
                "checks": len(next(iter(buckets)).checks),
                "check_errors": run.error_count,
                "pool": settings.SCAN_POOL_SIZE,
                "wall": meter.wall,
                "requests": meter.requests,
                "rss_peak_added_kib": meter.rss_peak_added,
                "traced_peak": meter.traced_peak,
            }
        )
    return {**results[0], "repeat": results[1]}


def _count_on_default_session(meter: Meter, latency: Latency) -> None:
    import boto3

    boto3.setup_default_session()
    meter.hook(boto3.DEFAULT_SESSION.events, latency)


def child_s3tk(endpoint: str, trace: bool, latency: Latency) -> dict[str, Any]:
    import contextlib
    import io

    os.environ["AWS_ENDPOINT_URL"] = endpoint
    import s3tk

    meter = Meter(trace)
    _count_on_default_session(meter, latency)
    output = io.StringIO()
    with meter, contextlib.redirect_stdout(output), contextlib.suppress(SystemExit):
        s3tk.cli.main(args=["scan"], prog_name="s3tk", standalone_mode=True)
    text = output.getvalue()
    return {
        "buckets": text.count("\nbench-") + int(text.startswith("bench-")),
        "public": text.count("open to public"),
        "checks": 6,
        "check_errors": text.count("access denied"),
        "pool": 1,
        "wall": meter.wall,
        "requests": meter.requests,
        "rss_peak_added_kib": meter.rss_peak_added,
        "traced_peak": meter.traced_peak,
        "s3tk_version": s3tk.__version__,
    }


def child_loop(endpoint: str, trace: bool, latency: Latency) -> dict[str, Any]:
    """s3tk's scan without s3tk: its six calls per bucket, one after another, one client."""
    import contextlib

    import boto3
    from botocore.exceptions import ClientError

    meter = Meter(trace)
    _count_on_default_session(meter, latency)
    with meter:
        s3 = boto3.client("s3", endpoint_url=endpoint)
        names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        for name in names:
            for call in (
                s3.get_bucket_acl,
                s3.get_bucket_policy,
                s3.get_public_access_block,
                s3.get_bucket_logging,
                s3.get_bucket_versioning,
                s3.get_bucket_encryption,
            ):
                with contextlib.suppress(ClientError):
                    call(Bucket=name)
    return {
        "buckets": len(names),
        "public": None,
        "checks": 6,
        "check_errors": 0,
        "pool": 1,
        "wall": meter.wall,
        "requests": meter.requests,
        "rss_peak_added_kib": meter.rss_peak_added,
        "traced_peak": meter.traced_peak,
    }


# With two or more cores the emulator gets one to itself and every scanner another, as S3 runs
# on its own machines: otherwise the emulator and the scanner fight over the same cores and the
# measure says more about the laptop than about the scanner. (--no-pin turns this off.)
PINNING: dict[str, set[int]] = {}


def plan_pinning(enabled: bool) -> None:
    cores = sorted(os.sched_getaffinity(0))
    if enabled and len(cores) >= 2:
        PINNING["server"] = {cores[0]}
        PINNING["scanner"] = {cores[1]}


@contextlib.contextmanager
def emulator() -> Iterator[str]:
    """moto_server (as in tests/helpers_services.py), pinned to its own core when possible."""
    from s3portal.localproc import free_port, wait_for_port

    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if "server" in PINNING:
            os.sched_setaffinity(proc.pid, PINNING["server"])
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run_child(
    tool: str, endpoint: str, latency: float, trace: bool, env: dict[str, str]
) -> dict[str, Any]:
    scanner_cores = PINNING.get("scanner")
    proc = subprocess.run(
        [sys.executable, __file__, "--child", tool, "--endpoint", endpoint]
        + ["--child-latency-ms", str(latency)]
        + (["--trace"] if trace else []),
        env=env,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=(lambda: os.sched_setaffinity(0, scanner_cores)) if scanner_cores else None,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} child failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- orchestration --------------------------------------------------------------------------


def s3tk_available() -> bool:
    try:
        import s3tk  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buckets", default="100,300", help="comma-separated sizes")
    parser.add_argument("--latency-ms", default="0,20", help="comma-separated round trips")
    parser.add_argument("--pool-size", type=int, default=None, help="SCAN_POOL_SIZE")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--no-pin", action="store_true", help="do not give the emulator a core of its own"
    )
    parser.add_argument("--child", choices=["portal", "s3tk", "loop"], help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-latency-ms", type=float, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        handler = {"portal": child_portal, "s3tk": child_s3tk, "loop": child_loop}[args.child]
        print(json.dumps(handler(args.endpoint, args.trace, Latency(args.child_latency_ms))))
        return

    plan_pinning(not args.no_pin)
    sizes = sorted(int(n) for n in args.buckets.split(","))
    latencies = [float(n) for n in args.latency_ms.split(",")]
    baseline = "s3tk" if s3tk_available() else "loop"
    work = Path(tempfile.mkdtemp(prefix="s3portal-scan-bench-"))
    base_env = child_env(work)
    if args.pool_size:
        base_env["SCAN_POOL_SIZE"] = str(args.pool_size)
    template_db = work / "template.sqlite3"
    migrate_template(base_env, template_db)
    os.environ.update(FAKE_CREDENTIALS)
    rows: list[dict[str, Any]] = []
    try:
        with emulator() as endpoint:
            seeded = 0
            for size in sizes:
                print(f"creating buckets {seeded}..{size - 1} ...", flush=True)
                seed(endpoint, seeded, size)
                seeded = size
                for latency in latencies:
                    for tool in (baseline, "portal"):
                        for trace in (False, True) if latency == 0 else (False,):
                            db = work / f"{tool}-{size}-{latency}-{int(trace)}.sqlite3"
                            shutil.copy(template_db, db)
                            env = {**base_env, "DATABASE_URL": f"sqlite:///{db}"}
                            print(
                                f"  {tool:6s} {size} buckets, {latency:g} ms"
                                + (" (tracemalloc)" if trace else ""),
                                flush=True,
                            )
                            result = run_child(tool, endpoint, latency, trace, env)
                            repeat = result.pop("repeat", None)
                            if trace:
                                rows[-1 if repeat is None else -2]["traced_peak"] = result[
                                    "traced_peak"
                                ]
                                if repeat is not None:
                                    rows[-1]["traced_peak"] = repeat["traced_peak"]
                                continue
                            where = {"size": size, "latency": latency}
                            rows.append({"tool": tool, **where, **result})
                            if repeat is not None:
                                rows.append({"tool": "portal-repeat", **where, **repeat})
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print_table(rows, baseline)


def print_table(rows: list[dict[str, Any]], baseline: str) -> None:
    name = {
        "s3tk": "s3tk scan",
        "loop": "6 calls in a loop",
        "portal": "portal, 1st scan",
        "portal-repeat": "portal, next scan",
    }
    print()
    header = (
        f"{'buckets':>7} {'RTT':>6}  {'scanner':<18} {'checks':>6} {'pool':>4} {'wall s':>8} "
        f"{'req':>6} {'req/bkt':>7} {'RSS+ MiB':>8} {'heap MiB':>8} {'speed-up':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        base = next(
            r
            for r in rows
            if r["tool"] == baseline and r["size"] == row["size"] and r["latency"] == row["latency"]
        )
        speedup = base["wall"] / row["wall"] if row["wall"] else 0
        heap = f"{row['traced_peak'] / 2**20:8.1f}" if row.get("traced_peak") else f"{'-':>8}"
        print(
            f"{row['size']:>7} {row['latency']:>4g}ms  {name[row['tool']]:<18} {row['checks']:>6} "
            f"{row['pool']:>4} {row['wall']:>8.2f} {row['requests']:>6} "
            f"{row['requests'] / row['size']:>7.2f} {row['rss_peak_added_kib'] / 1024:>8.1f} "
            f"{heap} {speedup:>7.1f}x"
        )
    for tool in ("portal", "portal-repeat", baseline):
        traced = [r for r in rows if r["tool"] == tool and r.get("traced_peak")]
        if len(traced) < 2:
            continue
        small, large = traced[0], traced[-1]
        print(
            f"heap peak, {name[tool]}: {small['traced_peak'] / 2**20:.1f} MiB at "
            f"{small['size']} buckets, {large['traced_peak'] / 2**20:.1f} MiB at "
            f"{large['size']} (x{large['traced_peak'] / small['traced_peak']:.2f} for "
            f"x{large['size'] / small['size']:.0f} the buckets)"
        )
    if baseline == "loop":
        print("\ns3tk is not installed: the baseline is a loop of its six calls per bucket.")


if __name__ == "__main__":
    main()
