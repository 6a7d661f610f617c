from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """Installs the tenant-aware admin site as Django's default admin site."""

    default_site = "s3portal.admin_site.PortalAdminSite"
