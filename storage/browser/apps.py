from django.apps import AppConfig


class BrowserConfig(AppConfig):
    """Operators browse and act on the objects of their tenant's buckets."""

    name = "storage.browser"
    label = "browser"
    verbose_name = "Object browser"
    default_auto_field = "django.db.models.BigAutoField"
