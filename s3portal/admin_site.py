"""The admin site: platform superusers, and tenant admins/operators limited to their tenants."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver

from accounts.access import can_use_admin
from accounts.admin_base import TenantScopedAdmin


def platform_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """403 for anybody but a platform superuser, before the view looks anything up."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_superuser:
            raise PermissionDenied("This part of the admin is for platform administrators.")
        return view(request, *args, **kwargs)

    return wrapper


def _guard(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _guard(pattern.url_patterns)
        else:
            pattern.callback = platform_only(pattern.callback)
    return patterns


class PortalAdminSite(admin.AdminSite):
    site_header = "s3portal administration"
    site_title = "s3portal admin"
    index_title = "Operations"

    def has_permission(self, request: HttpRequest) -> bool:
        # Tenant admins and operators use the admin without is_staff; members and viewers never.
        return can_use_admin(request.user)

    def get_urls(self) -> list[URLPattern | URLResolver]:
        """Every model admin that is not tenant-scoped (auth users and groups, 2FA devices,
        login attempts, ...) answers non-superusers 403 on every URL, whatever the id: Django
        would look the object up first and tell an existing id (403) from a missing one
        (redirect)."""
        urls = super().get_urls()
        for resolver in urls:
            if not isinstance(resolver, URLResolver):
                continue
            model_admin = self._admin_for(resolver)
            if model_admin is not None and not isinstance(model_admin, TenantScopedAdmin):
                _guard(resolver.url_patterns)
        return urls

    def _admin_for(self, resolver: URLResolver) -> admin.ModelAdmin[Any] | None:
        route = str(resolver.pattern)
        for model, model_admin in self._registry.items():
            if route == f"{model._meta.app_label}/{model._meta.model_name}/":
                return model_admin
        return None
