"""The demo seed (what `make run` does) against a real moto_server over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from accounts import aws
from accounts.models import AwsAccount, Membership, Tenant
from tests.helpers_services import moto_server

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


def test_seed_demo_is_idempotent_and_verified(aws_env: Any) -> None:
    with moto_server() as endpoint:
        call_command("seed_demo", endpoint_url=endpoint, password="demo-pass-123")
        call_command("seed_demo", endpoint_url=endpoint, password="demo-pass-123")  # re-run: ok
        account = AwsAccount.objects.get(tenant__slug="demo", name="local-emulator")
        assert account.verified_account_id == "123456789012"
        names = {b["Name"] for b in aws.client(account, "s3").list_buckets()["Buckets"]}
    with moto_server() as new_endpoint:  # the emulator restarted on another port
        call_command("seed_demo", endpoint_url=new_endpoint, password="demo-pass-123")
        account.refresh_from_db()
        assert account.endpoint_url == new_endpoint and account.verified_account_id
    assert {"demo-private", "demo-public-read", "demo-website", "demo-logs"} <= names
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {
        "demo-admin": "admin",
        "demo-operator": "operator",
        "demo-member": "member",
        "demo-viewer": "viewer",
    }


def test_demo_log_bucket_works_as_a_log_target(aws_env: Any) -> None:
    """Issue 8 item 15: the access-logging fix into the demo's own log bucket, over HTTP, with
    the loopback emulator allowlisted (AWS_ENDPOINT_ALLOWED_NETWORKS=127.0.0.0/8 in the tests)."""
    from storage.models import Bucket
    from storage.remediation import plan_fix, run_fix
    from tests.scan_helpers import full_scan

    with moto_server() as endpoint:
        call_command("seed_demo", endpoint_url=endpoint, password="demo-pass-123")
        account = AwsAccount.objects.get(tenant__slug="demo", name="local-emulator")
        full_scan(account)
        bucket = Bucket.objects.get(account=account, name="demo-private")
        params = {"target_bucket": "demo-logs"}
        plan = plan_fix(bucket, "access_logging", params)
        assert plan.requests[0].params["BucketLoggingStatus"]["LoggingEnabled"] == {
            "TargetBucket": "demo-logs",
            "TargetPrefix": "demo-private/",
        }
        assert run_fix(bucket, "access_logging", params, dry_run=False).applied
        logging = aws.client(account, "s3").get_bucket_logging(Bucket="demo-private")
        assert logging["LoggingEnabled"]["TargetBucket"] == "demo-logs"
        assert Bucket.objects.get(account=account, name="demo-logs").is_public is False


def test_the_emulator_is_refused_without_the_allowlist(aws_env: Any, settings: Any) -> None:
    from accounts.verification import verify_account

    with moto_server() as endpoint:
        account = AwsAccount.objects.create(
            tenant=Tenant.objects.create(slug="t", name="T"),
            name="emulator",
            access_key_id="AKIAEMULATOREMULATOR",
            secret_access_key="emulator-secret",
            endpoint_url=endpoint,
        )
        assert verify_account(account).ok
        settings.AWS_ENDPOINT_ALLOWED_NETWORKS = []
        result = verify_account(account)
    assert not result.ok and "is a loopback address (127.0.0.1)" in result.error
