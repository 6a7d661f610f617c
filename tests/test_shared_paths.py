"""One way for each job: the portal, the admin and the CLI share the same functions."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from accounts import services
from audit.models import AuditEvent


def test_portal_fix_page_and_admin_action_apply_fixes_the_same_way() -> None:
    import storage.admin
    import storage.views.fixes
    from storage.remediation.apply import apply_fix

    assert storage.views.fixes.apply_fix is apply_fix
    assert storage.admin.apply_fix is apply_fix


@pytest.mark.django_db
def test_admin_save_goes_through_the_service(personas: Any, monkeypatch: Any) -> None:
    calls: list[tuple[Any, Any]] = []
    real = services.save_tenant

    def recording(actor: Any, tenant: Any) -> Any:
        calls.append((actor, tenant.name))
        return real(actor, tenant)

    monkeypatch.setattr(services, "save_tenant", recording)
    tenant = personas.tenant_a
    response = personas.client_for("alice").post(
        reverse("admin:accounts_tenant_change", args=[tenant.pk]), {"name": "Tenant A renamed"}
    )
    assert response.status_code == 302
    assert calls == [(personas.alice, "Tenant A renamed")]
    event = AuditEvent.objects.get(action="accounts.tenant.update")
    assert event.before["name"] == "Tenant A" and event.after["name"] == "Tenant A renamed"
