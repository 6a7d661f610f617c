from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path

from accounts.admin_base import TenantListFilter, TenantScopedAdmin
from accounts.models import Role
from audit.models import AuditEvent

CSV_COLUMNS = [
    "id",
    "created_at",
    "tenant_slug",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "request_id",
    "client_ip",
    "before",
    "after",
    "prev_hash",
    "hash",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_safe(value: Any) -> str:
    # Documents (before/after) as JSON, never Python's repr of a dict.
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, default=str)
    # Cells starting with = + - @ are formulas in spreadsheets (CSV injection).
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


@admin.register(AuditEvent)
class AuditEventAdmin(TenantScopedAdmin):
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return qs
        # Tenant admins: their tenants' events only (not platform-level ones like logins).
        return qs.filter(tenant_id__in=self.tenants(request).values("pk"))

    def _obj_tenant(self, obj: Any) -> Any:
        from accounts.models import Tenant

        return Tenant.objects.filter(pk=obj.tenant_id).first()

    # Read-only for everybody, superusers included.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

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
        from django.core.exceptions import PermissionDenied

        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request).order_by("id")

        def rows() -> Iterator[str]:
            writer = csv.writer(_Echo())
            yield writer.writerow(CSV_COLUMNS)
            for event in queryset.iterator(chunk_size=2000):
                yield writer.writerow([_csv_safe(getattr(event, c)) for c in CSV_COLUMNS])

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        return response
