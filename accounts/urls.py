from django.urls import path

from accounts import invitation_views, twofactor_views, views

app_name = "portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tenant/switch/", views.switch_tenant, name="switch_tenant"),
    path("aws-accounts/<int:pk>/verify/", views.verify_aws_account_view, name="verify_account"),
    # Members and invitations
    path("members/", invitation_views.members, name="members"),
    path("invitations/<int:pk>/revoke/", invitation_views.revoke, name="invitation_revoke"),
    path("invitations/accept/<str:token>/", invitation_views.accept, name="invitation_accept"),
    # Two-factor authentication
    path("account/security/", twofactor_views.account_security, name="account_security"),
    path("account/time-zone/", twofactor_views.set_time_zone, name="set_time_zone"),
    path("account/2fa/verify/", twofactor_views.otp_verify, name="otp_verify"),
    path("account/2fa/setup/", twofactor_views.otp_setup, name="otp_setup"),
    path(
        "account/2fa/recovery-codes/",
        twofactor_views.regenerate_recovery_codes,
        name="otp_recovery_codes",
    ),
    path("account/2fa/remove/", twofactor_views.remove_two_factor, name="otp_remove"),
]
