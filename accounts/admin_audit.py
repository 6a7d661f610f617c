"""The AuditEvent admin: read-only for everybody, scoped to the tenants the user administers.

It lives in accounts (not audit) because it is built on TenantScopedAdmin and roles: audit
imports nothing from accounts. Registered from accounts/admin.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path

from accounts.admin_base import TenantListFilter
from accounts.admin_readonly import ReadOnlyScopedAdmin
from accounts.models import Role
from audit.export import csv_rows
from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyScopedAdmin):  # read-only for everybody
    view_role = Role.ADMIN
    list_display = ["created_at", "tenant_slug", "actor_name", "action", "target_label"]
    list_filter = [
        "action",
        TenantListFilter,
        "actor_name",
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["actor_name", "action", "target_label", "request_id"]
    date_hierarchy = "created_at"
    change_list_template = "admin/audit/auditevent/change_list.html"

    def get_urls(self) -> list[Any]:
        custom = [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_csv),
                name="audit_auditevent_export",
            )
        ]
        return custom + super().get_urls()

    def export_csv(self, request: HttpRequest) -> StreamingHttpResponse:
        """The filtered changelist (same filters and search as the page) as streamed CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request).order_by("id")
        response = StreamingHttpResponse(
            csv_rows(queryset.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        return response
