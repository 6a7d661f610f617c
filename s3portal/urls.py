from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from s3portal import demo_mail


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by e-mail: Django's own views, the portal's templates (registration/).
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("mail/", demo_mail.mail_page, name="demo_mail"),
    path("files/", include("storage.files.urls")),
    path("buckets/", include("storage.urls")),
    path("", include("lifecycle.urls")),  # /buckets/<id>/lifecycle/..., /lifecycle/templates/...
    path("credentials/", include("storage.credentials.urls")),
    path("buckets/", include("storage.browser.urls")),
    path("cost/", include("storage.cost.urls")),
    path("", include("accounts.urls")),
]
