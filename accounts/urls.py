from django.urls import path

from accounts import views

app_name = "portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tenant/switch/", views.switch_tenant, name="switch_tenant"),
    path("aws-accounts/<int:pk>/verify/", views.verify_aws_account_view, name="verify_account"),
]
