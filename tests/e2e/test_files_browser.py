"""In a real browser: a member uploads a file (progress bar), sees it, downloads it, deletes it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from accounts import aws
from storage.files.models import BackupState, StoredFile
from tests.conftest import PASSWORD
from tests.e2e.conftest import login
from tests.files_fixtures import emulator_file_space
from tests.helpers_services import moto_server

pytestmark = pytest.mark.django_db(transaction=True)


def test_member_uploads_sees_downloads_and_deletes_a_file(
    live_server: Any,
    page: Any,
    personas: Any,
    aws_env: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from storage.files import tasks

    backups: list[int] = []  # no worker here: keep the broker's queue clean
    monkeypatch.setattr(tasks.backup_file, "delay", backups.append)
    with moto_server() as endpoint:  # the browser fetches presigned URLs from it
        space = emulator_file_space(personas.tenant_a, endpoint, "e2e-files", "e2e-backup")
        s3 = aws.client(space.account, "s3")
        content = os.urandom(3 * 1024 * 1024)
        name = "r\u00e9sum\u00e9 <b>2024 & co.bin"  # markup, but no "/" (a path separator)

        login(page, live_server, "bob", PASSWORD)
        page.wait_for_selector("h1")
        page.click("nav >> text=Files")
        page.wait_for_selector("#upload-form")
        assert "No files yet." in page.inner_text("#file-table-section")

        page.set_input_files(
            "#file-input",
            files=[{"name": name, "mimeType": "application/octet-stream", "buffer": content}],
        )
        item = page.locator(".upload-item")
        # Choosing lists the file as ready; nothing is sent until Upload (issue 8 item 24).
        assert item.locator(".upload-status").inner_text() == "ready: press Upload"
        assert page.locator("#upload-button").inner_text() == "Upload 1 file"
        assert StoredFile.objects.count() == 0
        page.click("#upload-button")
        item.locator(".upload-status", has_text="uploaded").wait_for()
        assert page.locator("#upload-button").is_disabled()
        assert item.locator("progress").evaluate("bar => bar.value") == 1
        assert name in item.locator(".upload-name").inner_text()

        # The table is refreshed in place; the name shows as text, never as markup.
        row = page.locator("#file-table tbody tr", has_text="2024")
        row.wait_for()
        assert row.locator(".file-name").inner_text() == name
        assert page.locator("#file-table b").count() == 0
        assert "pending" in row.inner_text()

        stored = StoredFile.objects.get()
        assert stored.original_name == name and stored.owner == personas.bob
        assert stored.backup_state == BackupState.PENDING and backups == [stored.pk]

        with page.expect_download() as info:
            row.locator("text=Download").click()
        download = info.value
        # Content-Disposition with filename*=UTF-8'' (Chromium may still replace < and >).
        assert download.suggested_filename.startswith("r\u00e9sum\u00e9 ")
        assert download.suggested_filename.endswith("2024 & co.bin")
        saved = tmp_path / "downloaded.bin"
        download.save_as(saved)
        assert saved.read_bytes() == content

        page.on("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            row.locator("button", has_text="Delete").click()
        assert f"Deleted {name}." in page.inner_text(".messages")
        assert page.locator("#file-table tbody tr", has_text="2024").count() == 0
        stored.refresh_from_db()
        assert stored.deleted_at is not None
        assert s3.list_objects_v2(Bucket="e2e-files").get("KeyCount", 0) == 0
