from __future__ import annotations

import os
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import services
from accounts.management.commands._helpers import get_tenant, validation_message
from accounts.models import AuthMethod, AwsAccount
from accounts.verification import verify_account


class Command(BaseCommand):
    help = (
        "Connect an AWS account to a tenant. The secret key is read from an environment variable "
        "or standard input, never from the command line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant_slug")
        parser.add_argument("name")
        parser.add_argument("--access-key-id")
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument("--secret-from-env", metavar="VAR")
        secret.add_argument("--secret-from-stdin", action="store_true")
        parser.add_argument("--role-arn")
        parser.add_argument("--external-id", default="")
        parser.add_argument("--session-name", default="s3portal")
        parser.add_argument("--ambient", action="store_true")
        parser.add_argument("--region", default="us-east-1")
        parser.add_argument("--endpoint-url", default="")
        parser.add_argument(
            "--verify",
            action="store_true",
            help="Call STS GetCallerIdentity; on failure nothing is kept and the exit is non-zero.",
        )

    def _read_secret(self, opts: dict[str, Any]) -> str:
        if opts["secret_from_env"]:
            value = os.environ.get(opts["secret_from_env"], "")
            if not value:
                raise CommandError(f"environment variable {opts['secret_from_env']} is empty")
            return value.strip()
        if opts["secret_from_stdin"]:
            value = sys.stdin.readline().strip()
            if not value:
                raise CommandError("no secret key on standard input")
            return value
        return ""

    def handle(self, *args: Any, **opts: Any) -> None:
        tenant = get_tenant(opts["tenant_slug"])
        if AwsAccount.objects.filter(tenant=tenant, name=opts["name"]).exists():
            raise CommandError(f"tenant {tenant.slug!r} already has an account {opts['name']!r}")
        modes = [bool(opts["role_arn"]), bool(opts["ambient"]), bool(opts["access_key_id"])]
        if opts["role_arn"] and opts["ambient"]:
            raise CommandError("choose one of --role-arn or --ambient")
        if not any(modes):
            raise CommandError("choose one of --access-key-id, --role-arn or --ambient")
        secret = self._read_secret(opts)
        if opts["access_key_id"] and not secret:
            raise CommandError(
                "--access-key-id needs its secret via --secret-from-env VAR or --secret-from-stdin"
            )
        if secret and not opts["access_key_id"]:
            raise CommandError("a secret key needs --access-key-id")

        if opts["role_arn"]:
            method = AuthMethod.ASSUME_ROLE
        elif opts["ambient"]:
            method = AuthMethod.AMBIENT
        else:
            method = AuthMethod.ACCESS_KEY
        account = AwsAccount(
            tenant=tenant,
            name=opts["name"],
            auth_method=method,
            access_key_id=opts["access_key_id"] or "",
            secret_access_key=secret,
            role_arn=opts["role_arn"] or "",
            external_id=opts["external_id"],
            role_session_name=opts["session_name"],
            default_region=opts["region"],
            endpoint_url=opts["endpoint_url"],
        )
        try:
            with transaction.atomic():
                services.save_aws_account(None, account)
                if opts["verify"]:
                    result = verify_account(account)
                    if not result.ok:
                        # Roll back the account (and its audit rows): nothing half-created.
                        raise CommandError(f"verification failed: {result.error}")
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc
        suffix = f", verified as {account.verified_arn}" if opts["verify"] else ""
        self.stdout.write(f"added AWS account {account.name} to {tenant.slug}{suffix}")
