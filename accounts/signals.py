"""Login, logout and failed-login audit events (no password, ever)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

import audit


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit.record(user, None, "auth.login", user, target_label=user.get_username())


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
