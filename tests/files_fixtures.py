"""Fixtures for the files tests (a plugin of the whole suite: `pytest_plugins` in conftest.py).

Buckets live in in-process moto (the `moto` fixture of conftest). Backups are never sent to a
broker here: `enqueued` records the ids that would have been sent.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

__all__ = [
    "BUCKET_A",
    "BACKUP_A",
    "BUCKET_B",
    "BACKUP_B",
    "buckets",
    "enqueued",
    "space_a",
    "space_b",
    "upload",
    "raw_upload",
    "s3_a",
    "object_keys",
    "stored_file",
]

BUCKET_A = "tenant-a-files"
BACKUP_A = "tenant-a-backup"
BUCKET_B = "tenant-b-files"
BACKUP_B = "tenant-b-backup"


@pytest.fixture
def s3_a(account_a: Any) -> Any:
    from accounts import aws

    return aws.client(account_a, "s3")


@pytest.fixture
def buckets(s3_a: Any) -> Any:
    for name in (BUCKET_A, BACKUP_A, BUCKET_B, BACKUP_B):
        s3_a.create_bucket(Bucket=name)
    return s3_a


@pytest.fixture
def space_a(personas: Any, account_a: Any, buckets: Any) -> Any:
    from storage.files.models import FileSpace

    return FileSpace.objects.create(
        tenant=personas.tenant_a,
        account=account_a,
        bucket=BUCKET_A,
        prefix="portal",
        backup_account=account_a,
        backup_bucket=BACKUP_A,
        max_file_size=20 * 1024 * 1024,
    )


@pytest.fixture
def space_b(personas: Any, account_b: Any, buckets: Any) -> Any:
    from storage.files.models import FileSpace

    return FileSpace.objects.create(
        tenant=personas.tenant_b,
        account=account_b,
        bucket=BUCKET_B,
        backup_account=account_b,
        backup_bucket=BACKUP_B,
    )


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Ids the upload would send to the broker (nothing is sent)."""
    from storage.files import tasks

    sent: list[int] = []
    monkeypatch.setattr(tasks.backup_file, "delay", lambda pk: sent.append(pk))
    return sent


def upload(
    client: Client,
    files: list[tuple[str, bytes]] | tuple[str, bytes],
    *,
    as_json: bool = True,
    **extra: Any,
) -> Any:
    """POST files to /files/upload/ as multipart (field `file`, repeated)."""
    if isinstance(files, tuple):
        files = [files]
    handles = []
    for name, data in files:
        handle = io.BytesIO(data)
        handle.name = name
        handles.append(handle)
    headers = {"HTTP_ACCEPT": "application/json"} if as_json else {}
    headers.update(extra)
    return client.post(reverse("files:upload"), {"file": handles}, **headers)


def raw_upload(
    client: Client,
    parts: list[tuple[bytes, bytes]],
    *,
    field: bytes = b"file",
    as_json: bool = True,
    **extra: Any,
) -> Any:
    """POST a hand-built multipart body; each part is (raw filename bytes, content).

    Django's test client strips directories from file names itself; browsers and scripts
    can send anything, so the bad-name tests build the body by hand.
    """
    boundary = b"----files-test-boundary-7d1c"
    body = b""
    for raw_name, data in parts:
        body += (
            b"--" + boundary + b"\r\n"
            b'Content-Disposition: form-data; name="'
            + field
            + b'"; filename="'
            + raw_name
            + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
            + data
            + b"\r\n"
        )
    body += b"--" + boundary + b"--\r\n"
    headers = {"HTTP_ACCEPT": "application/json"} if as_json else {}
    headers.update(extra)
    return client.generic(
        "POST",
        reverse("files:upload"),
        body,
        content_type=f"multipart/form-data; boundary={boundary.decode()}",
        **headers,
    )


def object_keys(s3: Any, bucket: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def stored_file(space: Any, owner: Any, name: str = "doc.txt", data: bytes = b"hello") -> Any:
    """A file put in the space's bucket and recorded, as an upload would (backup pending)."""
    from storage.files import services
    from storage.files.multipart import MultipartWriter

    client = services.s3_client(space.account, space.primary_region)
    key = services.object_key(space, owner.pk, name)
    metadata = services.object_metadata(name, owner.pk, space.tenant)
    with MultipartWriter(client, space.bucket, key, "text/plain", metadata) as writer:
        writer.write(data)
        uploaded = writer.complete()
    upload_item = services.PendingUpload(
        uploaded, name, services.part_size_for(space.max_file_size)
    )
    (stored,) = services.record_uploads(owner, space.tenant, space, [upload_item])
    return stored


def emulator_file_space(tenant: Any, endpoint: str, bucket: str, backup_bucket: str) -> Any:
    """An AWS account on a real moto_server, its two buckets, and the tenant's file space."""
    from accounts import aws
    from accounts.models import AwsAccount
    from storage.files.models import FileSpace

    aws.clear_session_cache()
    account = AwsAccount.objects.create(
        tenant=tenant,
        name="emulator",
        access_key_id="AKIAEMULATOREMULATOR",
        secret_access_key="emulator-secret",
        endpoint_url=endpoint,
    )
    s3 = aws.client(account, "s3")
    for name in (bucket, backup_bucket):
        s3.create_bucket(Bucket=name)
    return FileSpace.objects.create(
        tenant=tenant,
        account=account,
        bucket=bucket,
        backup_account=account,
        backup_bucket=backup_bucket,
    )
