"""TenantScopedAdmin: the base for every tenant-owned model in the admin.

Querysets, foreign-key choices and saves are limited to the tenants where the user holds at least
`view_role` (to see) or `change_role` (to add/change/delete). Platform superusers see everything.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from accounts.access import tenants_for
from accounts.models import Role, Tenant


class TenantScopedAdmin(admin.ModelAdmin):
    tenant_path = "tenant"  # how the model reaches its Tenant ("account__tenant" etc.)
    view_role: str = Role.OPERATOR
    change_role: str = Role.ADMIN

    # --- scoping helpers ---
    def tenants(self, request: HttpRequest, role: str | None = None) -> QuerySet[Tenant]:
        return tenants_for(request.user, role or self.view_role)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.tenant_path}__in": self.tenants(request)})

    def _obj_tenant(self, obj: Model) -> Tenant | None:
        value: Any = obj
        for part in self.tenant_path.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return None
        return value

    def _may(self, request: HttpRequest, role: str, obj: Model | None) -> bool:
        if request.user.is_superuser:
            return True
        tenants = self.tenants(request, role)
        if obj is None:
            return tenants.exists()
        tenant = self._obj_tenant(obj)
        return tenant is not None and tenants.filter(pk=tenant.pk).exists()

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str):
        # Another tenant's object and a missing one look the same: 404, never a hint.
        raise Http404(f"No {opts.verbose_name} with id {object_id!r}.")

    # --- permissions (roles, not Django model permissions) ---
    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may(request, self.view_role, None)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may(request, self.view_role, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may(request, self.change_role, None)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may(request, self.change_role, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may(request, self.change_role, obj)

    # --- foreign keys: only objects of the user's tenants ---
    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            related = db_field.related_model
            allowed = self.tenants(request, self.change_role)
            if related is Tenant:
                kwargs["queryset"] = allowed
            elif any(f.name == "tenant" for f in related._meta.get_fields()):
                kwargs["queryset"] = related._default_manager.filter(tenant__in=allowed)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def ensure_may_save(self, request: HttpRequest, obj: Model) -> None:
        """Defence in depth behind the limited choices: never save into a foreign tenant.

        Subclasses that save through a service instead of super().save_model call this first.
        """
        if request.user.is_superuser:
            return
        tenant = self._obj_tenant(obj)
        allowed = self.tenants(request, self.change_role)
        if tenant is None or not allowed.filter(pk=tenant.pk).exists():
            raise PermissionDenied("You cannot save objects for that tenant.")

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        self.ensure_may_save(request, obj)
        super().save_model(request, obj, form, change)


class TenantListFilter(admin.SimpleListFilter):
    """A tenant filter that lists only the tenants the user may see (no names leak)."""

    title = "tenant"
    parameter_name = "tenant"

    def __init__(self, request: HttpRequest, params: Any, model: Any, model_admin: Any) -> None:
        self.tenant_path = getattr(model_admin, "tenant_path", "tenant")
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        role = getattr(model_admin, "view_role", Role.VIEWER)
        return [(str(t.pk), t.name) for t in tenants_for(request.user, role).order_by("name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        return queryset.filter(**{f"{self.tenant_path}__pk": int(value)})
