from django.apps import AppConfig


class CostConfig(AppConfig):
    """Storage cost: sizing (CloudWatch or listing), prices, estimates, waste, daily rollups."""

    name = "storage.cost"
    label = "cost"
    verbose_name = "Storage cost"
    default_auto_field = "django.db.models.BigAutoField"
