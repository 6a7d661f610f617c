from django.urls import path

from . import views

app_name = "cost"

urlpatterns = [
    path("", views.tenant_cost, name="tenant"),
    path("export.csv", views.tenant_cost_csv, name="tenant_csv"),
    path("trend.csv", views.tenant_trend_csv, name="trend_csv"),
    path("accounts/<int:pk>/measure/", views.request_measure, name="measure"),
    path("platform/", views.platform_cost, name="platform"),
    path("platform/export.csv", views.platform_cost_csv, name="platform_csv"),
]
