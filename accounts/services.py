"""Changes to tenants, memberships and AWS accounts, each audited in the same transaction.

The admin, the portal pages and the management commands all go through these functions.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

import audit
from accounts import trust
from accounts.models import AwsAccount, Membership, Tenant


@transaction.atomic
def create_tenant(actor: Any, *, slug: str, name: str) -> Tenant:
    tenant = Tenant(slug=slug, name=name)
    tenant.full_clean()
    tenant.save()
    audit.record(actor, tenant, "accounts.tenant.create", tenant, after=tenant.audit_dict())
    return tenant


@transaction.atomic
def add_member(actor: Any, *, tenant: Tenant, user: Any, role: str) -> Membership:
    membership = Membership(tenant=tenant, user=user, role=role)
    membership.full_clean()
    membership.save()
    audit.record(
        actor, tenant, "accounts.membership.create", membership, after=membership.audit_dict()
    )
    return membership


@transaction.atomic
def create_user(actor: Any, *, username: str, email: str = "", password: str | None = None) -> Any:
    user_model = get_user_model()
    user = user_model(username=username, email=email)
    user.full_clean(exclude=["password"])
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    audit.record(
        actor,
        None,
        "accounts.user.create",
        user,
        after={"username": username, "email": email, "password_set": bool(password)},
    )
    return user


@transaction.atomic
def save_aws_account(
    actor: Any, account: AwsAccount, *, before: dict[str, Any] | None = None
) -> AwsAccount:
    """Validate and save a new or changed account; `before` is its audit_dict() before edits.

    The one place that decides who may give an account the platform's own credentials
    (accounts/trust.py): a PermissionDenied (403) with the reason otherwise. A permitted actor's
    save records the grant, which accounts/aws.py requires at connect time.
    """
    stored = AwsAccount.objects.filter(pk=account.pk).first() if account.pk else None
    trust.require_may_configure(actor, account, stored)
    account.full_clean()
    created = account.pk is None
    # A tenant named in AWS_AMBIENT_ALLOWED_TENANTS is allowed by the setting as long as it says
    # so; a grant recorded on the row comes from platform staff only.
    account.platform_credentials_approved = (
        account.uses_platform_credentials and trust.is_platform_actor(actor)
    )
    account.save()
    audit.record(
        actor,
        account.tenant,
        "accounts.aws_account.create" if created else "accounts.aws_account.update",
        account,
        before=None if created else before,
        after=account.audit_dict(),
    )
    return account


@transaction.atomic
def delete_object(actor: Any, obj: Tenant | Membership | AwsAccount) -> None:
    """Delete with an audit event; the tenant of a deleted tenant is recorded by slug."""
    label = {Tenant: "tenant", Membership: "membership", AwsAccount: "aws_account"}[type(obj)]
    tenant = obj if isinstance(obj, Tenant) else obj.tenant
    audit.record(actor, tenant, f"accounts.{label}.delete", obj, before=obj.audit_dict())
    obj.delete()
