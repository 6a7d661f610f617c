from django.apps import AppConfig


class FilesConfig(AppConfig):
    """End-user files: uploads streamed to S3, downloads, expiry and server-side backups."""

    name = "storage.files"
    label = "files"
    verbose_name = "Files"
    default_auto_field = "django.db.models.BigAutoField"
