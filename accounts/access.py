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

from accounts.models import Membership, Tenant
from accounts.roles import ROLE_RANK, Role, role_at_least, roles_at_least
from accounts.scoping import UserLike, scope_for_user, tenant_id_of

__all__ = [
    "ADMIN_ROLES",
    "ROLE_RANK",
    "Role",
    "can_use_admin",
    "current_tenant",
    "get_for_user",
    "role_at_least",
    "roles_at_least",
    "tenant_required",
    "tenant_roles",
    "tenants_for",
    "user_role",
]

M = TypeVar("M", bound=Model)
SESSION_TENANT_KEY = "s3portal_tenant_id"
ADMIN_ROLES = (Role.ADMIN, Role.OPERATOR)
_ROLES_CACHE = "_s3portal_tenant_roles"


def _active(user: UserLike | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def tenant_roles(user: UserLike | None) -> dict[int, str]:
    """tenant id -> the user's role there (one query per request; empty for strangers)."""
    if not _active(user):
        return {}
    cached = getattr(user, _ROLES_CACHE, None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user).values_list("tenant_id", "role"))
        setattr(user, _ROLES_CACHE, cached)
    return cached


def forget_roles(user: UserLike | None) -> None:
    """Drop the cached roles (after a membership of this user changed in this request)."""
    if user is not None and hasattr(user, _ROLES_CACHE):
        delattr(user, _ROLES_CACHE)


def user_role(user: UserLike | None, tenant: Tenant | int) -> str | None:
    """The user's role in tenant; superusers act as tenant admins everywhere."""
    if not _active(user):
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return tenant_roles(user).get(tenant_id)


def tenant_ids_for(user: UserLike | None, min_role: str = Role.VIEWER) -> list[int]:
    """Ids of the tenants where a (non-super) user has at least `min_role`."""
    return [t for t, role in tenant_roles(user).items() if role_at_least(role, min_role)]


def tenants_for(user: UserLike | None, min_role: str = Role.VIEWER) -> QuerySet[Tenant]:
    """Tenants the user may see with at least `min_role`."""
    if not _active(user):
        return Tenant.objects.none()
    if getattr(user, "is_superuser", False):
        return Tenant.objects.all()
    return Tenant.objects.filter(pk__in=tenant_ids_for(user, min_role))


def can_use_admin(user: UserLike | None) -> bool:
    if not _active(user):
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


def current_tenant(request: HttpRequest) -> Tenant | None:
    """The tenant the user switched to (session), else their first; None if they have none.

    Computed once per request and kept on it.
    """
    if hasattr(request, "_s3portal_tenant"):
        return request._s3portal_tenant
    tenants = tenants_for(request.user)
    wanted = request.session.get(SESSION_TENANT_KEY)
    tenant = None
    if isinstance(wanted, int):
        tenant = tenants.filter(pk=wanted).first()
    if tenant is None:
        tenant = tenants.order_by("name").first()
    request._s3portal_tenant = tenant  # type: ignore[attr-defined]
    return tenant


def forget_current_tenant(request: HttpRequest) -> None:
    """After a tenant switch within the request."""
    if hasattr(request, "_s3portal_tenant"):
        del request._s3portal_tenant


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
