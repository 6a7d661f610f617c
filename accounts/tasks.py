"""Periodic re-verification of AWS accounts (one task per account, enqueued by a fan-out)."""

from __future__ import annotations

import logging

from celery import shared_task

from accounts.models import AwsAccount
from accounts.retry import retry_policy
from accounts.verification import TransientVerificationError, verify_account

logger = logging.getLogger(__name__)


@shared_task(name="accounts.verify_aws_account", **retry_policy(TransientVerificationError))
def verify_aws_account(account_id: int) -> dict[str, object]:
    account = AwsAccount.objects.select_related("tenant").filter(pk=account_id).first()
    if account is None:  # deleted since it was enqueued: nothing to do
        return {"account_id": account_id, "skipped": "gone"}
    result = verify_account(account, raise_transient=True)
    return {"account_id": account_id, "ok": result.ok, "error": result.error}


@shared_task(name="accounts.verify_all_aws_accounts", **retry_policy())
def verify_all_aws_accounts() -> int:
    ids = list(AwsAccount.objects.values_list("pk", flat=True))
    for account_id in ids:
        verify_aws_account.delay(account_id)
    logger.info("enqueued verification of %d AWS accounts", len(ids))
    return len(ids)


@shared_task(name="accounts.expire_invitations", **retry_policy())
def expire_invitations() -> int:
    """Mark (and audit) invitations past their expiry; idempotent, a batch per run."""
    from accounts.invitations import expire_due_invitations

    count = expire_due_invitations()
    if count:
        logger.info("marked %d invitations expired", count)
    return count
