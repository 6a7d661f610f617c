"""What the emulator benchmarks share: moto's account, fake keys, the children's environment,
the throwaway database, the benchmark tenant's account and a hook on every portal client."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "123456789012"  # moto's
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIABENCHBENCHBENCH1",
    "AWS_SECRET_ACCESS_KEY": "bench-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def child_env(work: Path) -> dict[str, str]:
    """The environment of the portal's benchmark processes (DEBUG settings, a throwaway var/)."""
    env = {
        **os.environ,
        **FAKE_CREDENTIALS,
        "DJANGO_SETTINGS_MODULE": "s3portal.settings",
        "DEBUG": "true",
        "S3PORTAL_VAR_DIR": str(work / "var"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        # The local emulator: plain HTTP on loopback (refused by default, accounts/endpoints.py).
        "AWS_ENDPOINT_ALLOW_HTTP": "true",
        "AWS_ENDPOINT_ALLOWED_NETWORKS": "127.0.0.0/8",
    }
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_ENDPOINT_URL", None)
    return env


def migrate_template(env: dict[str, str], database: Path) -> None:
    """A migrated SQLite file that each measured child copies (migrations are not measured)."""
    print(f"migrating a throwaway database in {database.parent} ...", flush=True)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"],
        env={**env, "DATABASE_URL": f"sqlite:///{database}"},
        check=True,
    )


def rss_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def bench_account(endpoint: str, **fields: Any) -> Any:
    """Tenant "bench" and its account on the emulator (call after django.setup())."""
    from accounts.models import AwsAccount, Tenant

    tenant = Tenant.objects.create(name="Bench", slug="bench")
    return AwsAccount.objects.create(
        tenant=tenant,
        name="bench",
        access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        endpoint_url=endpoint,
        **fields,
    )


def on_every_client(hook: Callable[[Any], None]) -> None:
    """Call `hook(client)` on every client accounts.aws makes from now on (request counters)."""
    from accounts import aws

    real_client = aws.client

    def hooked(*args: Any, **kwargs: Any) -> Any:
        made = real_client(*args, **kwargs)
        hook(made)
        return made

    aws.client = hooked  # type: ignore[assignment]
