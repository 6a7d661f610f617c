from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.access import can_use_admin, current_tenant, user_role, visible_tenants


def tenant_context(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    tenant = current_tenant(request)
    return {
        "current_tenant": tenant,
        "current_role": user_role(user, tenant) if tenant else None,
        "my_tenants": visible_tenants(request),
        "can_use_admin": can_use_admin(user),
    }
