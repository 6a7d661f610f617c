from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.management.commands._helpers import get_tenant
from accounts.models import AwsAccount
from accounts.verification import verify_account


class Command(BaseCommand):
    help = "Verify an AWS account with STS GetCallerIdentity and store the result."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant_slug")
        parser.add_argument("name")

    def handle(self, *args: Any, tenant_slug: str, name: str, **options: Any) -> None:
        tenant = get_tenant(tenant_slug)
        account = AwsAccount.objects.filter(tenant=tenant, name=name).first()
        if account is None:
            raise CommandError(f"tenant {tenant.slug!r} has no AWS account {name!r}")
        result = verify_account(account)
        if not result.ok:
            raise CommandError(result.error)
        self.stdout.write(f"{name}: account {result.account_id}, {result.arn}")
