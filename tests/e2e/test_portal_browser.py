"""In a real browser: log in, see the tenant dashboard, switch tenant, log out."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import AwsAccount, Membership, Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_dashboard_switch_and_logout(live_server: Any, page: Any, personas: Any) -> None:
    Membership.objects.create(user=personas.alice, tenant=personas.tenant_b, role=Role.VIEWER)
    AwsAccount.objects.create(
        tenant=personas.tenant_a, name="a-prod", last_error="AWS rejected the secret access key"
    )
    AwsAccount.objects.create(tenant=personas.tenant_b, name="b-analytics")

    login(page, live_server, "alice", "wrong password")
    assert page.locator(".error").inner_text().startswith("Your username and password")

    login(page, live_server, "alice", PASSWORD)
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "Tenant A"
    assert "a-prod" in page.locator("#aws-accounts").inner_text()
    assert "failed" in page.locator("#aws-accounts").inner_text()
    assert "b-analytics" not in page.content()

    # The switcher is a plain form: choose, then Switch (no auto-submit on change).
    page.select_option("#tenant-select", "tenant-b")
    with page.expect_navigation():
        page.click("#tenant-switch")
    assert page.locator("h1").inner_text() == "Tenant B"
    assert "b-analytics" in page.locator("#aws-accounts").inner_text()
    assert "viewer" in page.locator(".whoami").inner_text()

    page.click("text=Log out")
    page.wait_for_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
