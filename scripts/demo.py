"""Run the whole portal locally: an S3 emulator, Django web, Celery worker and beat.

Started by `make run`. Keys and the demo password are generated once into var/demo.env, so
secrets survive restarts; the emulator's S3 state is kept in var/s3-emulator.pickle, so the
buckets, files and fixes survive too. One demo per var/ folder (var/demo.lock). Ctrl-C stops
everything.
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
from s3portal.demo_runtime import DemoError, VarLock, choose_port  # noqa: E402
from s3portal.localproc import wait_for_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("S3PORTAL_VAR_DIR", str(ROOT / "var")))
ENV_FILE = VAR / "demo.env"
LOG_DIR = VAR / "log"
MAIL_DIR = VAR / "mail"
EMULATOR_STATE = VAR / "s3-emulator.pickle"
PYTHON = sys.executable
BIN = Path(PYTHON).parent
DEMO_ENDPOINT_SETTINGS = {
    "AWS_ENDPOINT_ALLOW_HTTP": "true",
    "AWS_ENDPOINT_ALLOWED_NETWORKS": "127.0.0.0/8",
}
WORKER_READY_TIMEOUT = 60.0


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


def wait_for_line(log: Path, needle: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and needle in log.read_text(errors="replace"):
            return True
        time.sleep(0.2)
    return False


def banner(web_url: str, endpoint: str, password: str, notes: list[str], worker_ready: bool) -> str:
    lines = [
        "",
        f"  s3portal is running at {web_url}",
        *(f"  note: {note}" for note in notes),
        f"  S3 emulator: {endpoint} (state kept in {EMULATOR_STATE})",
        f"  Logs: {LOG_DIR}/ (emulator, worker, beat); mail the portal sends: {MAIL_DIR}/"
        " (also on /mail/ for root)",
    ]
    if not worker_ready:
        lines.append(f"  warning: the Celery worker is not ready yet; see {LOG_DIR}/worker.log")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        lines.append(
            "  (running as root: Celery's superuser warning in the worker log is expected here)"
        )
    lines += [
        f"  Logins (password for all: {password}):",
        "    root            platform superuser (admin at /admin/)",
        "    demo-admin      tenant admin of Demo Company (mail: demo-admin@example.com)",
        "    demo-operator   operator",
        "    demo-member     member",
        "    demo-viewer     viewer",
        "  Two-factor login is not required in the demo (OTP_REQUIRED_FOR_SUPERUSERS=false).",
        "  Ctrl-C stops web, worker, beat and the emulator.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    lock = VarLock(VAR)
    try:
        lock.acquire()
        web_port, web_note = choose_port("PORT", 8000, "the portal")
        s3_port, s3_note = choose_port("S3_EMULATOR_PORT", 5055, "the S3 emulator")
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    notes = [note for note in (web_note, s3_note) if note]
    for note in notes:
        print(f"note: {note}", flush=True)
    web_url = f"http://127.0.0.1:{web_port}/"
    endpoint = f"http://127.0.0.1:{s3_port}"
    lock.describe({"pid": os.getpid(), "url": web_url, "s3_endpoint": endpoint})
    demo = load_or_create_env()
    LOG_DIR.mkdir(exist_ok=True)
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
        # A host name, so kombu does not warn "No hostname was supplied" in every process.
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "filesystem://localhost//"),
        # Mail lands in var/mail/ (one file per message), shown on /mail/ to root.
        "EMAIL_BACKEND": os.environ.get(
            "EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
        ),
        "EMAIL_FILE_PATH": os.environ.get("EMAIL_FILE_PATH", str(MAIL_DIR)),
        "S3PORTAL_DEMO_MAIL_PAGE": "true",
    }
    procs: list[subprocess.Popen[bytes]] = []

    def start(*cmd: str, log: Path | None = None) -> None:
        out = open(log, "ab") if log else None  # noqa: SIM115 (lives as long as the process)
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out))

    try:
        # The emulator logs every request: keep that out of the console.
        start(
            PYTHON, "-m", "s3portal.demo_emulator", "-H", "127.0.0.1", "-p", str(s3_port),
            "--state", str(EMULATOR_STATE), log=LOG_DIR / "emulator.log",
        )  # fmt: skip
        wait_for_port(s3_port)
        manage = [PYTHON, "manage.py"]

        setup_log = LOG_DIR / "setup.log"

        def run_manage(*args: str) -> None:
            """One set-up step; its output goes to the log, its failure to the console."""
            with open(setup_log, "ab") as out:
                done = subprocess.run([*manage, *args], cwd=ROOT, env=env, stdout=out, stderr=out)
            if done.returncode != 0:
                tail = setup_log.read_text(errors="replace").splitlines()[-15:]
                print("\n".join(tail), file=sys.stderr)
                raise DemoError(f"`manage.py {args[0]}` failed (exit {done.returncode}); "
                                f"see {setup_log}")  # fmt: skip

        print("preparing the demo (migrate, seed, first scan) ...", flush=True)
        run_manage("migrate", "--noinput", "-v", "0")
        run_manage(
            "seed_demo", "--endpoint-url", endpoint, "--password", demo["DEMO_PASSWORD"]
        )  # fmt: skip
        run_manage(
            "set_file_space", "demo", "--account", "local-emulator",
            "--bucket", "demo-files", "--prefix", "portal",
            "--backup-account", "local-emulator", "--backup-bucket", "demo-files-backup",
        )  # fmt: skip
        # A first scan, so the bucket pages show postures at once (beat rescans on schedule).
        run_manage("scan", "--tenant", "demo")
        celery = [str(BIN / "celery"), "-A", "s3portal"]
        worker_log = LOG_DIR / "worker.log"
        worker_log.write_text("")
        start(*celery, "worker", "-l", "INFO", "--concurrency", "2", "-n", "demo@%h",
              log=worker_log)  # fmt: skip
        start(*celery, "beat", "-l", "INFO", log=LOG_DIR / "beat.log")
        start(*manage, "runserver", f"127.0.0.1:{web_port}", "--noreload")
        wait_for_port(web_port)
        worker_ready = wait_for_line(worker_log, " ready.", WORKER_READY_TIMEOUT)
        # Last, once everything is up, so the logins do not scroll away under start-up output.
        print(banner(web_url, endpoint, demo["DEMO_PASSWORD"], notes, worker_ready), flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print(f"a component exited; stopping the rest (logs in {LOG_DIR}/)", file=sys.stderr)
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
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
        lock.release()


if __name__ == "__main__":
    main()
