"""Scans over real HTTP: moto_server (the s3control endpoint, regions), and a real Celery worker
running scan_account through the configured broker (Redis in CI)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from django.db import connection
from django.utils import timezone

from accounts import aws
from accounts.models import AwsAccount
from storage import tasks
from storage.models import Bucket, ScanRun
from tests.helpers_services import celery_worker, database_url, moto_server
from tests.scan_helpers import full_scan

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def server_account(personas: Any, endpoint: str) -> AwsAccount:
    return AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="emulator",
        access_key_id="AKIASCANSCANSCANSCAN",
        secret_access_key="scan-secret",
        endpoint_url=endpoint,
        verified_account_id="123456789012",
        last_verified_at=timezone.now(),
    )


def test_scan_over_http_reads_the_account_level_block(personas: Any, aws_env: None) -> None:
    with moto_server() as endpoint:
        account = server_account(personas, endpoint)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        s3.create_bucket(Bucket="http-public")
        s3.put_bucket_acl(Bucket="http-public", ACL="public-read")
        s3.create_bucket(
            Bucket="http-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        # The account id would be put in front of the emulator's host; the portal pins it.
        aws.client(account, "s3control").put_public_access_block(
            AccountId="123456789012",
            PublicAccessBlockConfiguration={"IgnorePublicAcls": True},
        )
        run = full_scan(account)
    assert run.status == ScanRun.Status.SUCCEEDED, run.message
    assert run.error_count == 0, run.errors
    public = Bucket.objects.get(name="http-public")
    assert public.is_public is False  # neutralised at account level
    assert "IgnorePublicAcls is on (account level)" in public.checks["public"]["detail"]
    assert Bucket.objects.get(name="http-eu").region == "eu-west-1"


def test_real_worker_runs_a_scheduled_scan(personas: Any, aws_env: None) -> None:
    with moto_server() as endpoint:
        account = server_account(personas, endpoint)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        s3.create_bucket(Bucket="worker-bucket")
        run = ScanRun.objects.create(account=account, trigger=ScanRun.Trigger.SCHEDULE)
        worker_env = {"DATABASE_URL": database_url(connection.settings_dict)}
        with celery_worker(worker_env):
            outcome = tasks.scan_account.delay(account.pk, run.pk).get(timeout=120)
    assert outcome == {"account_id": account.pk, "run_id": run.pk, "status": "succeeded"}
    run.refresh_from_db()
    assert run.buckets_done == 1 and run.task_id
    assert Bucket.objects.get(name="worker-bucket").last_scanned_at is not None
