"""The demo's S3 emulator: moto_server whose S3 state survives a restart.

`make run` starts ``python -m s3portal.demo_emulator --port P --state var/s3-emulator.pickle``.
moto keeps everything in memory; this keeps a pickle of its S3 backends (buckets, objects,
policies, ACLs, versioning, ...: moto's S3 objects are made to be pickled) in one file, loaded
at start and written after changes (at most every SAVE_EVERY seconds) and at shutdown, so
files, fixes and findings in the demo's database still match the emulator on the next run.

The state file is trusted input (the demo wrote it); never point --state at a file from
elsewhere. Delete it (or ``make clean``) to start the emulator empty.
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle  # noqa: S403 - the state file is written by this program only
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

logger = logging.getLogger("s3portal.demo_emulator")
SAVE_EVERY = 2.0  # seconds between saves while requests change state
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _backends() -> Any:
    from moto.s3.models import s3_backends
    from moto.s3control.models import s3control_backends

    return s3_backends, s3control_backends


def dump_state() -> bytes:
    """moto's S3 and S3 Control state as bytes (retried if a request changes it meanwhile)."""
    s3, s3control = _backends()
    for _ in range(5):
        try:
            state = {
                "s3": dict(s3),
                "s3_bucket_accounts": dict(s3.bucket_accounts),
                "s3control": dict(s3control),
            }
            return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        except RuntimeError:  # "dictionary changed size during iteration"
            continue
    raise RuntimeError("the emulator's state kept changing while being saved")


def load_state(data: bytes) -> int:
    """Put a dumped state back into moto; returns the number of buckets restored."""
    state = pickle.loads(data)  # noqa: S301 - our own file, see the module docstring
    s3, s3control = _backends()
    for account_id, regions in state["s3"].items():
        s3[account_id] = regions
    s3.bucket_accounts.update(state["s3_bucket_accounts"])
    for account_id, regions in state.get("s3control", {}).items():
        s3control[account_id] = regions
    return len(state["s3_bucket_accounts"])


def save(path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(dump_state())
    tmp.chmod(0o600)
    os.replace(tmp, path)  # atomic: a crash mid-save keeps the previous state


class StateKeeper:
    """WSGI middleware: marks the state dirty on writes; a thread saves it shortly after."""

    def __init__(self, app: Callable[..., Iterable[bytes]], path: Path) -> None:
        self.app = app
        self.path = path
        self.dirty = threading.Event()
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD", "GET") not in READ_METHODS:
            self.dirty.set()
        return self.app(environ, start_response)

    def save_now(self) -> None:
        with self.lock:
            self.dirty.clear()
            save(self.path)

    def run_saver(self) -> None:
        while not self.stopped.is_set():
            if self.dirty.wait(timeout=0.5) and not self.stopped.wait(SAVE_EVERY):
                try:
                    self.save_now()
                except Exception:  # noqa: BLE001 - keep serving; the next save retries
                    logger.exception("could not save the emulator state to %s", self.path)


def main(argv: list[str] | None = None) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True, help="pickle file of the S3 state")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    if args.state.exists():
        try:
            restored = load_state(args.state.read_bytes())
            logger.info("restored %d bucket(s) from %s", restored, args.state)
        except Exception as exc:  # noqa: BLE001 - a broken state file must not stop the demo
            broken = args.state.with_suffix(".broken")
            os.replace(args.state, broken)
            logger.warning("could not read %s (%s); starting empty, kept it as %s",
                           args.state, exc, broken)  # fmt: skip

    app = DomainDispatcherApplication(create_backend_app)
    keeper = StateKeeper(app, args.state)
    saver = threading.Thread(target=keeper.run_saver, name="state-saver", daemon=True)
    saver.start()

    def stop(signum: int, frame: object) -> None:
        keeper.stopped.set()
        keeper.save_now()
        logger.info("saved the emulator state to %s", args.state)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    run_simple(args.host, args.port, keeper, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
