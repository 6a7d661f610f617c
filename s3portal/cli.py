"""manage.py's front door: configuration problems become one line naming what is missing.

Without this, a missing SECRET_KEY shows as a 40-line traceback ending in `KeyError: 'scan'`,
and the demo's database read with other keys as 44 lines ending in `InvalidToken`.
`--traceback` keeps Django's full output for debugging.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

DEMO_HINT = (
    'For the demo\'s settings run `make manage ARGS="..."` or `make shell` '
    "(both load var/demo.env, written by the first `make run`)."
)


def _demo_hint() -> str:
    if os.environ.get("S3PORTAL_DEMO_ENV_LOADED"):
        return " (settings loaded from var/demo.env)"
    default_var = Path(__file__).resolve().parent.parent / "var"
    var_dir = Path(os.environ.get("S3PORTAL_VAR_DIR", default_var))
    if (var_dir / "demo.env").exists():
        return " " + DEMO_HINT
    return " (`make run` creates a demo with its own settings in var/demo.env.)"


def explain(exc: BaseException) -> str | None:
    """One line for a configuration problem a person can fix; None for anything else."""
    from cryptography.fernet import InvalidToken
    from django.core.exceptions import ImproperlyConfigured
    from django.db.utils import OperationalError, ProgrammingError

    if isinstance(exc, ImproperlyConfigured):
        return f"{exc}{_demo_hint()}"
    if isinstance(exc, InvalidToken):
        return (
            "a stored secret cannot be decrypted with the configured FERNET_KEYS: this "
            "database was written with other keys (set FERNET_KEYS to them)." + _demo_hint()
        )
    text = str(exc)
    if isinstance(exc, OperationalError | ProgrammingError) and (
        "no such table" in text or ("relation" in text and "does not exist" in text)
    ):
        return (
            f"the database has no tables yet ({text.splitlines()[0]}): run "
            "`python manage.py migrate`." + _demo_hint()
        )
    return None


def run(argv: Sequence[str], execute: Callable[[list[str]], None] | None = None) -> int:
    """Run a manage.py command line; a known configuration problem exits 1 with one line."""
    if execute is None:
        from django.core.management import execute_from_command_line

        execute = execute_from_command_line
    if "--traceback" in argv:
        execute(list(argv))
        return 0
    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 - load settings now, so their error is ours
        execute(list(argv))
    except Exception as exc:  # noqa: BLE001 - anything not explained is re-raised
        message = explain(exc) or (explain(exc.__context__) if exc.__context__ else None)
        if message is None:
            raise
        sys.stderr.write(f"error: {message}\n")
        return 1
    return 0
