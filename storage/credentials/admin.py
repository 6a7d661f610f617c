"""Admin for credential records: tenant-scoped, read-only apart from revoke; no secrets exist."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin_base import TenantListFilter, TenantScopedAdmin
from audit import record

from . import lifecycle
from .issuing import CredentialError
from .models import CredentialSettings, IssuedCredential, KeyRotation


@admin.register(IssuedCredential)
class IssuedCredentialAdmin(TenantScopedAdmin):
    list_display = (
        "id",
        "tenant",
        "kind",
        "access",
        "access_key_id",
        "state",
        "expires_at",
        "last_used_at",
        "alert",
        "issuer_name",
    )
    list_filter = (TenantListFilter, "kind", "state", "access", "alert")
    search_fields = ("access_key_id", "iam_user_name", "purpose", "issuer_name")
    actions = ["revoke_selected"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued through the portal or manage.py credentials, never typed in

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the record stays for the audit

    @admin.action(description="Revoke the selected credentials (delete their IAM users)")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[IssuedCredential]) -> None:
        revoked = 0
        for credential in queryset.select_related("account", "tenant"):
            self.ensure_may_save(request, credential)
            try:
                lifecycle.revoke(credential, actor=request.user, reason="revoked in the admin")
                revoked += 1
            except CredentialError as exc:
                self.message_user(request, f"#{credential.pk}: {exc}", messages.ERROR)
        self.message_user(request, f"Revoked {revoked} credential(s).", messages.SUCCESS)


@admin.register(KeyRotation)
class KeyRotationAdmin(TenantScopedAdmin):
    list_display = (
        "id",
        "credential",
        "old_access_key_id",
        "new_access_key_id",
        "grace_until",
        "state",
    )
    list_filter = ("state",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(CredentialSettings)
class CredentialSettingsAdmin(TenantScopedAdmin):
    list_display = (
        "tenant",
        "members_may_issue",
        "member_max_lifetime_days",
        "max_key_age_days",
        "unused_after_days",
        "reminder_days",
    )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.ensure_may_save(request, obj)
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            fields = [f.name for f in obj._meta.fields if f.name not in ("id", "tenant")]
            record(
                request.user,
                obj.tenant,
                "credentials.settings.update" if change else "credentials.settings.create",
                obj,
                after={name: getattr(obj, name) for name in fields},
            )
