"""In a real browser: an operator opens a folder, pages forward and back, opens an object with
a unicode key, creates a share link, uploads into the folder (progress bar), sets an expiry."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from accounts import aws
from accounts.models import AwsAccount
from storage.browser.models import ObjectExpiry
from storage.models import Bucket
from tests.conftest import PASSWORD
from tests.e2e.conftest import login
from tests.helpers_services import moto_server

pytestmark = pytest.mark.django_db(transaction=True)

UNICODE_KEY = 'photos/\u00e9t\u00e9 \u65e5\u672c <b>&amp; "q".txt'


def test_operator_browses_pages_shares_uploads_and_sets_expiry(
    live_server: Any, page: Any, personas: Any, aws_env: None, settings: Any, tmp_path: Path
) -> None:
    settings.BROWSER_PAGE_SIZE = 100
    shots = Path(os.environ.get("S3PORTAL_SCREENSHOTS", tmp_path))
    with moto_server() as endpoint:
        aws.clear_session_cache()
        account = AwsAccount.objects.create(
            tenant=personas.tenant_a,
            name="emulator",
            access_key_id="AKIAEMULATOREMULATOR",
            secret_access_key="emulator-secret",
            endpoint_url=endpoint,
        )
        s3 = aws.client(account, "s3")
        s3.create_bucket(Bucket="e2e-browse")
        bucket = Bucket.objects.create(account=account, name="e2e-browse", region="us-east-1")
        keys = [f"photos/img-{i:03d}.jpg" for i in range(250)] + [UNICODE_KEY, "readme.txt"]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda k: s3.put_object(Bucket="e2e-browse", Key=k, Body=b"x"), keys))

        login(page, live_server, "oscar", PASSWORD)
        page.wait_for_selector("h1")
        page.goto(f"{live_server.url}/buckets/{bucket.pk}/")
        page.click("#browse-objects")
        page.click("text=photos/")
        page.wait_for_selector("#page-number")
        assert page.inner_text("#page-number") == "page 1"
        assert page.locator(".object-link").first.inner_text() == "img-000.jpg"
        page.click("#next-page")
        assert page.inner_text("#page-number") == "page 2"
        assert page.locator(".object-link").first.inner_text() == "img-100.jpg"
        page.click("#next-page")
        assert page.inner_text("#page-number") == "page 3"
        assert page.locator("#next-page").count() == 0
        page.click("#previous-page")
        assert page.inner_text("#page-number") == "page 2"
        assert page.locator(".object-link").first.inner_text() == "img-100.jpg"
        page.click("#next-page")
        unicode_name = UNICODE_KEY.removeprefix("photos/")
        assert page.locator("#file-table-section b").count() == 0  # the key is text, not markup
        page.screenshot(path=str(shots / "browser-folder.png"), full_page=True)

        page.click(f".object-link >> text={unicode_name}")
        page.wait_for_selector("#object-key")
        assert page.inner_text("#object-key") == UNICODE_KEY
        page.select_option("#share-lifetime", "1h")
        page.click("#share-form button")
        url = page.input_value("#share-url")
        assert "X-Amz-Signature" in url and "X-Amz-Expires=3600" in url
        assert "valid until" in page.inner_text("#share-links")

        day = (date.today() + timedelta(days=30)).isoformat()
        page.fill("#expiry-date", day)
        page.click("#expiry-form button")
        assert f"will be deleted on {day}" in page.inner_text(".messages")
        assert day in page.inner_text("#expiry")
        page.screenshot(path=str(shots / "browser-object.png"), full_page=True)
        row = ObjectExpiry.objects.get()
        assert row.key == UNICODE_KEY and row.state == "pending"

        page.click("nav.crumbs >> text=photos")
        page.set_input_files(
            "#file-input",
            files=[
                {
                    "name": "new \u00fcpload.bin",
                    "mimeType": "application/octet-stream",
                    "buffer": os.urandom(2 * 1024 * 1024),
                }
            ],
        )
        page.click("#upload-button")  # one flow: choose, then send (issue 8, item 24)
        item = page.locator(".upload-item")
        item.locator(".upload-status", has_text="uploaded").wait_for()
        assert item.locator("progress").evaluate("bar => bar.value") == 1
        page.screenshot(path=str(shots / "browser-upload.png"), full_page=True)
        stored = s3.head_object(Bucket="e2e-browse", Key="photos/new \u00fcpload.bin")
        assert stored["ContentLength"] == 2 * 1024 * 1024
        aws.clear_session_cache()
