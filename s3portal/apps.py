from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """Installs the tenant-aware admin site as Django's default admin site."""

    default_site = "s3portal.admin_site.PortalAdminSite"


class S3PortalConfig(AppConfig):
    """The project package as an app: it wires the others (demo seeding command)."""

    name = "s3portal"
    verbose_name = "s3portal"
