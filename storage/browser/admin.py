"""Admin: browser settings (tenant admins), expiries and share links (read-only records)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest

import audit
from accounts.admin_base import TenantScopedAdmin

from .models import BrowserSettings, ObjectExpiry, ShareLink


@admin.register(BrowserSettings)
class BrowserSettingsAdmin(TenantScopedAdmin):
    list_display = ("tenant", "members_may_browse", "max_share_seconds", "browser_can_reach_s3")
    fields = ("tenant", "members_may_browse", "max_share_seconds", "browser_can_reach_s3")

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        assert isinstance(obj, BrowserSettings)  # this admin is registered for BrowserSettings
        with transaction.atomic():
            before = BrowserSettings.objects.get(pk=obj.pk).audit_dict() if obj.pk else None
            super().save_model(request, obj, form, change)
            audit.record(
                request.user,
                obj.tenant,
                "browser.settings.update",
                obj,
                before=before,
                after=obj.audit_dict(),
            )


class _ReadOnly(TenantScopedAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ObjectExpiry)
class ObjectExpiryAdmin(_ReadOnly):
    list_display = ("key", "bucket", "version_id", "expires_on", "state", "created_by")
    list_filter = ("state",)
    search_fields = ("key",)


@admin.register(ShareLink)
class ShareLinkAdmin(_ReadOnly):
    list_display = ("key", "bucket", "version_id", "expires_at", "issued_by", "issued_at")
    search_fields = ("key",)
