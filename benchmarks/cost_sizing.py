"""Sizing a bucket by listing: the portal vs `aws s3 ls --recursive --summarize`.

1. starts a moto S3 server in a child process and seeds it through moto's own backend (putting
   100,000 objects over HTTP takes far longer than listing them): one bucket of 10,000 objects
   and one of 100,000, mixed storage classes (80% STANDARD, 10% STANDARD_IA, 10% GLACIER);
2. for each bucket, in a fresh process each: the portal's sizing (`storage.cost.sizing.
   size_account(..., source="listing")`: ListObjectsV2 pages for a bucket never versioned,
   ListObjectVersions with --versioned, then ListMultipartUploads and the BucketUsage rows)
   with wall time, requests and the rows written; the same again under tracemalloc for the
   Python heap peak; and `aws s3 ls s3://BUCKET --recursive --summarize` (ListObjectsV2,
   current objects only; with --versioned `aws s3api list-object-versions`) timed on the same
   server in the same run;
3. prints a table: time portal / time aws (target <= 1.0), heap peak at 100,000 vs 10,000
   objects (target within 10%), rows written (target: classes, not objects).

    .venv/bin/python benchmarks/cost_sizing.py                    # 10,000 and 100,000 objects
    .venv/bin/python benchmarks/cost_sizing.py --sizes 2000,20000 # quicker
    .venv/bin/python benchmarks/cost_sizing.py --versioned        # ListObjectVersions vs
                                                                  # aws s3api list-object-versions

`aws` is taken from $AWS_CLI, .venv/bin/aws or PATH (`pip install awscli`, for the benchmark
only). Linux only for the RSS figures (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    ACCOUNT_ID,
    bench_account,
    child_env,
    migrate_template,
    on_every_client,
    rss_kib,
)

CLASSES = ["STANDARD"] * 8 + ["STANDARD_IA", "GLACIER"]


def bucket_name(size: int) -> str:
    return f"bench-{size}"


# --- the seeded emulator (runs in its own process) ------------------------------------------


def serve(port: int, sizes: list[int], versioned: bool = False) -> None:
    """moto's threaded server, seeded through its backend; prints "ready" when done.

    Versioned (--versioned): versioning on, every 10th key written twice (one noncurrent
    version) and every 20th key (offset 1) deleted (a delete marker over its version)."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.s3.models import s3_backends

    backend = s3_backends[ACCOUNT_ID]["aws"]
    for size in sizes:
        name = bucket_name(size)
        backend.create_bucket(name, "us-east-1")
        if versioned:
            backend.put_bucket_versioning(name, "Enabled")
        for i in range(size):
            key = f"data/{i // 1000:04}/obj-{i:07}"
            for _ in range(2 if versioned and i % 10 == 0 else 1):
                backend.put_object(
                    name, key, b"x" * (100 + i % 900), storage=CLASSES[i % len(CLASSES)]
                )
            if versioned and i % 20 == 1:
                backend.delete_object(name, key)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


# --- the measured children ------------------------------------------------------------------


def child_portal(endpoint: str, size: int, trace: bool) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from storage.cost import sizing
    from storage.cost.models import BucketUsage
    from storage.models import Bucket

    account = bench_account(endpoint)
    Bucket.objects.create(account=account, name=bucket_name(size), region="us-east-1")
    requests = [0]

    def count(made: Any) -> None:
        made.meta.events.register(
            "before-send", lambda **_: requests.__setitem__(0, requests[0] + 1)
        )

    on_every_client(count)
    import tracemalloc

    if trace:
        tracemalloc.start()
    rss_before = rss_kib("VmRSS")
    started, cpu_started = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as queries:
        report = sizing.size_account(account, source="listing")
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    assert not report.errors, report.errors
    writes = [
        q
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    rows = list(
        BucketUsage.objects.values(
            "storage_class", "bytes", "object_count", "noncurrent_bytes", "noncurrent_objects"
        )
    )
    return {
        "wall": wall,
        "cpu": cpu,
        "requests": requests[0],
        "objects": sum(r["object_count"] or 0 for r in rows),
        "bytes": sum(r["bytes"] for r in rows),
        "versions": sum((r["object_count"] or 0) + (r["noncurrent_objects"] or 0) for r in rows),
        "version_bytes": sum(r["bytes"] + (r["noncurrent_bytes"] or 0) for r in rows),
        "usage_rows": len(rows),
        "write_queries": len(writes),
        "traced_peak": peak,
        "rss_added_kib": rss_kib("VmHWM") - rss_before,
    }


def aws_cli() -> str | None:
    for candidate in (os.environ.get("AWS_CLI"), str(Path(sys.executable).parent / "aws")):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("aws")


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def server_cpu(pid: int) -> float:
    """CPU seconds the emulator process has used (utime + stime from /proc)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_aws_versions(cli: str, endpoint: str, size: int, env: dict[str, str]) -> dict[str, Any]:
    """`aws s3api list-object-versions` of the whole bucket (the CLI pages through it)."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(
        [
            cli,
            "s3api",
            "list-object-versions",
            "--bucket",
            bucket_name(size),
            "--endpoint-url",
            endpoint,
            "--output",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"aws s3api list-object-versions failed: {proc.stderr[-1000:]}")
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    listed = json.loads(proc.stdout)
    versions = listed.get("Versions", [])
    return {
        "wall": wall,
        "cpu": cpu,
        "versions": len(versions),
        "version_bytes": sum(int(v["Size"]) for v in versions),
    }


def run_aws(cli: str, endpoint: str, size: int, env: dict[str, str]) -> dict[str, Any]:
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(
        [
            cli,
            "s3",
            "ls",
            f"s3://{bucket_name(size)}",
            "--recursive",
            "--summarize",
            "--endpoint-url",
            endpoint,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before  # the whole CLI process, start-up included
    summary = dict(
        line.strip().split(": ", 1) for line in proc.stdout.splitlines()[-2:] if ": " in line
    )
    return {
        "wall": wall,
        "cpu": cpu,
        "objects": int(summary.get("Total Objects", "0")),
        "bytes": int(summary.get("Total Size", "0")),
    }


def run_child(endpoint: str, size: int, trace: bool, env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", "--endpoint", endpoint, "--size", str(size)]
        + (["--trace"] if trace else []),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"portal child failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="objects per bucket")
    parser.add_argument("--runs", type=int, default=1, help="timed runs per tool (best kept)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--versioned",
        action="store_true",
        help="versioned buckets (noncurrent versions, delete markers), sized with "
        "ListObjectVersions against `aws s3api list-object-versions`",
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.sizes.split(","))
    if args.serve:
        serve(args.serve, sizes, args.versioned)
        return
    if args.child:
        print(json.dumps(child_portal(args.endpoint, args.size, args.trace)))
        return

    from s3portal.localproc import free_port, wait_for_port

    cli = aws_cli()
    if cli:
        version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=False)
        print(f"aws: {cli} ({(version.stdout or version.stderr).strip()})", flush=True)
    work = Path(tempfile.mkdtemp(prefix="s3portal-cost-bench-"))
    env = child_env(work)
    template_db = work / "template.sqlite3"
    migrate_template(env, template_db)
    port = free_port()
    print(f"seeding {' + '.join(f'{s:,}' for s in sizes)} objects into moto ...", flush=True)
    seeding = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--sizes", args.sizes]
        + (["--versioned"] if args.versioned else []),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    rows: list[dict[str, Any]] = []
    try:
        assert server.stdout is not None
        if server.stdout.readline().strip() != "ready":
            raise RuntimeError("the seeding server did not start")
        wait_for_port(port)
        print(f"  seeded in {time.perf_counter() - seeding:.1f} s", flush=True)
        endpoint = f"http://127.0.0.1:{port}"
        for size in sizes:
            row: dict[str, Any] = {"size": size}
            best: dict[str, Any] | None = None
            best_aws: dict[str, Any] | None = None
            for run in range(args.runs):
                # aws first, then the portal, alternating: the machine's load drifts
                if cli:
                    before = server_cpu(server.pid)
                    measure = run_aws_versions if args.versioned else run_aws
                    result = measure(cli, endpoint, size, env)
                    result["server_cpu"] = server_cpu(server.pid) - before
                    if best_aws is None or result["wall"] < best_aws["wall"]:
                        best_aws = result
                db = work / f"portal-{size}-{run}.sqlite3"
                shutil.copy(template_db, db)
                before = server_cpu(server.pid)
                result = run_child(
                    endpoint, size, False, {**env, "DATABASE_URL": f"sqlite:///{db}"}
                )
                result["server_cpu"] = server_cpu(server.pid) - before
                if best is None or result["wall"] < best["wall"]:
                    best = result
            assert best is not None
            row["portal"] = best
            if best_aws is not None:
                row["aws"] = best_aws
            db = work / f"portal-{size}-trace.sqlite3"
            shutil.copy(template_db, db)
            row["traced_peak"] = run_child(
                endpoint, size, True, {**env, "DATABASE_URL": f"sqlite:///{db}"}
            )["traced_peak"]
            rows.append(row)
            print(f"  {size:,} objects done", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print_table(rows, cli, args.versioned)


def print_table(rows: list[dict[str, Any]], cli: str | None, versioned: bool = False) -> None:
    print()
    print(
        f"{'objects':>9} {'tool':>6} {'wall s':>8} {'cpu s':>7} {'server cpu s':>12} "
        f"{'requests':>8} {'rows':>5} {'writes':>6} {'heap peak':>10} {'RSS +MiB':>8}  check"
    )
    for row in rows:
        p, a = row["portal"], row.get("aws")
        if a:
            print(
                f"{row['size']:>9,} {'aws':>6} {a['wall']:>8.2f} {a['cpu']:>7.2f} "
                f"{a['server_cpu']:>12.2f}"
            )
        same = ""
        if a:
            same = (
                "same totals"
                if (
                    (a["versions"], a["version_bytes"]) == (p["versions"], p["version_bytes"])
                    if versioned
                    else (a["objects"], a["bytes"]) == (p["objects"], p["bytes"])
                )
                else f"aws says {a.get('versions', a.get('objects'))} / "
                f"{a.get('version_bytes', a.get('bytes'))} B"
            )
        print(
            f"{row['size']:>9,} {'portal':>6} {p['wall']:>8.2f} {p['cpu']:>7.2f} "
            f"{p['server_cpu']:>12.2f} {p['requests']:>8} {p['usage_rows']:>5} "
            f"{p['write_queries']:>6} {row['traced_peak'] / 2**20:>8.2f}Mi "
            f"{p['rss_added_kib'] / 1024:>8.1f}  {same}"
        )
        if a:
            print(
                f"{'':>9} {'ratio':>6} {p['wall'] / a['wall']:>8.2f} {p['cpu'] / a['cpu']:>7.2f} "
                f"{p['server_cpu'] / max(a['server_cpu'], 1e-9):>12.2f}   (portal / aws)"
            )
    if len(rows) >= 2:
        small, big = rows[0]["traced_peak"], rows[-1]["traced_peak"]
        print(
            f"\nheap peak at {rows[-1]['size']:,} vs {rows[0]['size']:,} objects: "
            f"{big / small:.3f}x (target <= 1.10)"
        )
    if not cli:
        print("\n`aws` not found: pip install awscli (or set AWS_CLI) for the comparison")


if __name__ == "__main__":
    main()
