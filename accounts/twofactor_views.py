"""Two-factor pages: the code page after the password, enrolment, and the account security page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

import audit
from accounts import timezones
from accounts.forms import OTPTokenForm
from accounts.models import Preferences
from accounts.twofactor import (
    base32_key,
    has_totp,
    is_verified,
    new_recovery_codes,
    pending_totp_device,
    qr_svg,
    recovery_codes_left,
    remove_devices,
    safe_next,
    two_factor_required,
)


def _audit(request: HttpRequest, action: str, **after: object) -> None:
    user = request.user
    audit.record(user, None, action, user, target_label=user.get_username(), after=after or None)


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The second step of logging in: a TOTP code or a recovery code."""
    user = request.user
    next_url = safe_next(request)
    if is_verified(user):
        return redirect(next_url)
    if not user_has_device(user):
        return redirect("portal:otp_setup") if two_factor_required(user) else redirect(next_url)
    form = OTPTokenForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            device = match_token(user, form.cleaned_data["token"])
            if device is not None:
                otp_login(request, device)
                if isinstance(device, StaticDevice):
                    left = recovery_codes_left(user)
                    _audit(request, "auth.otp.recovery_code_used", codes_left=left)
                    messages.warning(
                        request,
                        f"You used a recovery code; {left} left. Make new ones on the "
                        "Security page if you are running low.",
                    )
                else:
                    _audit(request, "auth.otp.verified")
                return redirect(next_url)
            _audit(request, "auth.otp.failed")
        form.add_error("token", "That code is not valid (or you tried too often: wait a moment).")
        status = 400
    return render(
        request, "account/otp_verify.html", {"form": form, "next": next_url}, status=status
    )


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code (or type the key), confirm with a code."""
    user = request.user
    next_url = safe_next(request)
    if user_has_device(user) and not is_verified(user):
        # A password alone never replaces a second factor that is already set up.
        return redirect("portal:otp_verify")
    if has_totp(user):
        messages.info(request, "Two-factor authentication is already set up.")
        return redirect("portal:account_security")
    device = pending_totp_device(user)
    form = OTPTokenForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if device.verify_token(form.cleaned_data["token"]):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                codes = new_recovery_codes(user)
                otp_login(request, device)
                _audit(request, "auth.otp.enrolled", recovery_codes=len(codes))
                return render(
                    request,
                    "account/recovery_codes.html",
                    {"codes": codes, "next": next_url, "just_enrolled": True},
                )
        form.add_error("token", "That code does not match. Check the clock of your device.")
        status = 400
    return render(
        request,
        "account/otp_setup.html",
        {
            "form": form,
            "next": next_url,
            "qr_svg": qr_svg(device),
            "key": base32_key(device),
            "required": two_factor_required(user),
        },
        status=status,
    )


@login_required
def account_security(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "account/security.html",
        {
            "has_totp": has_totp(user),
            "required": two_factor_required(user),
            "codes_left": recovery_codes_left(user),
            "zones": timezones.zone_names(),
            "time_zone": request.session.get(timezones.SESSION_KEY, ""),
            "portal_time_zone": settings.TIME_ZONE,
        },
    )


@login_required
@require_POST
def set_time_zone(request: HttpRequest) -> HttpResponse:
    """The person's own time zone for every date the portal shows them (empty: the portal's)."""
    name = request.POST.get("time_zone", "").strip()
    if name and not timezones.is_zone(name):
        messages.error(request, f"Unknown time zone {name[:64]!r}: pick one from the list.")
        return redirect("portal:account_security")
    Preferences.objects.update_or_create(user=request.user, defaults={"time_zone": name})
    timezones.remember(request, name)
    messages.success(
        request, f"Dates are now shown in {name or settings.TIME_ZONE + ' (the portal default)'}."
    )
    return redirect("portal:account_security")


@login_required
@require_POST
def regenerate_recovery_codes(request: HttpRequest) -> HttpResponse:
    if not (has_totp(request.user) and is_verified(request.user)):
        messages.error(request, "Set up two-factor authentication first.")
        return redirect("portal:account_security")
    with transaction.atomic():
        codes = new_recovery_codes(request.user)
        _audit(request, "auth.otp.recovery_codes_regenerated", recovery_codes=len(codes))
    return render(
        request,
        "account/recovery_codes.html",
        {"codes": codes, "next": safe_next(request), "just_enrolled": False},
    )


@login_required
@require_POST
def remove_two_factor(request: HttpRequest) -> HttpResponse:
    user = request.user
    if two_factor_required(user):
        messages.error(
            request, "Two-factor authentication is required for your account: it stays on."
        )
        return redirect("portal:account_security")
    with transaction.atomic():
        remove_devices(user)
        _audit(request, "auth.otp.removed")
    messages.success(request, "Two-factor authentication is off.")
    return redirect("portal:account_security")
