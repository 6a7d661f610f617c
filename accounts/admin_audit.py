"""The AuditEvent admin: read-only for everybody, scoped to the tenants the user administers.

It lives in accounts (not audit) because it is built on TenantScopedAdmin and roles: audit
imports nothing from accounts. Registered from accounts/admin.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import path

from accounts.admin_base import TenantListFilter
from accounts.admin_readonly import ReadOnlyScopedAdmin
from accounts.models import Role
from audit.export import csv_rows
from audit.models import AuditEvent


def _first_line(exc: Exception) -> str:
    text = " ".join(str(a) for a in exc.args) if exc.args else exc.__class__.__name__
    # Django wraps the ValidationError list: keep it short and free of markup.
    return text.replace("[", "").replace("]", "").replace("'", "")[:200] or "bad value"


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

    def export_csv(self, request: HttpRequest) -> HttpResponseBase:
        """The filtered changelist (same filters and search as the page) as streamed CSV."""
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
        response = StreamingHttpResponse(
            csv_rows(queryset.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        return response
