"""Files over real services: moto_server over HTTP, the configured broker and a Celery worker."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from accounts import aws
from storage.files.models import BackupState, StoredFile
from tests.files_fixtures import emulator_file_space, upload
from tests.helpers_services import celery_worker, database_url, moto_server

MiB = 1024 * 1024


def io_bytes(pid: int) -> int:
    """Bytes the process moved through read/write syscalls (sockets included)."""
    fields = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return int(fields["rchar"]) + int(fields["wchar"])


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_upload_then_real_worker_backs_up_server_side(personas: Any, aws_env: None) -> None:
    with moto_server() as endpoint:
        space = emulator_file_space(personas.tenant_a, endpoint, "int-files", "int-backup")
        s3 = aws.client(space.account, "s3")
        worker_env = {"DATABASE_URL": database_url(connection.settings_dict)}
        with celery_worker(worker_env) as worker:
            # Warm the worker up (imports, clients) so the measurement below is the copy only.
            warm = upload(personas.client_for("bob"), ("warm-up.txt", b"warm"))
            assert warm.status_code == 201
            wait_for_backup(warm.json()["files"][0]["id"])
            before = io_bytes(worker.pid)

            data = os.urandom(32 * MiB)
            response = upload(personas.client_for("bob"), ("big.bin", data))
            assert response.status_code == 201
            item = response.json()["files"][0]
            stored = wait_for_backup(item["id"])
            moved = io_bytes(worker.pid) - before

        assert stored.backup_state == BackupState.COPIED
        copy = s3.get_object(Bucket="int-backup", Key=item["key"])
        assert copy["Body"].read() == data
        assert copy["Metadata"]["original-name"] == "big.bin"
        # A server-side copy: the worker's I/O (requests, database, broker polling) is a small
        # fraction of the object; a copy through the worker would move it twice (in and out).
        assert moved < len(data) // 4, f"the worker moved {moved} bytes"
        listing = personas.client_for("bob").get(
            reverse("files:list"), HTTP_ACCEPT="application/json"
        )
        statuses = {f["name"]: f["backup_status"] for f in listing.json()["files"]}
        assert statuses == {"warm-up.txt": "copied", "big.bin": "copied"}


def wait_for_backup(file_id: int, timeout: float = 90.0) -> StoredFile:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = StoredFile.objects.get(pk=file_id)
        if stored.backup_state != BackupState.PENDING:
            return stored
        time.sleep(0.2)
    raise AssertionError(f"the backup of file {file_id} was not done after {timeout}s")
