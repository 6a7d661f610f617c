"""The admin site: platform superusers, and tenant admins/operators limited to their tenants."""

from django.contrib import admin
from django.http import HttpRequest

from accounts.access import can_use_admin


class PortalAdminSite(admin.AdminSite):
    site_header = "s3portal administration"
    site_title = "s3portal admin"
    index_title = "Operations"

    def has_permission(self, request: HttpRequest) -> bool:
        # Tenant admins and operators use the admin without is_staff; members and viewers never.
        return can_use_admin(request.user)
