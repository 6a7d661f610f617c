"""Issue 8, page items a person sees (10, 11, 13, 19, 23): one state and the right button for
an unverified account, one count per bucket at risk, a second opinion that reads as one,
advice that matches the role, scan runs in the navigation with what each found."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import AwsAccount, Membership, Role
from storage.models import ScanRun
from storage.scan.checks import label
from tests.conftest import PASSWORD
from tests.e2e.conftest import login
from tests.scan_helpers import full_scan

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.scan_fixtures"]

PUBLIC_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "PublicRead",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::e2e-policy-public/*",
        }
    ],
}


def test_unverified_accounts_offer_verify_not_scan_and_read_the_same_everywhere(
    live_server: Any, page: Any, personas: Any, verified_account: Any
) -> None:
    AwsAccount.objects.create(
        tenant=personas.tenant_a, name="broken", last_error="AWS rejected the secret access key"
    )
    AwsAccount.objects.create(tenant=personas.tenant_a, name="fresh")
    login(page, live_server, "alice", PASSWORD)
    page.wait_for_selector("h1")
    dashboard = page.locator("#aws-accounts")
    assert "failed" in dashboard.locator("tr", has_text="broken").inner_text()
    page.goto(f"{live_server.url}/buckets/")
    rows = page.locator("#scan-accounts")
    broken = rows.locator("tr", has_text="broken")
    assert broken.locator(".badge").inner_text() == "failed"  # not "not verified"
    assert broken.locator("button", has_text="Verify").count() == 1
    assert broken.locator("button", has_text="Scan now").count() == 0
    fresh = rows.locator("tr", has_text="fresh")
    assert fresh.locator(".badge").inner_text() == "not verified"
    assert fresh.locator("button", has_text="Scan now").count() == 0
    assert rows.locator("tr", has_text="prod").locator("button", has_text="Scan now").count() == 1
    page.goto(f"{live_server.url}/buckets/scans/")
    options = page.locator("select[name=account] option").all_inner_texts()
    assert options == ["prod"]


def test_a_scan_refuses_an_unverified_account(personas: Any, account_a: Any) -> None:
    client = personas.client_for("oscar")
    response = client.post("/buckets/scans/start/", {"account": account_a.pk}, follow=True)
    assert response.status_code == 200
    assert "prod is not verified yet, so it cannot be scanned" in response.content.decode()
    assert not ScanRun.objects.exists()


def test_the_banner_counts_buckets_not_findings(
    live_server: Any, page: Any, personas: Any, verified_account: Any, make_bucket: Any
) -> None:
    make_bucket("e2e-policy-public", policy=PUBLIC_POLICY)
    full_scan(verified_account)
    login(page, live_server, "vera", PASSWORD)
    banner = page.locator("#high-findings-banner")
    text = banner.inner_text()
    assert text.startswith("1 bucket at risk")
    assert "2 high-severity" not in text
    bucket = banner.locator('li[data-bucket="e2e-policy-public"]')
    assert "public" in bucket.locator(".badge").inner_text()
    assert "PublicRead" in bucket.locator(".causes").inner_text()


def test_the_policy_second_opinion_says_what_passed(
    live_server: Any, page: Any, personas: Any, verified_account: Any, make_bucket: Any
) -> None:
    make_bucket("e2e-policy-public", policy=PUBLIC_POLICY)
    full_scan(verified_account)
    login(page, live_server, "vera", PASSWORD)
    page.wait_for_selector("h1")
    page.click("text=Buckets")
    page.click("text=e2e-policy-public")
    row = page.locator("tr", has_text="AWS policy status")
    text = row.inner_text()
    assert "AWS and the portal agree that the policy is public" in text
    assert "agrees with the portal: the policy is public" not in text


def test_advice_matches_the_role_in_this_tenant(live_server: Any, page: Any, personas: Any) -> None:
    # alice is admin of A (so she may use the admin) and only a viewer of B, which has no account.
    Membership.objects.create(user=personas.alice, tenant=personas.tenant_b, role=Role.VIEWER)
    login(page, live_server, "alice", PASSWORD)
    page.wait_for_selector("h1")
    assert "Add one in the" in page.locator("#no-accounts").inner_text()
    page.select_option("#tenant-select", "tenant-b")
    with page.expect_navigation():
        page.click("#tenant-switch")
    advice = page.locator("#no-accounts").inner_text()
    assert "Add one in the admin" not in advice
    assert "A tenant admin of Tenant B can connect one." in advice


def test_scan_runs_are_in_the_navigation_and_list_what_they_found(
    live_server: Any, page: Any, personas: Any, verified_account: Any, make_bucket: Any
) -> None:
    make_bucket("e2e-policy-public", policy=PUBLIC_POLICY)
    make_bucket("e2e-quiet")
    run = full_scan(verified_account)
    login(page, live_server, "bob", PASSWORD)
    page.wait_for_selector("h1")
    page.click("header nav >> text=Scans")
    page.wait_for_selector("#scan-runs")
    page.click(f"#scan-runs >> text={run.pk}")
    table = page.locator("#scan-buckets")
    public_row = table.locator('tr[data-bucket="e2e-policy-public"]')
    assert "public" in public_row.inner_text()
    assert label("policy") in public_row.locator("td").nth(2).inner_text()
    assert label("policy") in public_row.locator("td").nth(4).inner_text()  # opened by this run
    assert table.locator('tr[data-bucket="e2e-quiet"]').count() == 1
    assert page.locator("h1").inner_text().startswith(f"Scan #{run.pk} of prod")
