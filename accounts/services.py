"""Changes to tenants, memberships and AWS accounts, each audited in the same transaction.

The admin, the portal pages and the management commands all go through these functions.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

import audit
from accounts.models import AwsAccount, Membership, Tenant
from accounts.users import User


@transaction.atomic
def create_tenant(actor: User | None, *, slug: str, name: str) -> Tenant:
    tenant = Tenant(slug=slug, name=name)
    tenant.full_clean()
    tenant.save()
    audit.record(actor, tenant, "accounts.tenant.create", tenant, after=tenant.audit_dict())
    return tenant


@transaction.atomic
def add_member(actor: User | None, *, tenant: Tenant, user: User, role: str) -> Membership:
    membership = Membership(tenant=tenant, user=user, role=role)
    membership.full_clean()
    membership.save()
    audit.record(
        actor, tenant, "accounts.membership.create", membership, after=membership.audit_dict()
    )
    return membership


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


@transaction.atomic
def save_aws_account(
    actor: User | None, account: AwsAccount, *, before: dict[str, Any] | None = None
) -> AwsAccount:
    """Validate and save a new or changed account; `before` is its audit_dict() before edits."""
    account.full_clean()
    created = account.pk is None
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
def delete_object(actor: User | None, obj: Tenant | Membership | AwsAccount) -> None:
    """Delete with an audit event; the tenant of a deleted tenant is recorded by slug."""
    label = {Tenant: "tenant", Membership: "membership", AwsAccount: "aws_account"}[type(obj)]
    tenant = obj if isinstance(obj, Tenant) else obj.tenant
    audit.record(actor, tenant, f"accounts.{label}.delete", obj, before=obj.audit_dict())
    obj.delete()
