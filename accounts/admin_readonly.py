"""ReadOnlyScopedAdmin: tenant-scoped admin pages nobody edits (audit events, scan results).

Shared by accounts/admin_audit.py and storage/admin.py; it lives in accounts because it is a
TenantScopedAdmin (audit imports nothing from accounts).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.admin_base import TenantScopedAdmin
from accounts.roles import Role


class ReadOnlyScopedAdmin(TenantScopedAdmin):
    """Viewable (at `view_role`), never added, edited or deleted here, superusers included."""

    view_role = Role.OPERATOR

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
