"""Tenant scoping built into querysets (after NetBox's ``RestrictedQuerySet.restrict()``).

Every tenant-owned model declares, once, how it reaches its tenant::

    class Bucket(models.Model):
        tenant_path = "account__tenant"
        objects = TenantScopedManager()

and then ``Bucket.objects.for_user(user, role=Role.OPERATOR)`` holds exactly the buckets of the
tenants where the user has at least that role, ``Bucket.objects.for_tenant(tenant)`` those of one
tenant. ``Tenant`` itself declares ``tenant_path = ""`` (it is its own tenant).

Fails closed: a user who is anonymous, inactive or holds no such role gets an empty queryset; a
model without ``tenant_path`` cannot be scoped and raises ImproperlyConfigured instead of
returning everything. Platform superusers see every tenant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from accounts.roles import Role, role_at_least

if TYPE_CHECKING:
    from accounts.models import Tenant

M = TypeVar("M", bound=models.Model)
UserLike = AbstractBaseUser | AnonymousUser


def tenant_path_of(model: type[models.Model]) -> str:
    """The model's declared path to its Tenant ("" for Tenant itself)."""
    path = getattr(model, "tenant_path", None)
    if path is None:
        raise ImproperlyConfigured(
            f"{model._meta.label} is not tenant-owned: declare tenant_path on it to scope it."
        )
    return str(path)


def is_tenant_owned(model: type[models.Model]) -> bool:
    return isinstance(getattr(model, "tenant_path", None), str)


def _lookup(path: str, rest: str) -> str:
    return f"{path}__{rest}" if path else rest


def tenant_id_of(obj: models.Model) -> int | None:
    """The id of obj's tenant, following the model's tenant_path (None if it has none yet)."""
    path = tenant_path_of(type(obj))
    if not path:
        return obj.pk
    *hops, last = path.split("__")
    value: Any = obj
    for hop in hops:
        value = getattr(value, hop, None)
        if value is None:
            return None
    # the last hop's "<fk>_id" needs no query
    return getattr(value, f"{last}_id", None)


def tenant_of(obj: models.Model) -> Tenant | None:
    path = tenant_path_of(type(obj))
    value: Any = obj
    for hop in path.split("__") if path else []:
        value = getattr(value, hop, None)
        if value is None:
            return None
    return value


def is_active_user(user: UserLike | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


_ROLES_CACHE = "_s3portal_tenant_roles"


def tenant_roles(user: UserLike | None) -> dict[int, str]:
    """tenant id -> the user's role there: one query per request, kept on the user object
    (Django builds it anew for every request). Empty for anonymous and inactive users."""
    if not is_active_user(user):
        return {}
    cached = getattr(user, _ROLES_CACHE, None)
    if cached is None:
        membership = apps.get_model("accounts", "Membership")
        cached = dict(
            membership.objects.filter(user=user).order_by().values_list("tenant_id", "role")
        )
        setattr(user, _ROLES_CACHE, cached)
    return cached


def forget_roles(user: UserLike | None) -> None:
    """Drop the cached roles (after a membership of this user changed in this request)."""
    if user is not None and hasattr(user, _ROLES_CACHE):
        delattr(user, _ROLES_CACHE)


def tenant_ids_for(user: UserLike | None, role: str = Role.VIEWER) -> list[int]:
    """Ids of the tenants where a (non-super) user has at least `role`."""
    return sorted(t for t, r in tenant_roles(user).items() if role_at_least(r, role))


def scope_for_user(
    qs: models.QuerySet[M], user: UserLike | None, role: str = Role.VIEWER
) -> models.QuerySet[M]:
    """qs limited to the tenants where user holds at least `role` (superusers: all)."""
    path = tenant_path_of(qs.model)
    if not is_active_user(user):
        return qs.none()
    if getattr(user, "is_superuser", False):
        return qs
    # An IN list of the (few) tenant ids, not a join through memberships: the database can then
    # use each table's (tenant, ordering) indexes.
    return qs.filter(**{_lookup(path, "in") if path else "pk__in": tenant_ids_for(user, role)})


def scope_for_tenant(qs: models.QuerySet[M], tenant: Tenant | int) -> models.QuerySet[M]:
    path = tenant_path_of(qs.model)
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return qs.filter(**{_lookup(path, "pk") if path else "pk": tenant_id})


class TenantScopedQuerySet(models.QuerySet[M]):
    def for_user(self, user: UserLike | None, role: str = Role.VIEWER) -> TenantScopedQuerySet[M]:
        return scope_for_user(self, user, role)  # type: ignore[return-value]

    def for_tenant(self, tenant: Tenant | int) -> TenantScopedQuerySet[M]:
        return scope_for_tenant(self, tenant)  # type: ignore[return-value]


class TenantScopedManager(models.Manager.from_queryset(TenantScopedQuerySet)):  # type: ignore[misc]
    pass
