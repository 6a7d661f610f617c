"""Run the whole portal locally: moto_server (S3 emulator), Django web, Celery worker and beat.

Started by `make run`. Keys and the demo password are generated once into var/demo.env, so
secrets survive restarts. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from s3portal.localproc import free_port, wait_for_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("S3PORTAL_VAR_DIR", str(ROOT / "var")))
ENV_FILE = VAR / "demo.env"
PYTHON = sys.executable
BIN = Path(PYTHON).parent
DEMO_ENDPOINT_SETTINGS = {
    "AWS_ENDPOINT_ALLOW_HTTP": "true",
    "AWS_ENDPOINT_ALLOWED_NETWORKS": "127.0.0.0/8",
}


def load_or_create_env() -> dict[str, str]:
    VAR.mkdir(exist_ok=True)
    if not ENV_FILE.exists():
        values = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FERNET_KEYS": secrets.token_urlsafe(32),
            "DEMO_PASSWORD": secrets.token_urlsafe(9),
        }
        ENV_FILE.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        ENV_FILE.chmod(0o600)
    pairs = (line.split("=", 1) for line in ENV_FILE.read_text().splitlines() if "=" in line)
    loaded = {k: v for k, v in pairs}
    # The local emulator's endpoint rules (added to files made before they existed).
    missing = {k: v for k, v in DEMO_ENDPOINT_SETTINGS.items() if k not in loaded}
    if missing:
        with ENV_FILE.open("a") as env_file:
            env_file.write("".join(f"{k}={v}\n" for k, v in missing.items()))
        loaded.update(missing)
    return loaded


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # same clean shutdown as Ctrl-C: stop every child process


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    demo = load_or_create_env()
    web_port = free_port(int(os.environ.get("PORT", "8000")))
    s3_port = free_port(int(os.environ.get("S3_EMULATOR_PORT", "5055")))
    endpoint = f"http://127.0.0.1:{s3_port}"
    env = {
        **os.environ,
        "DEBUG": os.environ.get("DEBUG", "true"),
        "SECRET_KEY": demo["SECRET_KEY"],
        "FERNET_KEYS": demo["FERNET_KEYS"],
        "AWS_EC2_METADATA_DISABLED": "true",
        # The demo's emulator listens on loopback over plain HTTP; a real portal refuses both
        # (accounts/endpoints.py). Kept in var/demo.env too, for commands run by hand.
        "AWS_ENDPOINT_ALLOW_HTTP": demo.get("AWS_ENDPOINT_ALLOW_HTTP", "true"),
        "AWS_ENDPOINT_ALLOWED_NETWORKS": demo.get("AWS_ENDPOINT_ALLOWED_NETWORKS", "127.0.0.0/8"),
        "PYTHONUNBUFFERED": "1",
        # The demo's root logs in with its password only; production requires a TOTP code.
        "OTP_REQUIRED_FOR_SUPERUSERS": os.environ.get("OTP_REQUIRED_FOR_SUPERUSERS", "false"),
    }
    procs: list[subprocess.Popen[bytes]] = []

    def start(*cmd: str, log: Path | None = None) -> None:
        out = open(log, "ab") if log else None  # noqa: SIM115 (lives as long as the process)
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out))

    try:
        # The emulator logs every request: keep that out of the console.
        start(
            str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port),
            log=VAR / "moto_server.log",
        )  # fmt: skip
        wait_for_port(s3_port)
        manage = [PYTHON, "manage.py"]

        def run_manage(*args: str) -> None:
            subprocess.run([*manage, *args], cwd=ROOT, env=env, check=True)

        run_manage("migrate", "--noinput", "-v", "0")
        run_manage("seed_demo", "--endpoint-url", endpoint, "--password", demo["DEMO_PASSWORD"])
        run_manage(
            "set_file_space", "demo", "--account", "local-emulator",
            "--bucket", "demo-files", "--prefix", "portal",
            "--backup-account", "local-emulator", "--backup-bucket", "demo-files-backup",
        )  # fmt: skip
        # A first scan, so the bucket pages show postures at once (beat rescans on schedule).
        run_manage("scan", "--tenant", "demo")
        start(*manage, "runserver", f"127.0.0.1:{web_port}", "--noreload")
        celery = [str(BIN / "celery"), "-A", "s3portal"]
        start(*celery, "worker", "-l", "INFO", "--concurrency", "2", "-n", "demo@%h")
        start(*celery, "beat", "-l", "INFO")
        wait_for_port(web_port)
        print(
            "\n"
            f"  s3portal is running at http://127.0.0.1:{web_port}/\n"
            f"  S3 emulator (moto_server):  {endpoint}  (log: {VAR / 'moto_server.log'})\n"
            f"  Logins (password for all: {demo['DEMO_PASSWORD']}):\n"
            "    root            platform superuser (admin at /admin/)\n"
            "    demo-admin      tenant admin of Demo Company\n"
            "    demo-operator   operator\n"
            "    demo-member     member\n"
            "    demo-viewer     viewer\n"
            "  Two-factor login is not required in the demo (OTP_REQUIRED_FOR_SUPERUSERS=false);\n"
            "  invitation and password-reset mails are printed on this console.\n"
            "  Ctrl-C stops web, worker, beat and the emulator.\n",
            flush=True,
        )
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print("a component exited; stopping the rest", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
