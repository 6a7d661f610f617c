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

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from accounts.roles import Role, roles_at_least

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


def _active(user: UserLike | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def scope_for_user(
    qs: models.QuerySet[M], user: UserLike | None, role: str = Role.VIEWER
) -> models.QuerySet[M]:
    """qs limited to the tenants where user holds at least `role` (superusers: all)."""
    path = tenant_path_of(qs.model)
    if not _active(user):
        return qs.none()
    if getattr(user, "is_superuser", False):
        return qs
    return qs.filter(
        **{
            _lookup(path, "memberships__user"): user,
            _lookup(path, "memberships__role__in"): roles_at_least(role),
        }
    )


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
