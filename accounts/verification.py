"""Verify an AWS account with STS GetCallerIdentity and store the result."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.db import transaction
from django.utils import timezone

import audit
from accounts import aws
from accounts.errors import describe_aws_error, is_transient
from accounts.models import AuthMethod, AwsAccount
from accounts.users import User

logger = logging.getLogger(__name__)


class TransientVerificationError(Exception):
    """A network blip or throttling: worth retrying; the account is left as it was."""


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    account_id: str = ""
    arn: str = ""
    error: str = ""


def verify_account(
    account: AwsAccount, *, actor: User | None = None, raise_transient: bool = False
) -> VerificationResult:
    """Call GetCallerIdentity; store account id and ARN, or a message a person can act on."""
    operation = "sts:GetCallerIdentity"
    if account.auth_method == AuthMethod.ASSUME_ROLE:
        operation = f"sts:AssumeRole on {account.role_arn}"
    try:
        # Verification must see fresh credentials: drop this account's cached sessions (only
        # its own: other accounts' assumed-role sessions stay valid and cached).
        aws.clear_session_cache(account.pk)
        identity = aws.client(account, "sts").get_caller_identity()
        result = VerificationResult(ok=True, account_id=identity["Account"], arn=identity["Arn"])
    except (ClientError, BotoCoreError) as exc:
        if raise_transient and is_transient(exc):
            raise TransientVerificationError(str(exc)) from exc
        message = describe_aws_error(exc, account_name=account.name, operation=operation)
        logger.warning("verification of AWS account %s failed: %s", account.pk, message)
        result = VerificationResult(ok=False, error=message)

    with transaction.atomic():
        before = {
            "verified_account_id": account.verified_account_id,
            "verified_arn": account.verified_arn,
            "last_error": account.last_error,
        }
        if result.ok:
            account.verified_account_id = result.account_id
            account.verified_arn = result.arn
            account.last_verified_at = timezone.now()
            account.last_error = ""
        else:
            account.last_error = result.error
        # update_fields keeps updated_at (the session-cache key) unchanged by verification.
        AwsAccount.objects.filter(pk=account.pk).update(
            verified_account_id=account.verified_account_id,
            verified_arn=account.verified_arn,
            last_verified_at=account.last_verified_at,
            last_error=account.last_error,
        )
        audit.record(
            actor,
            account.tenant,
            "accounts.aws_account.verify" if result.ok else "accounts.aws_account.verify_failed",
            account,
            before=before,
            after={
                "verified_account_id": account.verified_account_id,
                "verified_arn": account.verified_arn,
                "last_error": account.last_error,
            },
        )
    return result
