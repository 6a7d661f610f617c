"""Tenant roles and their order. Role checks compare ranks; nothing else knows the numbers."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Tenant admin"
    OPERATOR = "operator", "Operator"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


# Higher number = more power.
ROLE_RANK: dict[str, int] = {Role.VIEWER: 1, Role.MEMBER: 2, Role.OPERATOR: 3, Role.ADMIN: 4}


def role_at_least(role: str | None, minimum: str) -> bool:
    return role is not None and ROLE_RANK.get(role, 0) >= ROLE_RANK[minimum]


def roles_at_least(minimum: str) -> list[str]:
    """Every role with at least `minimum`'s power (for `role__in` filters)."""
    return [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK[minimum]]
