"""Admin for file spaces (set by tenant admins) and stored files (restore, retry backup)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html

from accounts.access import tenants_for
from accounts.admin_base import TenantListFilter, TenantScopedAdmin
from accounts.models import Role
from accounts.users import acting_user

from . import services
from .forms import FileSpaceAdminForm
from .models import BackupState, FileSpace, StoredFile


@admin.register(FileSpace)
class FileSpaceAdmin(TenantScopedAdmin):
    form = FileSpaceAdminForm
    view_role = Role.ADMIN
    change_role = Role.ADMIN
    list_display = [
        "tenant",
        "bucket",
        "prefix",
        "account",
        "backup_bucket",
        "backup_account",
        "max_size",
        "delete_retention_days",
        "browser_can_reach_s3",
    ]
    list_filter = [TenantListFilter]
    search_fields = ["tenant__slug", "bucket", "backup_bucket"]

    @admin.display(description="max file size", ordering="max_file_size")
    def max_size(self, obj: FileSpace) -> str:
        return filesizeformat(obj.max_file_size)

    def save_model(  # type: ignore[override]  # this admin only ever saves FileSpace rows
        self, request: HttpRequest, obj: FileSpace, form: Any, change: bool
    ) -> None:
        self.ensure_may_save(request, obj)
        services.save_file_space(acting_user(request), obj)

    def delete_model(self, request: HttpRequest, obj: FileSpace) -> None:
        services.delete_file_space(acting_user(request), obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FileSpace]) -> None:
        for space in queryset:
            self.delete_model(request, space)


class OwnerFilter(admin.SimpleListFilter):
    """Owners of files in the tenants the user may see (no other tenant's names leak)."""

    title = "owner"
    parameter_name = "owner"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        users = (
            get_user_model()
            .objects.filter(stored_files__tenant__in=tenants_for(request.user, Role.ADMIN))
            .distinct()
            .order_by("username")
        )
        return [(str(u.pk), u.get_username()) for u in users]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        return queryset.filter(owner_id=int(value))


class DeletedFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "active"), ("deleted", "deleted"), ("expired", "expired")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "active":
            return queryset.filter(deleted_at__isnull=True)
        if value == "deleted":
            return queryset.filter(deleted_at__isnull=False, delete_reason="user")
        if value == "expired":
            return queryset.filter(deleted_at__isnull=False, delete_reason="expired")
        return queryset


@admin.register(StoredFile)
class StoredFileAdmin(TenantScopedAdmin):
    """Files are read-only here; changes go through the portal or the actions (all audited)."""

    view_role = Role.ADMIN
    change_role = Role.ADMIN
    list_display = [
        "original_name",
        "owner",
        "tenant",
        "size_label",
        "uploaded_at",
        "expires_on",
        "status",
        "backup",
        "backup_attempts",
    ]
    list_filter = ["backup_state", DeletedFilter, OwnerFilter, TenantListFilter]
    search_fields = ["original_name", "key"]
    list_select_related = ["owner", "tenant"]
    actions = ["restore_from_backup", "retry_backup_now"]
    date_hierarchy = "uploaded_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in StoredFile._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # files arrive through uploads only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deletes go through the portal (primary now, backup after retention)

    @admin.display(description="size", ordering="size")
    def size_label(self, obj: StoredFile) -> str:
        return filesizeformat(obj.size)

    @admin.display(description="status")
    def status(self, obj: StoredFile) -> str:
        if obj.deleted_at is None:
            return "active"
        if obj.delete_reason == "expired":
            return "expired"
        if obj.restorable:
            return f"deleted (restorable until {obj.purge_backup_after:%Y-%m-%d})"
        return "deleted"

    @admin.display(description="backup", ordering="backup_state")
    def backup(self, obj: StoredFile) -> str:
        css_by_state: dict[str, str] = {BackupState.COPIED: "good", BackupState.FAILED: "bad"}
        css = css_by_state.get(obj.backup_state, "warn")
        label = obj.get_backup_state_display()
        if obj.backup_deleted_at:
            label += " (purged)"
        return format_html(
            '<span class="backup-{}" title="{}">{}</span>', css, obj.backup_last_error, label
        )

    @admin.action(description="Restore from backup", permissions=["change"])
    def restore_from_backup(self, request: HttpRequest, queryset: QuerySet[StoredFile]) -> None:
        for stored in queryset.select_related("tenant", "owner", "account", "backup_account"):
            if not self.has_change_permission(request, stored):
                continue
            try:
                services.restore_file(acting_user(request), stored)
            except services.FilesError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, f"Restored {stored.original_name}.", messages.SUCCESS)

    @admin.action(description="Retry backup now", permissions=["change"])
    def retry_backup_now(self, request: HttpRequest, queryset: QuerySet[StoredFile]) -> None:
        started = 0
        for stored in queryset.select_related("tenant"):
            if self.has_change_permission(request, stored) and services.retry_backup(
                acting_user(request), stored
            ):
                started += 1
        self.message_user(request, f"Backup started again for {started} file(s).")
