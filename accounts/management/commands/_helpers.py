"""Shared bits for the onboarding commands: clean one-line errors, no half-created objects."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts.models import Tenant


def get_tenant(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise CommandError(f"unknown tenant {slug!r} (create it with: manage.py create_tenant)")
    return tenant


def validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        parts = []
        for field, errors in exc.message_dict.items():
            prefix = "" if field == "__all__" else f"{field}: "
            parts.append(prefix + " ".join(errors))
        return "; ".join(parts)
    return " ".join(exc.messages)
