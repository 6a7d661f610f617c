"""In a real browser: an operator finds a public bucket, reviews the dry run of "block public
access", applies it, and sees the bucket rescanned as not public. And a scan's live progress."""

from __future__ import annotations

import json
from typing import Any

import pytest

from audit.models import AuditEvent
from storage.models import Bucket, ScanRun
from tests.conftest import PASSWORD
from tests.e2e.conftest import login
from tests.scan_helpers import ALL_FLAGS, full_scan

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.scan_fixtures"]


def test_operator_blocks_public_access_after_a_dry_run(
    live_server: Any, page: Any, personas: Any, verified_account: Any, make_bucket: Any, s3: Any
) -> None:
    make_bucket("e2e-public", acl="public-read")
    make_bucket("e2e-private", pab=ALL_FLAGS)
    full_scan(verified_account)

    login(page, live_server, "oscar", PASSWORD)
    page.wait_for_selector("h1")
    page.goto(f"{live_server.url}/buckets/?public=yes")
    table = page.locator("#bucket-table")
    assert "e2e-public" in table.inner_text()
    assert "e2e-private" not in table.inner_text()
    assert "public" in page.locator('tr[data-bucket="e2e-public"] .badge').first.inner_text()

    page.click("text=e2e-public")
    page.wait_for_selector("#verdict")
    assert "This bucket is public" in page.locator("#verdict").inner_text()
    assert (
        "READ (list the objects) to anyone (AllUsers group)"
        in page.locator("#public-reasons").inner_text()
    )

    page.click("#fix-block_public_access")
    page.wait_for_selector("#dry-run-result")
    assert "PutPublicAccessBlock" in page.locator("#dry-run-result").inner_text()
    assert page.locator("#plan-before").inner_text().strip() == "null"
    assert json.loads(page.locator("#plan-after").inner_text()) == ALL_FLAGS
    # The dry run changed nothing.
    with pytest.raises(Exception, match="NoSuchPublicAccessBlockConfiguration"):
        s3.get_public_access_block(Bucket="e2e-public")
    assert not AuditEvent.objects.filter(action="storage.fix.block_public_access").exists()

    with page.expect_navigation():
        page.click("#apply-fix")
    page.wait_for_selector("#verdict")
    assert (
        "All four Block Public Access settings are now on for e2e-public, and the rescan finds "
        "it not public now (it was public)."
    ) in page.locator(".messages").inner_text()
    assert "This bucket is not public" in page.locator("#verdict").inner_text()
    assert "IgnorePublicAcls is on (bucket level)" in page.locator("#neutralised").inner_text()

    conf = s3.get_public_access_block(Bucket="e2e-public")["PublicAccessBlockConfiguration"]
    assert conf == ALL_FLAGS
    event = AuditEvent.objects.get(action="storage.fix.block_public_access")
    assert event.actor_name == "oscar"
    assert Bucket.objects.get(name="e2e-public").is_public is False


def test_scan_progress_updates_live(
    live_server: Any, page: Any, personas: Any, verified_account: Any
) -> None:
    run = ScanRun.objects.create(account=verified_account, trigger="manual")
    login(page, live_server, "vera", PASSWORD)
    page.wait_for_selector("h1")
    page.goto(f"{live_server.url}/buckets/scans/{run.pk}/")
    assert page.locator("#scan-status").inner_text() == "Queued"

    ScanRun.objects.filter(pk=run.pk).update(status="running", buckets_total=40, buckets_done=15)
    page.wait_for_function(
        "document.getElementById('scan-progress-text').textContent.startsWith('15 / 40')"
    )
    assert page.locator("#scan-status").inner_text() == "Running"
    assert page.eval_on_selector("#scan-progress", "el => el.value") == 15

    ScanRun.objects.filter(pk=run.pk).update(
        status="succeeded", buckets_done=40, counts={"public": 3, "failing_checks": 9}
    )
    page.wait_for_function(
        "document.getElementById('scan-status').textContent === 'Succeeded'", timeout=10_000
    )
    page.wait_for_selector("text=See the buckets")
