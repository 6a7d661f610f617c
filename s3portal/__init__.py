"""s3portal: a self-hosted, multi-tenant portal for Amazon S3."""

from .celery import app as celery_app

__all__ = ["celery_app"]
