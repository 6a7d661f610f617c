"""What `make run` needs to behave across runs: one demo per var/ folder, honest ports.

* :class:`VarLock` -- an exclusive lock on ``var/demo.lock`` held while the demo runs; a
  second ``make run`` on the same folder refuses to start and names the running one and its
  URL (it would otherwise re-seed the database and point the first portal's account at its
  own emulator).
* :func:`choose_port` -- a port asked for explicitly (``PORT=8000``) must be free or the demo
  stops; the default port, if busy, is replaced and the replacement said out loud.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import IO

LOCK_NAME = "demo.lock"


class DemoError(Exception):
    """The demo cannot start; the message says why and what to do (printed as one line)."""


class VarLock:
    def __init__(self, var_dir: Path) -> None:
        self.path = var_dir / LOCK_NAME
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the life of the demo
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read()
            handle.close()
            raise DemoError(self._running_message(text)) from None
        self._file = handle
        self.describe({"pid": os.getpid(), "url": None})

    def describe(self, info: Mapping[str, object]) -> None:
        """Record who holds the lock (pid, URLs) for a second run to name."""
        assert self._file is not None, "acquire() first"
        self._file.seek(0)
        self._file.truncate()
        self._file.write(json.dumps(dict(info)))
        self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def _running_message(self, text: str) -> str:
        try:
            info = json.loads(text)
        except ValueError:
            info = {}
        pid = info.get("pid", "?")
        url = info.get("url") or "(still starting)"
        return (
            f"the demo is already running from {self.path.parent} (pid {pid}) at {url}; "
            "open that one, stop it with Ctrl-C, or give this run its own folder with "
            "S3PORTAL_VAR_DIR=/some/other/dir"
        )


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_port(
    variable: str, default: int, label: str, environ: Mapping[str, str] | None = None
) -> tuple[int, str | None]:
    """(port, note): the port to use, and a sentence to print when it is not the default.

    Raises :class:`DemoError` when the port was set explicitly and is busy.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(variable, "").strip()
    if raw:
        try:
            wanted = int(raw)
        except ValueError:
            raise DemoError(f"{variable}={raw!r} is not a port number") from None
        if not port_is_free(wanted):
            raise DemoError(
                f"{variable}={wanted} is busy (another program listens on 127.0.0.1:{wanted}); "
                f"choose another {variable}, or unset it to let the demo pick a free port"
            )
        return wanted, None
    if port_is_free(default):
        return default, None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        chosen = int(sock.getsockname()[1])
    return chosen, (
        f"port {default} is busy, so {label} uses port {chosen} (set {variable} to choose one)"
    )
