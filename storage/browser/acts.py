"""Changes to objects: delete, delete one version, restore a version, create a folder, and the
record of an upload. Each is audited in the transaction that records it."""

from __future__ import annotations

from typing import Any

from django.db import transaction

import audit

from .access import BrowseAccess
from .keys import BadInput, check_key, utf8_length
from .models import MAX_KEY_BYTES
from .s3ops import aws_errors, head, is_versioned, s3_client, version_of_key

#: CopyObject copies at most 5 GB in one request; larger versions use a multipart copy.
MAX_SINGLE_COPY = 5 * 1024**3


def _record(access: BrowseAccess, action: str, key: str, **after: Any) -> None:
    with transaction.atomic():
        audit.record(
            access.user,
            access.tenant,
            action,
            access.bucket,
            after={"bucket": access.bucket.name, "key": key, **after},
            target_label=f"s3://{access.bucket.name}/{key}"[:255],
        )


def delete_object(access: BrowseAccess, key: str) -> dict[str, Any]:
    """DeleteObject without a version: removes the object, or adds a delete marker."""
    bucket = access.bucket
    client = s3_client(bucket)
    head(client, bucket, key)  # 404 for a missing key rather than a silent no-op
    versioned = is_versioned(client, bucket)
    with aws_errors(bucket, "s3:DeleteObject", key):
        answer = client.delete_object(Bucket=bucket.name, Key=key)
    marker = answer.get("VersionId", "") if answer.get("DeleteMarker") else ""
    _record(access, "browser.object.delete", key, versioned=versioned, delete_marker=marker)
    return {"key": key, "deleted": True, "delete_marker": bool(marker), "version_id": marker}


def delete_version(access: BrowseAccess, key: str, version_id: str) -> dict[str, Any]:
    """DeleteObject with VersionId: removes exactly that version (or delete marker), for good."""
    bucket = access.bucket
    client = s3_client(bucket)
    row = version_of_key(client, bucket, key, version_id)
    with aws_errors(bucket, "s3:DeleteObjectVersion", key):
        client.delete_object(Bucket=bucket.name, Key=key, VersionId=version_id)
    _record(
        access,
        "browser.object.version_delete",
        key,
        version_id=version_id,
        was_delete_marker=row["delete_marker"],
        etag=row["etag"],
    )
    return {"key": key, "version_id": version_id, "deleted": True}


def restore_version(access: BrowseAccess, key: str, version_id: str) -> dict[str, Any]:
    """Copy an earlier version over the current one (a new version; nothing is deleted)."""
    bucket = access.bucket
    client = s3_client(bucket)
    row = version_of_key(client, bucket, key, version_id)
    if row["delete_marker"]:
        raise BadInput("That version is a delete marker: there is nothing to restore from it.")
    source = {"Bucket": bucket.name, "Key": key, "VersionId": version_id}
    with aws_errors(bucket, "s3:GetObjectVersion / s3:PutObject", key):
        if (row["size"] or 0) > MAX_SINGLE_COPY:
            client.copy(source, bucket.name, key)  # managed multipart copy, server-side
            new_version = head(client, bucket, key).get("VersionId", "")
        else:
            answer = client.copy_object(
                Bucket=bucket.name, Key=key, CopySource=source, MetadataDirective="COPY"
            )
            new_version = answer.get("VersionId", "")
    _record(access, "browser.object.restore", key, from_version=version_id, new_version=new_version)
    return {"key": key, "restored_from": version_id, "version_id": new_version}


def create_folder(access: BrowseAccess, parent: str, name: str) -> str:
    """A 0-byte "<parent><name>/" object, as the AWS console makes folders."""
    name = (name or "").strip()
    if not name or "/" in name:
        raise BadInput("A folder name may not be empty or contain '/'.")
    key = check_key(f"{parent}{name}/")
    bucket = access.bucket
    with aws_errors(bucket, "s3:PutObject", key):
        s3_client(bucket).put_object(Bucket=bucket.name, Key=key, Body=b"")
    _record(access, "browser.folder.create", key)
    return key


def upload_key(folder: str, file_name: str) -> str:
    key = f"{folder}{file_name}"
    size = utf8_length(key)
    if size > MAX_KEY_BYTES:
        raise BadInput(
            f"The folder + the file name would make a key of {size} bytes; S3 keys are at most "
            f"{MAX_KEY_BYTES:,} bytes"
        )
    return key


def record_upload(access: BrowseAccess, uploaded: Any) -> dict[str, Any]:
    _record(
        access,
        "browser.object.upload",
        uploaded.key,
        size=uploaded.size,
        etag=uploaded.etag,
        version_id=uploaded.version_id or "",
        sha256=uploaded.sha256,
    )
    return {
        "key": uploaded.key,
        "size": uploaded.size,
        "etag": uploaded.etag,
        "version_id": uploaded.version_id or "",
    }
