from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups

import accounts.admin_audit  # noqa: F401  (registers the AuditEvent admin)
from accounts import services
from accounts.admin_base import TenantListFilter, TenantScopedAdmin
from accounts.forms import AwsAccountForm, MembershipForm
from accounts.models import AwsAccount, Membership, Role, Tenant
from accounts.users import acting_user
from accounts.verification import verify_account


class AuditedAdminMixin(TenantScopedAdmin):
    """Admin saves and deletes go through accounts.services, like pages and the CLI (validated,
    audited with before and after, in the admin's transaction)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.ensure_may_save(request, obj)
        actor = acting_user(request)
        if isinstance(obj, Tenant):
            services.save_tenant(actor, obj)
        elif isinstance(obj, Membership):
            services.save_membership(actor, obj)
        else:
            services.save_aws_account(actor, obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.delete_object(acting_user(request), obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            services.delete_object(acting_user(request), obj)


@admin.register(Tenant)
class TenantAdmin(AuditedAdminMixin):
    view_role = Role.ADMIN
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser  # only platform staff create tenants

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if request.user.is_superuser else ["slug"]


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin):
    form = MembershipForm
    view_role = Role.ADMIN
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", TenantListFilter]
    search_fields = ["user__username", "tenant__slug"]


@admin.register(AwsAccount)
class AwsAccountAdmin(AuditedAdminMixin):
    form = AwsAccountForm
    view_role = Role.OPERATOR  # operators see accounts (for scans) but never change keys
    list_display = [
        "name",
        "tenant",
        "auth_method",
        "default_region",
        "verification_state",
        "verified_account_id",
        "last_verified_at",
    ]
    list_filter = ["auth_method", TenantListFilter, "default_region"]
    search_fields = ["name", "verified_account_id", "tenant__slug"]
    readonly_fields = [
        "secret_state",
        "verified_account_id",
        "verified_arn",
        "last_verified_at",
        "last_error",
    ]
    actions = ["verify_selected"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> _FieldGroups:
        fields = list(super().get_fields(request, obj))
        if not self.has_change_permission(request, obj):
            # View-only pages render every field's value: the secret must never be one of them.
            fields = [f for f in fields if f != "secret_access_key"]
        return fields

    @admin.display(description="secret access key")
    def secret_state(self, obj: AwsAccount) -> str:
        return "set (write-only, never shown)" if obj.has_secret else "not set"

    @admin.display(description="verification")
    def verification_state(self, obj: AwsAccount) -> str:
        if obj.last_error:
            return "failed"
        return "verified" if obj.last_verified_at else "not verified"

    @admin.action(description="Verify selected accounts now (STS GetCallerIdentity)")
    def verify_selected(self, request: HttpRequest, queryset: QuerySet[AwsAccount]) -> None:
        for account in queryset:
            if not self.has_change_permission(request, account):
                continue
            result = verify_account(account, actor=acting_user(request))
            if result.ok:
                self.message_user(request, f"{account.name}: verified as {result.arn}")
            else:
                self.message_user(request, f"{account.name}: {result.error}", messages.ERROR)
