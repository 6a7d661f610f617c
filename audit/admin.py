from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
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


def _first_line(exc: Exception) -> str:
    text = " ".join(str(a) for a in exc.args) if exc.args else exc.__class__.__name__
    # Django wraps the ValidationError list: keep it short and free of markup.
    return text.replace("[", "").replace("]", "").replace("'", "")[:200] or "bad value"


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_safe(value: Any) -> str:
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

    def export_csv(self, request: HttpRequest) -> HttpResponse:
        """The filtered changelist (same filters and search as the page) as streamed CSV."""
        from django.core.exceptions import PermissionDenied

        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
            queryset = changelist.get_queryset(request).order_by("id")
        except IncorrectLookupParameters as exc:
            # The change list answers a bad filter with a redirect to ?e=1; a download cannot
            # show a page, so it says what is wrong instead of failing with a 500.
            return HttpResponseBadRequest(
                f"The filter in this export link is not valid ({_first_line(exc)}). "
                "Open the audit list, filter there, and export again.",
                content_type="text/plain; charset=utf-8",
            )

        def rows() -> Iterator[str]:
            writer = csv.writer(_Echo())
            yield writer.writerow(CSV_COLUMNS)
            for event in queryset.iterator(chunk_size=2000):
                yield writer.writerow([_csv_safe(getattr(event, c)) for c in CSV_COLUMNS])

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        return response
