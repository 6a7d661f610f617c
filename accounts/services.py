"""Changes to tenants, memberships and AWS accounts, each audited in the same transaction.

The admin, the portal pages and the management commands all go through these functions.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

import audit
from accounts import trust
from accounts.models import AwsAccount, Membership, Tenant
from accounts.users import User

_KINDS: dict[type[Tenant | Membership | AwsAccount], str] = {
    Tenant: "tenant",
    Membership: "membership",
    AwsAccount: "aws_account",
}


def _save_audited(
    actor: User | None, obj: Tenant | Membership | AwsAccount, before: dict[str, Any] | None
) -> None:
    """Validate, save and audit (create or update, with before and after) in one transaction.

    `before` is the object's audit_dict() as stored; read from the database when not given.
    """
    created = obj.pk is None
    if not created and before is None:
        before = type(obj)._default_manager.get(pk=obj.pk).audit_dict()
    obj.full_clean()
    obj.save()
    audit.record(
        actor,
        obj if isinstance(obj, Tenant) else obj.tenant,
        f"accounts.{_KINDS[type(obj)]}.{'create' if created else 'update'}",
        obj,
        before=None if created else before,
        after=obj.audit_dict(),
    )


@transaction.atomic
def save_tenant(actor: User | None, tenant: Tenant) -> Tenant:
    """Validate, save and audit a new or changed tenant (portal, CLI and admin alike)."""
    _save_audited(actor, tenant, None)
    return tenant


@transaction.atomic
def save_membership(actor: User | None, membership: Membership) -> Membership:
    """Validate, save and audit a new or changed membership."""
    _save_audited(actor, membership, None)
    return membership


def create_tenant(actor: User | None, *, slug: str, name: str) -> Tenant:
    return save_tenant(actor, Tenant(slug=slug, name=name))


def add_member(actor: User | None, *, tenant: Tenant, user: User, role: str) -> Membership:
    return save_membership(actor, Membership(tenant=tenant, user=user, role=role))


@transaction.atomic
def create_user(
    actor: User | None, *, username: str, email: str = "", password: str | None = None
) -> User:
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


TENANT_IS_FIXED = (
    "An AWS account cannot move to another tenant: its buckets, findings, costs and audit "
    "trail belong to the tenant that connected it. Connect the account again in the other "
    "tenant, then delete this one."
)


@transaction.atomic
def save_aws_account(
    actor: User | None, account: AwsAccount, *, before: dict[str, Any] | None = None
) -> AwsAccount:
    """Validate and save a new or changed account; `before` is its audit_dict() before edits
    (read from the database when not given).

    An account's tenant is fixed once it is saved (ValidationError otherwise): rows that copy
    it (Finding.tenant, cost rollups) and other tenants' pages must never disagree about it.

    The one place that decides who may give an account the platform's own credentials
    (accounts/trust.py): a PermissionDenied (403) with the reason otherwise. A permitted actor's
    save records the grant, which accounts/aws.py requires at connect time.
    """
    stored = AwsAccount.objects.filter(pk=account.pk).first() if account.pk else None
    if stored is not None and stored.tenant_id != account.tenant_id:
        raise ValidationError({"tenant": TENANT_IS_FIXED})
    trust.require_may_configure(actor, account, stored)
    # A tenant named in AWS_AMBIENT_ALLOWED_TENANTS is allowed by the setting as long as it says
    # so; a grant recorded on the row comes from platform staff only.
    account.platform_credentials_approved = (
        account.uses_platform_credentials and trust.is_platform_actor(actor)
    )
    _save_audited(actor, account, before)
    return account


@transaction.atomic
def delete_object(actor: User | None, obj: Tenant | Membership | AwsAccount) -> None:
    """Delete with an audit event; the tenant of a deleted tenant is recorded by slug."""
    label = _KINDS[type(obj)]
    tenant = obj if isinstance(obj, Tenant) else obj.tenant
    audit.record(actor, tenant, f"accounts.{label}.delete", obj, before=obj.audit_dict())
    obj.delete()
