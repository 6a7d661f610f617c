from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from accounts import aws, services, trust
from accounts.admin_base import TenantListFilter, TenantScopedAdmin
from accounts.forms import AwsAccountForm, MembershipForm
from accounts.models import AuthMethod, AwsAccount, Membership, Role, Tenant
from accounts.verification import verify_account


class AuditedAdminMixin:
    """Every admin save and delete is audited in the admin's transaction (before and after)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        import audit

        before = None
        if change:
            # Read the stored row: the form has already changed the in-memory instance.
            before = type(obj)._default_manager.get(pk=obj.pk).audit_dict()
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        kind = {"awsaccount": "aws_account"}.get(obj._meta.model_name, obj._meta.model_name)
        audit.record(
            request.user,
            obj if isinstance(obj, Tenant) else obj.tenant,
            f"accounts.{kind}.{'update' if change else 'create'}",
            obj,
            before=before,
            after=obj.audit_dict(),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.delete_object(request.user, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            services.delete_object(request.user, obj)


@admin.register(Tenant)
class TenantAdmin(AuditedAdminMixin, TenantScopedAdmin):
    tenant_path = "pk"
    view_role = Role.ADMIN
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return qs
        return qs.filter(pk__in=self.tenants(request))

    def _obj_tenant(self, obj: Any) -> Tenant | None:
        return obj

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser  # only platform staff create tenants

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if request.user.is_superuser else ["slug"]


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, TenantScopedAdmin):
    form = MembershipForm
    view_role = Role.ADMIN
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", TenantListFilter]
    search_fields = ["user__username", "tenant__slug"]


@admin.register(AwsAccount)
class AwsAccountAdmin(AuditedAdminMixin, TenantScopedAdmin):
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
        "external_id",
        "trust_policy",
        "verified_account_id",
        "verified_arn",
        "last_verified_at",
        "last_error",
    ]
    actions = ["verify_selected"]

    class Media:
        # Shows the fields of the chosen method only (vendored, no CDN).
        js = ["s3portal/aws_account_form.js"]

    FIELD_ORDER = (
        "tenant",
        "name",
        "auth_method",
        "access_key_id",
        "secret_access_key",
        "secret_state",
        "role_arn",
        "role_session_name",
        "external_id",
        "trust_policy",
        "default_region",
        "endpoint_url",
        "verified_account_id",
        "verified_arn",
        "last_verified_at",
        "last_error",
    )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_fields(request, obj))
        if obj is None:
            # A new account has no stored secret, external ID or verification yet.
            fields = [f for f in fields if f in self.form.base_fields]
        if not self.has_change_permission(request, obj):
            # View-only pages render every field's value: the secret must never be one of them.
            fields = [f for f in fields if f != "secret_access_key"]
        rank = {name: i for i, name in enumerate(self.FIELD_ORDER)}
        return sorted(fields, key=lambda f: rank.get(f, len(rank)))

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[AwsAccountForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        # The form offers platform credentials only to those who may grant them.
        return type(form.__name__, (form,), {"actor": request.user})

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        if "tenant" not in initial and not request.user.is_superuser:
            tenants = list(self.tenants(request, self.change_role)[:2])
            if len(tenants) == 1:
                initial["tenant"] = tenants[0].pk  # the admin's only tenant, not "---------"
        return initial

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        # An account on the platform's credentials is the platform's to change.
        return obj is None or not (
            obj.uses_platform_credentials
            and not trust.may_grant_platform_credentials(request.user, obj.tenant)
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.ensure_may_save(request, obj)
        before = AwsAccount.objects.get(pk=obj.pk).audit_dict() if change else None
        services.save_aws_account(request.user, obj, before=before)  # 403 if not permitted
        result = verify_account(obj, actor=request.user, interactive=True)
        self._report(request, obj, result)

    def _report(self, request: HttpRequest, account: AwsAccount, result: Any) -> None:
        if result.ok:
            self.message_user(
                request, f"{account.name}: verified as {result.arn}", messages.SUCCESS
            )
        else:
            self.message_user(request, f"{account.name}: {result.error}", messages.ERROR)
        for warning in result.warnings:
            self.message_user(request, f"{account.name}: {warning}", messages.WARNING)

    @admin.display(description="stored secret")
    def secret_state(self, obj: AwsAccount) -> str:
        return "set (write-only, never shown)" if obj.has_secret else "not set"

    @admin.display(description="trust policy for the role")
    def trust_policy(self, obj: AwsAccount) -> str:
        if obj.pk is None or obj.auth_method != AuthMethod.ASSUME_ROLE or not obj.external_id:
            return "-"
        if obj.uses_platform_credentials:
            principal = aws.platform_principal_arn()
            hint = (
                "Put this trust policy on the role: only the portal's identity, and only with "
                "this account's external ID, may assume it."
            )
            if not principal:
                principal = "ARN-OF-THE-PORTAL-IDENTITY"
                hint += " (The portal's identity is unknown: set AWS_PLATFORM_PRINCIPAL_ARN.)"
        else:
            principal = "ARN-OF-THE-IAM-USER-OF-THE-ACCESS-KEY-ABOVE"
            hint = "The portal sends this external ID when it assumes the role; require it."
        return format_html(
            "<p>{}</p><pre>{}</pre>", hint, trust.trust_policy_json(principal, obj.external_id)
        )

    @admin.display(description="verification")
    def verification_state(self, obj: AwsAccount) -> str:
        if obj.last_error:
            return "failed"
        return "verified" if obj.last_verified_at else "not verified"

    @admin.action(description="Verify selected accounts now (STS GetCallerIdentity)")
    def verify_selected(self, request: HttpRequest, queryset: QuerySet[AwsAccount]) -> None:
        for account in queryset:
            if not self.has_change_permission(request, account):
                self.message_user(
                    request,
                    f"{account.name}: not verified here (you cannot change it); use Verify on "
                    "the dashboard or ask a platform administrator.",
                    messages.WARNING,
                )
                continue
            self._report(request, account, verify_account(account, actor=request.user))
