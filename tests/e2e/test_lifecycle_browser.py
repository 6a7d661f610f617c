"""In a real browser: an operator adds a lifecycle rule, sees the dry run (the foreign rule
kept), applies it, and sees it in the list beside the foreign rule."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from audit.models import AuditEvent
from storage.models import Bucket
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.scan_fixtures"]

FOREIGN = {
    "ID": "team-tmp-cleanup",
    "Filter": {"Prefix": "tmp/"},
    "Status": "Enabled",
    "Expiration": {"Days": 30},
}


def test_operator_adds_a_rule_beside_a_foreign_one(
    live_server: Any, page: Any, personas: Any, verified_account: Any, s3: Any
) -> None:
    s3.create_bucket(Bucket="e2e-lifecycle")
    s3.put_bucket_lifecycle_configuration(
        Bucket="e2e-lifecycle", LifecycleConfiguration={"Rules": [FOREIGN]}
    )
    bucket = Bucket.objects.create(
        account=verified_account, name="e2e-lifecycle", region="us-east-1"
    )

    login(page, live_server, "oscar", PASSWORD)
    page.wait_for_selector("h1")
    page.goto(f"{live_server.url}/buckets/{bucket.pk}/")
    page.click("#lifecycle-link")
    page.wait_for_selector("#lifecycle-rules")
    assert "foreign" in page.locator('tr[data-rule="team-tmp-cleanup"]').inner_text()

    page.click("#add-rule")
    page.wait_for_selector("#rule-form")
    page.fill("#id_rule_id", "s3portal-logs")
    page.fill("#id_prefix", "logs/")
    page.fill("#id_tags", "temp=true")
    page.select_option("#id_expiration", "days")
    page.fill("#id_expiration_days", "7")
    page.click("#dry-run")
    page.wait_for_selector("#dry-run-result")
    result = page.locator("#dry-run-result").inner_text()
    assert "PutBucketLifecycleConfiguration" in result
    assert "Foreign rule(s) kept exactly as they are: team-tmp-cleanup." in result
    assert "objects under logs/ tagged temp=true expire 7 days after creation" in result
    # The dry run wrote nothing.
    assert s3.get_bucket_lifecycle_configuration(Bucket="e2e-lifecycle")["Rules"] == [FOREIGN]
    shots = Path(os.environ.get("S3PORTAL_SCREENSHOTS", "var/screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "lifecycle-dry-run.png"), full_page=True)

    with page.expect_navigation():
        page.click("#apply-plan")
    page.wait_for_selector("#lifecycle-rules")
    assert "Applied to e2e-lifecycle" in page.locator(".messages").inner_text()
    rows = page.locator("#lifecycle-rules tbody tr")
    assert rows.count() == 2
    assert "foreign" in page.locator('tr[data-rule="team-tmp-cleanup"]').inner_text()
    mine = page.locator('tr[data-rule="s3portal-logs"]').inner_text()
    assert "portal" in mine
    assert "objects under logs/ tagged temp=true expire 7 days after creation" in mine
    page.screenshot(path=str(shots / "lifecycle-rules.png"), full_page=True)

    rules = s3.get_bucket_lifecycle_configuration(Bucket="e2e-lifecycle")["Rules"]
    assert [r["ID"] for r in rules] == ["team-tmp-cleanup", "s3portal-logs"]
    assert rules[0] == FOREIGN
    assert AuditEvent.objects.get(action="lifecycle.apply").actor_name == "oscar"
