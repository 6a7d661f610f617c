from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Tenants and AWS accounts"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401  (login audit receivers)
