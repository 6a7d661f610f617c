"""Role checks and the view-side entry points to tenant scoping. Everything fails closed.

Views fetch tenant-owned objects only through `get_for_user` (or a model's
``objects.for_user(...)``): a stranger gets 404 (the object's existence is not revealed), a
member of the tenant whose role is too weak gets 403.

A user's roles are read once per request: `tenant_roles` keeps them on the user object, which
Django builds anew for every request.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from accounts.models import Tenant
from accounts.roles import ROLE_RANK, Role, role_at_least, roles_at_least
from accounts.scoping import (
    UserLike,
    forget_roles,
    is_active_user,
    scope_for_user,
    tenant_id_of,
    tenant_ids_for,
    tenant_roles,
)

__all__ = [
    "ADMIN_ROLES",
    "ROLE_RANK",
    "Role",
    "can_use_admin",
    "current_tenant",
    "forget_roles",
    "get_for_user",
    "role_at_least",
    "roles_at_least",
    "tenant_ids_for",
    "tenant_required",
    "tenant_roles",
    "tenants_for",
    "visible_tenants",
    "user_role",
]

M = TypeVar("M", bound=Model)
SESSION_TENANT_KEY = "s3portal_tenant_id"
ADMIN_ROLES = (Role.ADMIN, Role.OPERATOR)


def user_role(user: UserLike | None, tenant: Tenant | int) -> str | None:
    """The user's role in tenant; superusers act as tenant admins everywhere."""
    if not is_active_user(user):
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return tenant_roles(user).get(tenant_id)


def tenants_for(user: UserLike | None, min_role: str = Role.VIEWER) -> QuerySet[Tenant]:
    """Tenants the user may see with at least `min_role`."""
    if not is_active_user(user):
        return Tenant.objects.none()
    if getattr(user, "is_superuser", False):
        return Tenant.objects.all()
    return Tenant.objects.filter(pk__in=tenant_ids_for(user, min_role))


def can_use_admin(user: UserLike | None) -> bool:
    if not is_active_user(user):
        return False
    return bool(getattr(user, "is_superuser", False) or tenant_ids_for(user, Role.OPERATOR))


def get_for_user(request: HttpRequest, model: type[M], pk: Any, *, role: str = Role.VIEWER) -> M:
    """Fetch model pk if the user belongs to its tenant: 404 for strangers, 403 if too weak."""
    obj = scope_for_user(model._default_manager.filter(pk=pk), request.user).first()
    if obj is None:
        raise Http404(f"No {model._meta.verbose_name} found.")
    tenant_id = tenant_id_of(obj)
    if tenant_id is None or not role_at_least(user_role(request.user, tenant_id), role):
        raise PermissionDenied(f"This needs the {Role(role).label} role or higher.")
    return obj


def visible_tenants(request: HttpRequest) -> list[Tenant]:
    """The tenants the user may switch to, by name: read once per request and kept on it."""
    cached = getattr(request, "_s3portal_tenants", None)
    if cached is None:
        cached = list(tenants_for(request.user).order_by("name"))
        request._s3portal_tenants = cached  # type: ignore[attr-defined]
    return cached


def current_tenant(request: HttpRequest) -> Tenant | None:
    """The tenant the user switched to (session), else their first; None if they have none."""
    tenants = visible_tenants(request)
    wanted = request.session.get(SESSION_TENANT_KEY)
    for tenant in tenants:
        if tenant.pk == wanted:
            return tenant
    return tenants[0] if tenants else None


def forget_current_tenant(request: HttpRequest) -> None:
    """After a tenant switch or a membership change within the request."""
    if hasattr(request, "_s3portal_tenants"):
        del request._s3portal_tenants
    forget_roles(request.user)


def tenant_required(min_role: str = Role.VIEWER) -> Callable[..., Any]:
    """View decorator: login, a current tenant, and at least `min_role` in it.

    The view receives `tenant` and `role` keyword arguments.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            tenant = current_tenant(request)
            if tenant is None:
                raise PermissionDenied("Your account does not belong to any tenant yet.")
            role = user_role(request.user, tenant)
            if not role_at_least(role, min_role):
                raise PermissionDenied(f"This page needs the {Role(min_role).label} role.")
            return view(request, *args, tenant=tenant, role=role, **kwargs)

        return wrapper

    return decorator
