from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    """Scoped credentials: IAM users with access keys, and STS sessions, per tenant."""

    name = "storage.credentials"
    label = "credentials"
    verbose_name = "Credentials"
    default_auto_field = "django.db.models.BigAutoField"
