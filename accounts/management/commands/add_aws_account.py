from __future__ import annotations

import os
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import aws, services, trust
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
        parser.add_argument(
            "--external-id",
            default="",
            help="Refused: the portal makes the external ID of an assume-role account and prints "
            "the trust policy for the role.",
        )
        parser.add_argument("--session-name", default="s3portal")
        parser.add_argument(
            "--ambient",
            action="store_true",
            help="Use the platform's own credentials (environment, profile, instance role): "
            "the tenant then acts as the platform's AWS identity.",
        )
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
        if opts["external_id"]:
            raise CommandError(
                "--external-id is not accepted: the portal makes the external ID of every "
                "assume-role account and prints the trust policy to put on the role"
            )

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
            role_session_name=opts["session_name"],
            default_region=opts["region"],
            endpoint_url=opts["endpoint_url"],
        )
        if account.uses_platform_credentials:
            # A platform operator's tool may grant them, but says so plainly.
            self.stderr.write(
                f"warning: tenant {tenant.slug!r} gets the platform's own AWS credentials "
                "(the ambient chain"
                + (
                    f", as the source of AssumeRole on {account.role_arn}"
                    if opts["role_arn"]
                    else ""
                )
                + "): its pages will show what that identity can reach."
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
        if method == AuthMethod.ASSUME_ROLE:
            principal = (
                aws.platform_principal_arn() or "ARN-OF-THE-PORTAL-IDENTITY"
                if account.uses_platform_credentials
                else "ARN-OF-THE-IAM-USER-OF-THE-ACCESS-KEY"
            )
            self.stdout.write(f"external ID (made by the portal): {account.external_id}")
            self.stdout.write("trust policy for the role:")
            self.stdout.write(trust.trust_policy_json(principal, account.external_id))
