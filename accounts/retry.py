"""The one retry policy of every Celery task (after paperless-ngx's ``index_document``).

Each task names the transient errors it may retry, declaratively; anything else fails at once::

    @shared_task(bind=True, name="storage.scan_account", **retry_policy(TransientScanError))

A retry waits ``retry_backoff * 2**n`` seconds (n = retries so far), capped at
``retry_backoff_max``, times a random factor between 0.5 and 1.5 (``retry_jitter``) so that
retries of many tasks spread out; at most ``max_retries`` times (``TASK_MAX_RETRIES`` unless the
task passes its own setting). Celery's own autoretry machinery runs it; :class:`PolicyTask` only
replaces Celery's "full jitter" (0 to the backoff) by the bounded jitter above, so a retry never
comes back at once.

It lives in accounts, the lowest layer with tasks; storage and storage.files use it too.
"""

from __future__ import annotations

import random
from typing import Any

from celery import Task
from django.conf import settings


def backoff_seconds(retries: int, base: float, cap: float, *, jitter: bool = True) -> float:
    """base * 2^retries, capped at cap, times a random 0.5-1.5 factor when jittered."""
    delay = min(cap, base * (2**retries))
    return delay * random.uniform(0.5, 1.5) if jitter else delay  # noqa: S311 - not security


class PolicyTask(Task):
    """A Celery task whose automatic retries wait as :func:`backoff_seconds` says."""

    # Set per task by retry_policy() (Celery reads the same attributes).
    autoretry_for: tuple[type[Exception], ...] = ()
    retry_backoff: float = 0
    retry_backoff_max: int = 600
    retry_jitter: bool = True

    def backoff(self, retries: int) -> float:
        return backoff_seconds(
            retries, self.retry_backoff, self.retry_backoff_max, jitter=bool(self.retry_jitter)
        )

    def retry(self, *args: Any, **options: Any) -> Any:
        exc = options.get("exc")
        if isinstance(exc, self.autoretry_for) and self.retry_backoff:
            # Called by the autoretry wrapper: our backoff instead of Celery's full jitter.
            options["countdown"] = self.backoff(int(self.request.retries or 0))
        return super().retry(*args, **options)


def retry_policy(
    *transient: type[Exception],
    max_retries: int | None = None,
    backoff: int | None = None,
    backoff_max: int | None = None,
) -> dict[str, Any]:
    """shared_task options: retry exactly `transient` errors, with backoff and jitter.

    A task without transient errors (fan-outs, sweeps the schedule runs again) passes none and
    is never retried.
    """
    return {
        "base": PolicyTask,
        "autoretry_for": transient,
        "retry_backoff": backoff if backoff is not None else settings.TASK_RETRY_BACKOFF,
        "retry_backoff_max": (
            backoff_max if backoff_max is not None else settings.TASK_RETRY_BACKOFF_MAX
        ),
        "retry_jitter": True,
        "max_retries": max_retries if max_retries is not None else settings.TASK_MAX_RETRIES,
    }
