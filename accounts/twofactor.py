"""Two-factor authentication (TOTP with django-otp): who needs it, and the gate that enforces it.

After the password, a user with a confirmed device must enter a code before anything else (the
admin included); a user who is required to use 2FA and has no device is sent to enrolment.
Required of: platform superusers when OTP_REQUIRED_FOR_SUPERUSERS is on (the default outside
DEBUG), and the admins and operators of every tenant with `require_2fa`.
"""

from __future__ import annotations

import re
from base64 import b32encode
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import qrcode
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from qrcode.image.svg import SvgPathImage

from accounts.access import ADMIN_ROLES, tenant_roles, visible_tenants
from accounts.models import Membership

RECOVERY_DEVICE_NAME = "recovery codes"
TOTP_DEVICE_NAME = "authenticator app"


def two_factor_required(user: Any, request: HttpRequest | None = None) -> bool:
    """Superusers (by the setting) and admins/operators of a tenant with `require_2fa`.

    With the request, the answer comes from the user's roles and tenants that the request reads
    anyway (no query of its own).
    """
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser and settings.OTP_REQUIRED_FOR_SUPERUSERS:
        return True
    if request is None:
        return Membership.objects.filter(
            user=user, role__in=ADMIN_ROLES, tenant__require_2fa=True
        ).exists()
    roles = tenant_roles(user)
    return any(
        tenant.require_2fa and roles.get(tenant.pk) in ADMIN_ROLES
        for tenant in visible_tenants(request)
    )


# Set in the session once a half-logged-in user is known to have no device (one check per
# session, not two queries per request); the enrolment and removal pages drop it.
NO_DEVICE_SESSION_KEY = "s3portal_2fa_no_device"


def forget_device_state(request: HttpRequest) -> None:
    request.session.pop(NO_DEVICE_SESSION_KEY, None)


def is_verified(user: Any) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def safe_next(request: HttpRequest, default: str = "") -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default or reverse("portal:dashboard")


def _exempt_paths() -> tuple[str, ...]:
    return (
        reverse("logout"),
        reverse("portal:otp_verify"),
        reverse("portal:otp_setup"),
        "/" + settings.STATIC_URL.lstrip("/"),
        reverse("healthz"),
    )


class TwoFactorMiddleware:
    """After django_otp's OTPMiddleware: no page for a half-logged-in user but the 2FA ones."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not is_verified(user)
            and not request.path.startswith(_exempt_paths())
        ):
            if not request.session.get(NO_DEVICE_SESSION_KEY):
                if user_has_device(user):
                    return self._send_to(request, "portal:otp_verify", "enter your two-factor code")
                request.session[NO_DEVICE_SESSION_KEY] = True
            if two_factor_required(user, request):
                return self._send_to(request, "portal:otp_setup", "set up two-factor first")
        return self.get_response(request)

    @staticmethod
    def _send_to(request: HttpRequest, url_name: str, why: str) -> HttpResponse:
        if "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"error": f"Two-factor authentication needed: {why}."}, status=403)
        query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        return redirect(reverse(url_name) + (f"?{query}" if query else ""))


# --- devices ---
def pending_totp_device(user: Any) -> TOTPDevice:
    """The user's unconfirmed TOTP device being enrolled (one at a time), made if missing."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def base32_key(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode().rstrip("=")


def qr_svg(device: TOTPDevice) -> SafeString:
    """The enrolment QR code as inline SVG, drawn here (no CDN, no image request).

    One <path> in the SVG namespace (qrcode's SvgPathImage): the "svg:rect" elements of its
    default SVG factory are not drawn when the SVG sits inside an HTML page.
    """
    image = qrcode.make(device.config_url, image_factory=SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    # Scale with its box (the viewBox stays), and say what it is to screen readers.
    svg = re.sub(
        r'width="[^"]*" height="[^"]*"',
        'width="100%" role="img" aria-label="QR code for your authenticator app"',
        svg,
        count=1,
    )
    return mark_safe(svg)  # noqa: S308 - drawn by qrcode from our own otpauth:// URL


def new_recovery_codes(user: Any) -> list[str]:
    """Replace the user's recovery codes (django-otp static tokens) with a fresh set."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.OTP_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def has_totp(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def remove_devices(user: Any) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
