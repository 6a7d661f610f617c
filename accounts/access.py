"""Tenant scoping and role checks. Everything fails closed.

Views fetch tenant-owned objects only through `get_for_user`: a stranger gets 404 (the object's
existence is not revealed), a member of the tenant whose role is too weak gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from accounts.models import ROLE_RANK, Membership, Role, Tenant

M = TypeVar("M", bound=Model)
SESSION_TENANT_KEY = "s3portal_tenant_id"
ADMIN_ROLES = (Role.ADMIN, Role.OPERATOR)


def role_at_least(role: str | None, minimum: str) -> bool:
    return role is not None and ROLE_RANK.get(role, 0) >= ROLE_RANK[minimum]


def user_role(user: Any, tenant: Tenant | int) -> str | None:
    """The user's role in tenant; superusers act as tenant admins everywhere."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return (
        Membership.objects.filter(user=user, tenant_id=tenant_id)
        .values_list("role", flat=True)
        .first()
    )


def tenants_for(user: Any, min_role: str = Role.VIEWER) -> QuerySet[Tenant]:
    """Tenants the user may see with at least `min_role`."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Tenant.objects.none()
    if user.is_superuser:
        return Tenant.objects.all()
    allowed = [r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK[min_role]]
    return Tenant.objects.filter(memberships__user=user, memberships__role__in=allowed).distinct()


def can_use_admin(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, role__in=ADMIN_ROLES).exists()


def tenant_of(obj: Model, tenant_path: str = "tenant") -> Tenant:
    value: Any = obj
    for part in tenant_path.split("__"):
        value = getattr(value, part)
    return value


def get_for_user(
    request: HttpRequest,
    model: type[M],
    pk: Any,
    *,
    role: str = Role.VIEWER,
    tenant_path: str = "tenant",
) -> M:
    """Fetch model pk if the user belongs to its tenant: 404 for strangers, 403 if too weak."""
    visible = tenants_for(request.user)
    obj = model._default_manager.filter(pk=pk, **{f"{tenant_path}__in": visible}).first()
    if obj is None:
        raise Http404(f"No {model._meta.verbose_name} found.")
    if not role_at_least(user_role(request.user, tenant_of(obj, tenant_path)), role):
        raise PermissionDenied(f"This needs the {Role(role).label} role or higher.")
    return obj


def current_tenant(request: HttpRequest) -> Tenant | None:
    """The tenant the user switched to (session), else their first; None if they have none."""
    tenants = tenants_for(request.user)
    wanted = request.session.get(SESSION_TENANT_KEY)
    if wanted is not None:
        tenant = tenants.filter(pk=wanted).first()
        if tenant is not None:
            return tenant
    return tenants.order_by("name").first()


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
