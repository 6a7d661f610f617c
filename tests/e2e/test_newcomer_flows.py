"""In a real browser (issue 8 items 3, 12, 21, 25): a missing object is a portal page, a
finding is accepted with a reason and an expiry, a refused expiry shows beside its field, and
the admin wears the portal's header and tenant switcher."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import AwsAccount, Membership, Role
from audit.models import AuditEvent
from storage.models import Bucket, Finding
from tests.conftest import PASSWORD
from tests.e2e.conftest import login
from tests.files_fixtures import *  # noqa: F403
from tests.files_fixtures import BUCKET_A, stored_file

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_download_of_a_missing_object_is_a_portal_page(
    live_server: Any, page: Any, personas: Any, space_a: Any, s3_a: Any, enqueued: list[int]
) -> None:
    stored = stored_file(space_a, personas.bob, "gone.pdf", b"was here")
    s3_a.delete_object(Bucket=BUCKET_A, Key=stored.key)
    login(page, live_server, "bob", PASSWORD)
    page.wait_for_selector("h1")
    page.goto(f"{live_server.url}/files/{stored.pk}/download/")
    assert page.locator("h1").inner_text() == "Not found"
    message = page.locator("#files-error .error").inner_text()
    assert message.startswith("The file 'gone.pdf' is missing from storage")
    assert "<Error>" not in page.content() and "NoSuchKey" not in page.content()
    assert page.locator("header.topbar").count() == 1  # still inside the portal


def test_an_operator_accepts_a_finding_with_a_reason_and_an_expiry(
    live_server: Any, page: Any, personas: Any
) -> None:
    account = AwsAccount.objects.create(tenant=personas.tenant_a, name="prod")
    bucket = Bucket.objects.create(account=account, name="website-bucket")
    finding = Finding.objects.create(
        bucket=bucket, check_name="policy", severity="high", detail="public by policy"
    )
    until = (timezone.localdate() + timedelta(days=90)).isoformat()
    login(page, live_server, "oscar", PASSWORD)
    page.wait_for_selector("h1")
    page.click("header nav >> text=Findings")
    row = page.locator(f'tr[data-finding="{finding.pk}"]')
    row.locator("summary", has_text="Accept or suppress").click()
    row.locator("select[name=kind]").select_option("accepted")
    row.locator("input[name=reason]").fill("static website, public on purpose")
    row.locator("input[name=until]").fill(until)
    with page.expect_navigation():
        row.locator("button", has_text="Save decision").click()
    assert f"risk accepted until {until}" in page.locator(".messages").inner_text()
    assert page.locator(f'tr[data-finding="{finding.pk}"]').count() == 0  # off the open list
    page.select_option("#finding-filters select[name=state]", "suppressed")
    with page.expect_navigation():
        page.click("#finding-filters button[type=submit]")
    state = page.locator(f'tr[data-finding="{finding.pk}"] .finding-state').inner_text()
    assert "risk accepted until" in state and "static website, public on purpose" in state
    assert AuditEvent.objects.filter(action="storage.finding.suppress").count() == 1


def test_a_past_expiry_is_refused_beside_its_field(
    live_server: Any, page: Any, personas: Any, space_a: Any, enqueued: list[int]
) -> None:
    stored = stored_file(space_a, personas.bob, "notes.txt", b"1")
    login(page, live_server, "bob", PASSWORD)
    page.wait_for_selector("h1")
    page.goto(f"{live_server.url}/files/")
    row = page.locator(f'tr[data-file-id="{stored.pk}"]')
    row.locator("input[name=expires_on]").fill("2001-02-03")
    with page.expect_navigation():
        row.locator("button", has_text="Set").click()
    assert page.locator("h1").inner_text() == "Files"
    field_error = page.locator(f"#expiry-error-{stored.pk}").inner_text()
    assert field_error == "expires_on 2001-02-03 is in the past; choose today or a later date."
    field = page.locator(f'tr[data-file-id="{stored.pk}"] input[name=expires_on]')
    assert field.get_attribute("aria-invalid") == "true"


def test_the_admin_has_the_portal_header_and_tenant_switcher(
    live_server: Any, page: Any, personas: Any
) -> None:
    Membership.objects.create(user=personas.alice, tenant=personas.tenant_b, role=Role.ADMIN)
    login(page, live_server, "alice", PASSWORD)
    page.wait_for_selector("h1")
    page.click("header nav >> text=Admin")
    page.wait_for_selector("#content")
    header = page.locator("header.topbar")
    assert header.locator(".brand").inner_text() == "s3portal"
    assert header.locator("nav a[aria-current=page]").inner_text() == "Admin"
    assert header.locator("nav >> text=Findings").count() == 1
    colour = header.evaluate("h => getComputedStyle(h).backgroundColor")
    assert colour == "rgb(13, 27, 42)"  # the portal's #0d1b2a
    page.select_option("#tenant-select", "tenant-b")
    with page.expect_navigation():
        page.click("#tenant-switch")
    assert page.url == f"{live_server.url}/admin/"  # stays in the admin
    assert "Switched to Tenant B." in page.content()
