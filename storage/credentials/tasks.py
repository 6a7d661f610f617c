"""Celery tasks for credentials (the periodic ones are in settings.CELERY_BEAT_SCHEDULE).

Each sweep picks everything due, however late (catch-up after downtime), and works per id with
a conditional UPDATE, so two workers never do the same row twice.
"""

from __future__ import annotations

from celery import shared_task

from accounts.retry import retry_policy

from . import lifecycle


@shared_task(name="credentials.expire_due", **retry_policy())
def expire_due() -> dict[str, int]:
    """Deactivate and delete keys whose expiry has come; e-mail reminders N days before."""
    return lifecycle.expire_due()


@shared_task(name="credentials.finish_rotations", **retry_policy())
def finish_rotations() -> int:
    """Delete old keys whose rotation grace period is over."""
    return lifecycle.finish_due_rotations()


@shared_task(name="credentials.refresh_last_used", **retry_policy())
def refresh_last_used() -> int:
    """GetAccessKeyLastUsed for every active key; open or clear key-age and unused alerts."""
    return lifecycle.refresh_all_last_used()


@shared_task(name="credentials.finish_rotation", **retry_policy())
def finish_rotation(rotation_id: int) -> bool:
    """One rotation (enqueued on commit when the grace period is zero)."""
    return lifecycle.finish_rotation(rotation_id)
