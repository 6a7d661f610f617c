"""The portal's user type, and requests whose user is logged in (for type checking).

The project uses Django's own user model (AUTH_USER_MODEL is not set), so an actor is a
``django.contrib.auth.models.User``. Views behind ``login_required`` / ``tenant_required``
annotate their request as :class:`AuthenticatedRequest`; admin methods (whose signature the
admin fixes) call :func:`acting_user`.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

__all__ = ["AuthenticatedRequest", "User", "acting_user"]


class AuthenticatedRequest(HttpRequest):
    """A request behind a login check: its user is a real, logged-in user."""

    user: User


def acting_user(request: HttpRequest) -> User:
    """request.user, known to be logged in (the admin and the login-checked views)."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Log in first.")
    return user
