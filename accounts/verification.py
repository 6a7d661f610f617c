"""Verify an AWS account with STS GetCallerIdentity and store the result."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

import audit
from accounts import aws, trust
from accounts.errors import AWS_ERRORS, describe_aws_error, is_transient
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
    warnings: tuple[str, ...] = ()


def same_aws_account_warnings(account: AwsAccount, account_id: str) -> tuple[str, ...]:
    """Other accounts of the tenant that reach the same AWS account (and endpoint)."""
    others = (
        AwsAccount.objects.filter(
            tenant_id=account.tenant_id,
            verified_account_id=account_id,
            endpoint_url=account.endpoint_url,
        )
        .exclude(pk=account.pk)
        .order_by("pk")
        .values_list("name", flat=True)
    )
    names = list(others)
    if not names:
        return ()
    listed = ", ".join(repr(n) for n in names)
    return (
        f"AWS account {account_id} is also connected as {listed} in this tenant: its buckets "
        "are listed and checked once, under the account connected first. Remove one of them "
        "unless they are meant to have different permissions.",
    )


def _check_external_id_required(account: AwsAccount) -> str:
    """For a role assumed from the platform's identity: an error when the role lets the portal
    in without the external ID (any other tenant could then name the same role)."""
    if not (account.auth_method == AuthMethod.ASSUME_ROLE and account.uses_platform_credentials):
        return ""
    try:
        if aws.assume_role_without_external_id(account):
            return trust.NO_EXTERNAL_ID_MESSAGE
    except AWS_ERRORS as exc:
        detail = describe_aws_error(
            exc, account_name=account.name, operation=f"sts:AssumeRole on {account.role_arn}"
        )
        return f"Could not check that the role requires the external ID: {detail}"
    return ""


def verify_account(
    account: AwsAccount,
    *,
    actor: User | None = None,
    raise_transient: bool = False,
    interactive: bool = False,
) -> VerificationResult:
    """Call GetCallerIdentity; store account id and ARN, or a message a person can act on.

    `interactive`: someone waits for the answer (a save in the admin), so retry less.
    """
    operation = "sts:GetCallerIdentity"
    if account.auth_method == AuthMethod.ASSUME_ROLE:
        operation = f"sts:AssumeRole on {account.role_arn}"
    try:
        # Verification must see fresh credentials: drop this account's cached sessions (only
        # its own: other accounts' assumed-role sessions stay valid and cached).
        aws.clear_session_cache(account.pk)
        overrides: dict[str, Any] = (
            {"retries": {"mode": "standard", "max_attempts": 2}} if interactive else {}
        )
        sts = aws.client(account, "sts", **overrides)
        identity = sts.get_caller_identity()
        refusal = _check_external_id_required(account)
        if refusal:
            result = VerificationResult(ok=False, error=refusal)
        else:
            result = VerificationResult(
                ok=True,
                account_id=identity["Account"],
                arn=identity["Arn"],
                warnings=same_aws_account_warnings(account, identity["Account"]),
            )
    except AWS_ERRORS as exc:
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
