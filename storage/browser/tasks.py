"""Celery tasks of the object browser (periodic: settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from accounts.retry import retry_policy

from . import expiry


@shared_task(name="browser.sweep_object_expiry", **retry_policy())
def sweep_object_expiry() -> dict[str, int]:
    """Delete every object whose expiry date has come (exactly that key + version), including
    dates missed while the portal was down; skip and report objects that changed since."""
    return expiry.sweep()
