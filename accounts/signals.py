"""Login, failed-login and lockout audit events (no password, ever)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

import audit
from accounts import timezones
from accounts.models import Preferences


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit.record(user, None, "auth.login", user, target_label=user.get_username())


@receiver(user_logged_in)
def remember_time_zone(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Dates in the person's own time zone from the first page on (kept in the session)."""
    if request is not None and hasattr(request, "session"):
        prefs = Preferences.objects.filter(user=user).first()
        timezones.remember(request, prefs.time_zone if prefs else "")


@receiver(user_login_failed)
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # `credentials` is already scrubbed by Django, but keep only the username to be sure.
    username = str(credentials.get("username", ""))[:150]
    audit.record(
        None,
        None,
        "auth.login_failed",
        None,
        target_type="auth.user",
        target_label=username,
        actor_name=username or "anonymous",
        after={"username": username},
    )


@receiver(user_locked_out)
def audit_lockout(
    sender: Any,
    request: HttpRequest | None = None,
    username: str | None = None,
    ip_address: str | None = None,
    **kwargs: Any,
) -> None:
    """django-axes locked a login out (per user and address, see AXES_LOCKOUT_PARAMETERS)."""
    name = str(username or "")[:150]
    audit.record(
        None,
        None,
        "auth.lockout",
        None,
        target_type="auth.user",
        target_label=name,
        actor_name=name or "anonymous",
        after={"username": name, "ip_address": ip_address},
    )
