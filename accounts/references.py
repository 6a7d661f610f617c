"""References stay inside the tenant: the ONE check for every bucket, KMS key or AWS account a
form, a fix or a command names (a log target, a file space's buckets and accounts, a backup
bucket; later lifecycle and credentials).

A bucket is the tenant's own when a scan of one of the tenant's AWS accounts listed it (the
Bucket inventory of the storage app, looked up lazily so that apps depending on accounts only,
like storage.files, can use this too). Names the portal has never listed may be accepted where the
caller then proves access with the tenant's own credentials (`allow_unlisted`), but never a name
that another tenant's inventory holds and this tenant's does not.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from accounts.models import AwsAccount, Tenant

KMS_ARN_RE = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:(\d{12}):(key|alias)/.+$")


class ForeignReference(ValidationError):
    """The name does not refer to one of the tenant's own resources; the message says which."""


def _bucket_model() -> Any:
    return apps.get_model("storage", "Bucket")


def tenant_buckets(tenant: Tenant | int) -> Any:
    """The tenant's buckets that are still there (a QuerySet of storage.Bucket)."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return _bucket_model().objects.filter(account__tenant_id=tenant_id, gone_at__isnull=True)


def require_tenant_account(tenant: Tenant | int, account: AwsAccount | None) -> AwsAccount:
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    if account is None or account.tenant_id != tenant_id:
        raise ForeignReference("Choose one of this tenant's AWS accounts.", code="foreign_account")
    return account


def require_tenant_bucket(
    tenant: Tenant | int,
    name: str,
    *,
    account: AwsAccount | None = None,
    allow_unlisted: bool = False,
) -> Any:
    """The tenant's Bucket row called `name` (the one under `account` first), or a refusal.

    With `allow_unlisted`, a name no tenant's scan has listed returns None: the caller must then
    reach the bucket with the tenant's own account before relying on it.
    """
    name = (name or "").strip()
    mine = tenant_buckets(tenant).filter(name=name).select_related("account")
    if account is not None:
        own = mine.filter(account=account).first()
        if own is not None:
            return own
    found = mine.order_by("pk").first()
    if found is not None:
        return found
    listed_elsewhere = _bucket_model().objects.filter(name=name, gone_at__isnull=True).exists()
    if allow_unlisted and not listed_elsewhere:
        return None
    raise ForeignReference(
        f"{name} is not one of this tenant's buckets. Name a bucket of this tenant's AWS "
        "accounts (the portal knows a bucket once a scan of the account has listed it).",
        code="foreign_bucket",
    )


def require_tenant_kms_key(account: AwsAccount, key: str) -> str:
    """A KMS key id or alias is looked up by AWS in the bucket's own account; an ARN must name
    that account (or another AWS account of the same tenant), never someone else's key."""
    key = (key or "").strip()
    match = KMS_ARN_RE.match(key)
    if not match:
        return key
    key_account = match.group(1)
    from accounts.models import AwsAccount

    own_ids = set(
        AwsAccount.objects.filter(tenant_id=account.tenant_id)
        .exclude(verified_account_id="")
        .values_list("verified_account_id", flat=True)
    )
    if key_account not in own_ids:
        raise ForeignReference(
            f"The KMS key {key} belongs to AWS account {key_account}, which is not one of this "
            "tenant's verified AWS accounts.",
            code="foreign_kms_key",
        )
    return key
