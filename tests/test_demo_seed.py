"""The demo seed (what `make run` does) against a real moto_server over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from accounts import aws
from accounts.models import AwsAccount, Membership
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
