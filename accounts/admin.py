from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups

import accounts.admin_audit  # noqa: F401  (registers the AuditEvent admin)
from accounts import aws, invitations, services, trust
from accounts.admin_base import TenantListFilter, TenantScopedAdmin
from accounts.forms import AwsAccountForm, InvitationAdminForm, MembershipForm
from accounts.invitation_views import invited_message
from accounts.models import AuthMethod, AwsAccount, Invitation, Membership, Role, Tenant
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

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        # A read-only field is not in the form, so it cannot be pre-filled: Django's change
        # form would look it up and fail (KeyError "Key 'slug' not found in 'TenantForm'").
        readonly = set(self.get_readonly_fields(request, obj))
        prepopulated = super().get_prepopulated_fields(request, obj)
        return {field: source for field, source in prepopulated.items() if field not in readonly}


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin):
    form = MembershipForm
    view_role = Role.ADMIN
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", TenantListFilter]
    search_fields = ["user__username", "tenant__slug"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Adding a person directly (by username) is for platform superusers and the CLI only;
        # tenant admins invite by e-mail (Invitations) and the person accepts.
        return request.user.is_superuser


@admin.register(Invitation)
class InvitationAdmin(TenantScopedAdmin):
    """Invite by e-mail from the admin; the answer is the same for any address."""

    form = InvitationAdminForm
    view_role = Role.ADMIN
    list_display = ["email", "tenant", "role", "status", "invited_by", "created_at", "expires_at"]
    list_filter = ["role", TenantListFilter]
    search_fields = ["email", "tenant__slug"]
    actions = ["revoke_selected"]
    readonly_fields = [
        "status",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
        "expired_at",
    ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> _FieldGroups:
        if obj is None:
            return ["tenant", "email", "role"]
        return ["tenant", "email", "role", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return ["tenant", "email", "role", *self.readonly_fields]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an invitation is created, accepted, expired or revoked: never edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the record (and its audit trail) stays

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.ensure_may_save(request, obj)
        created = invitations.create_invitation(
            request.user,
            tenant=obj.tenant,
            email=obj.email,
            role=obj.role,
            accept_url_base=request.build_absolute_uri("/").rstrip("/"),
        )
        obj.pk = created.invitation.pk  # the admin's redirect and message use it
        obj.token_hash = created.invitation.token_hash
        obj.expires_at = created.invitation.expires_at

    def message_user(self, request: HttpRequest, message: Any, *args: Any, **kwargs: Any) -> None:
        url_name = request.resolver_match.url_name if request.resolver_match else None
        if url_name == "accounts_invitation_add":
            message = invited_message(request.POST.get("email", ""))
        super().message_user(request, message, *args, **kwargs)

    @admin.action(description="Revoke selected pending invitations")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        revoked = 0
        for invitation in queryset.select_related("tenant"):
            if self._may(request, self.change_role, invitation):
                revoked += invitations.revoke_invitation(request.user, invitation)
        self.message_user(request, f"Revoked {revoked} invitation(s).")


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

    def get_fields(self, request: HttpRequest, obj: Any = None) -> _FieldGroups:
        fields = list(super().get_fields(request, obj))
        if obj is None:
            # A new account has no stored secret, external ID or verification yet.
            fields = [f for f in fields if f in self.form.base_fields]
        if not self.has_change_permission(request, obj):
            # View-only pages render every field's value: the secret must never be one of them.
            fields = [f for f in fields if f != "secret_access_key"]
        rank: dict[object, int] = {name: i for i, name in enumerate(self.FIELD_ORDER)}
        return sorted(fields, key=lambda f: rank.get(f, len(rank)))

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[AwsAccountForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        # The form offers platform credentials only to those who may grant them.
        return type(form.__name__, (form,), {"actor": request.user})

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fixed = ["tenant"] if obj is not None else []  # services.TENANT_IS_FIXED
        return [*fixed, *self.readonly_fields]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = super().get_changeform_initial_data(request)
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
        actor = acting_user(request)
        services.save_aws_account(actor, obj, before=before)  # 403 if not permitted
        result = verify_account(obj, actor=actor, interactive=True)
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
            self._report(request, account, verify_account(account, actor=acting_user(request)))
