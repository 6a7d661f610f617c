"""TenantScopedAdmin: the base for every tenant-owned model in the admin.

Querysets, foreign-key and many-to-many choices, list filters and saves are limited to the tenants
where the user holds at least `view_role` (to see) or `change_role` (to add/change/delete).
Platform superusers see everything.

It fails closed: the model must declare `tenant_path` (see accounts.scoping), and every foreign
key or many-to-many field of it must point at a tenant-owned model (scoped by its own path), at
Tenant, at the user model (limited to members of the user's tenants) or at a model declared global
in GLOBAL_MODELS. Anything else is ImproperlyConfigured when the admin is registered (start-up),
so a new relation can never list another tenant's rows in a dropdown.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import JSONField, Model, QuerySet
from django.http import Http404, HttpRequest
from fernet_fields import EncryptedField

from accounts.access import role_at_least, tenant_ids_for, tenants_for, user_role
from accounts.models import Role, Tenant
from accounts.scoping import is_tenant_owned, scope_for_user, tenant_id_of, tenant_path_of

# Related models that are the same for every tenant (no tenant data in them).
GLOBAL_MODELS: set[str] = {"contenttypes.contenttype", "auth.permission"}


def _kind_of_related(model: type[Model]) -> str:
    label = model._meta.label_lower
    if model is Tenant:
        return "tenant"
    if label == settings.AUTH_USER_MODEL.lower():
        return "user"
    if is_tenant_owned(model):
        return "owned"
    if label in GLOBAL_MODELS:
        return "global"
    return "unknown"


def check_relations(model: type[Model]) -> None:
    """Refuse (ImproperlyConfigured) a model whose relations the admin could not scope."""
    tenant_path_of(model)  # raises for a model that is not tenant-owned
    for field in model._meta.get_fields():
        if not (field.many_to_one or field.many_to_many or field.one_to_one):
            continue
        if field.auto_created and not field.concrete:
            continue  # reverse relations: never form fields
        related = field.related_model
        if not isinstance(related, type) or _kind_of_related(related) == "unknown":
            raise ImproperlyConfigured(
                f"{model._meta.label}.{field.name} points at {getattr(related, '_meta', related)}, "
                "which is neither tenant-owned (tenant_path) nor declared global: "
                "TenantScopedAdmin cannot scope its choices."
            )


def scoped_choices(related: type[Model], user: Any, role: str) -> QuerySet[Any]:
    """The rows of `related` a non-superuser may pick in a form, given their tenants at `role`."""
    kind = _kind_of_related(related)
    manager = related._default_manager
    if kind == "tenant":
        return tenants_for(user, role)
    if kind == "owned":
        return scope_for_user(manager.all(), user, role)
    if kind == "user":
        return manager.filter(memberships__tenant_id__in=tenant_ids_for(user, role)).distinct()
    if kind == "global":
        return manager.all()
    return manager.none()


def defer_related_payloads(qs: QuerySet[Any], paths: Any) -> QuerySet[Any]:
    """Models joined for a list (`list_select_related`) are there to be named: never load
    (and decrypt) their encrypted fields, nor decode their JSON, for every row."""
    if not isinstance(paths, list | tuple):
        return qs
    deferred = []
    for path in paths:
        model = qs.model
        for hop in path.split("__"):
            model = model._meta.get_field(hop).related_model
        deferred += [
            f"{path}__{f.name}"
            for f in model._meta.concrete_fields
            if isinstance(f, EncryptedField | JSONField)
        ]
    return qs.defer(*deferred) if deferred else qs


class TenantScopedAdmin(admin.ModelAdmin):
    view_role: str = Role.OPERATOR
    change_role: str = Role.ADMIN

    def __init__(self, model: type[Model], admin_site: admin.AdminSite) -> None:
        check_relations(model)
        super().__init__(model, admin_site)

    @property
    def tenant_path(self) -> str:
        return tenant_path_of(self.model)

    # --- scoping helpers ---
    def tenants(self, request: HttpRequest, role: str | None = None) -> QuerySet[Tenant]:
        return tenants_for(request.user, role or self.view_role)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = scope_for_user(super().get_queryset(request), request.user, self.view_role)
        return defer_related_payloads(qs, self.list_select_related)

    def _may(self, request: HttpRequest, role: str, obj: Model | None) -> bool:
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(tenant_ids_for(request.user, role))
        tenant_id = tenant_id_of(obj)
        return tenant_id is not None and role_at_least(user_role(request.user, tenant_id), role)

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

    # --- relations: only objects of the user's tenants, whatever their path ---
    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            kwargs["queryset"] = scoped_choices(
                db_field.related_model, request.user, self.change_role
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            kwargs["queryset"] = scoped_choices(
                db_field.related_model, request.user, self.change_role
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def ensure_may_save(self, request: HttpRequest, obj: Model) -> None:
        """Defence in depth behind the limited choices: never save into a foreign tenant.

        Subclasses that save through a service instead of super().save_model call this first.
        """
        if request.user.is_superuser:
            return
        tenant_id = tenant_id_of(obj)
        if tenant_id is None or not role_at_least(
            user_role(request.user, tenant_id), self.change_role
        ):
            raise PermissionDenied("You cannot save objects for that tenant.")

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        self.ensure_may_save(request, obj)
        super().save_model(request, obj, form, change)


class TenantListFilter(admin.SimpleListFilter):
    """A tenant filter that lists only the tenants the user may see (no names leak)."""

    title = "tenant"
    parameter_name = "tenant"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        role = getattr(model_admin, "view_role", Role.VIEWER)
        return [(str(t.pk), t.name) for t in tenants_for(request.user, role).order_by("name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        path = tenant_path_of(queryset.model)
        return queryset.filter(**{f"{path}__pk" if path else "pk": int(value)})
