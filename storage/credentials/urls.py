from django.urls import path

from . import views

app_name = "credentials"

urlpatterns = [
    path("", views.credential_list, name="list"),
    path("issue/", views.issue_view, name="issue"),
    path("<int:pk>/", views.credential_detail, name="detail"),
    path("<int:pk>/rotate/", views.rotate_view, name="rotate"),
    path("<int:pk>/revoke/", views.revoke_view, name="revoke"),
]
