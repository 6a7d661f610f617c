"""Celery application; configuration comes from Django settings (CELERY_* names)."""

import os
import socket

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "s3portal.settings")

app = Celery("s3portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="s3portal.ping")
def ping(value: str) -> dict[str, str]:
    """Round-trip probe used by health checks and the broker integration test."""
    return {"echo": value, "worker": socket.gethostname()}
