"""The S3 reads and writes of the object browser, one function per request kind.

Every client comes from accounts.aws (the one seam). Listing is one ListObjectsV2 (or
ListObjectVersions) call per page, whatever the folder holds; nothing is buffered beyond a page.
AWS errors become BrowserError with a sentence naming the account and the permission.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from accounts import aws
from accounts.errors import describe_aws_error, error_code
from storage.models import Bucket

from .keys import BadInput

MISSING_CODES = {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}
BAD_VERSION_CODES = {"InvalidArgument", "400"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Versions shown per page on the object page (MinIO shows 20 and flags "more").
VERSIONS_PER_PAGE = 20


class BrowserError(BadInput):
    """S3 refused or could not be reached (502), or the object is not there (404)."""


def s3_client(bucket: Bucket, **config: Any) -> Any:
    # SigV4 everywhere: required in newer regions, and presigned URLs carry X-Amz-Expires.
    return aws.client(
        bucket.account, "s3", region=bucket.region or None, signature_version="s3v4", **config
    )


@contextmanager
def aws_errors(bucket: Bucket, operation: str, key: str | None = None) -> Iterator[None]:
    """Turn botocore errors into BrowserError: 404 for a missing object, 502 for the rest."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        code = error_code(exc)
        where = f"s3://{bucket.name}/{key}" if key is not None else f"bucket {bucket.name}"
        if code in MISSING_CODES and key is not None:
            raise BrowserError(
                f"No such object (or version) in {bucket.name}: it was deleted or never existed.",
                404,
            ) from exc
        if code in BAD_VERSION_CODES and key is not None:
            raise BrowserError("S3 refused that version id for this object.", 400) from exc
        message = describe_aws_error(
            exc, account_name=bucket.account.name, operation=operation, resource=where
        )
        raise BrowserError(message, 502) from exc


# --------------------------------------------------------------------------- listing


@dataclass
class Listing:
    folders: list[str]
    objects: list[dict[str, Any]]
    next_start: Any = None  # what the next page starts from (None: this is the last page)


def _object_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": item["Key"],
        "size": item.get("Size", 0),
        "storage_class": item.get("StorageClass", "STANDARD"),
        "last_modified": item.get("LastModified"),
        "etag": item.get("ETag", ""),
    }


def list_page(client: Any, bucket: Bucket, prefix: str, start: Any, page_size: int) -> Listing:
    """One ListObjectsV2 call: the folders and objects of one page under `prefix`."""
    params: dict[str, Any] = {
        "Bucket": bucket.name,
        "Prefix": prefix,
        "Delimiter": "/",
        "MaxKeys": page_size,
    }
    if start:
        params["ContinuationToken"] = start
    with aws_errors(bucket, "s3:ListBucket"):
        answer = client.list_objects_v2(**params)
    return Listing(
        folders=[p["Prefix"] for p in answer.get("CommonPrefixes", [])],
        objects=[_object_row(item) for item in answer.get("Contents", [])],
        next_start=answer.get("NextContinuationToken") if answer.get("IsTruncated") else None,
    )


def _version_row(item: dict[str, Any], delete_marker: bool) -> dict[str, Any]:
    return {
        "key": item["Key"],
        "version_id": item.get("VersionId") or "null",
        "is_latest": bool(item.get("IsLatest")),
        "delete_marker": delete_marker,
        "size": None if delete_marker else item.get("Size", 0),
        "storage_class": None if delete_marker else item.get("StorageClass", "STANDARD"),
        "last_modified": item.get("LastModified"),
        "etag": "" if delete_marker else item.get("ETag", ""),
    }


def _merged_versions(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Versions and delete markers in S3's order: by key, then newest first."""
    rows = [_version_row(v, False) for v in answer.get("Versions", [])]
    rows += [_version_row(m, True) for m in answer.get("DeleteMarkers", [])]
    # boto3 splits S3's interleaved list in two; timestamps have 1-second resolution, so
    # within a key the current one goes first and ties keep S3's own (newest-first) order.
    rows.sort(key=lambda r: r["last_modified"] or _EPOCH, reverse=True)
    rows.sort(key=lambda r: (r["key"], not r["is_latest"]))
    return rows


def list_versions_page(
    client: Any, bucket: Bucket, prefix: str, start: Any, page_size: int
) -> Listing:
    """One ListObjectVersions call ("show versions"): folders, versions and delete markers."""
    params: dict[str, Any] = {
        "Bucket": bucket.name,
        "Prefix": prefix,
        "Delimiter": "/",
        "MaxKeys": page_size,
    }
    if start:
        params["KeyMarker"] = start[0]
        if start[1]:
            params["VersionIdMarker"] = start[1]
    with aws_errors(bucket, "s3:ListBucketVersions"):
        answer = client.list_object_versions(**params)
    next_start = None
    if answer.get("IsTruncated"):
        next_start = [answer.get("NextKeyMarker", ""), answer.get("NextVersionIdMarker", "")]
    return Listing(
        folders=[p["Prefix"] for p in answer.get("CommonPrefixes", [])],
        objects=_merged_versions(answer),
        next_start=next_start,
    )


# --------------------------------------------------------------------------- one object


@dataclass
class ObjectDetails:
    key: str
    version_id: str
    size: int
    etag: str
    last_modified: datetime | None
    content_type: str
    storage_class: str
    checksums: dict[str, str]
    encryption: str
    kms_key: str
    metadata: dict[str, str]
    tags: list[dict[str, str]] = field(default_factory=list)
    legal_hold: str = ""
    retention: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def head(client: Any, bucket: Bucket, key: str, version_id: str = "") -> dict[str, Any]:
    params: dict[str, Any] = {"Bucket": bucket.name, "Key": key, "ChecksumMode": "ENABLED"}
    if version_id:
        params["VersionId"] = version_id
    with aws_errors(bucket, "s3:GetObject", key):
        answer: dict[str, Any] = client.head_object(**params)
    return answer


def _optional(call: Callable[[], Any], notes: list[str], what: str) -> Any:
    """A read that buckets without the feature refuse: None, with a note on real errors."""
    try:
        return call()
    except (ClientError, BotoCoreError) as exc:
        code = error_code(exc)
        if code not in {
            "NoSuchObjectLockConfiguration",
            "NoSuchObjectLockRetention",
            "ObjectLockConfigurationNotFoundError",
            "InvalidRequest",
            "NoSuchTagSet",
            "MethodNotAllowed",
        }:
            notes.append(f"{what} could not be read ({code or type(exc).__name__}).")
        return None


def object_details(client: Any, bucket: Bucket, key: str, version_id: str = "") -> ObjectDetails:
    answer = head(client, bucket, key, version_id)
    extra: dict[str, Any] = {"Bucket": bucket.name, "Key": key}
    if version_id:
        extra["VersionId"] = version_id
    notes: list[str] = []
    tags = _optional(lambda: client.get_object_tagging(**extra), notes, "Tags")
    hold = retention = None
    lock = _optional(
        lambda: client.get_object_lock_configuration(Bucket=bucket.name), notes, "Object Lock"
    )
    if lock and (lock.get("ObjectLockConfiguration") or {}).get("ObjectLockEnabled") == "Enabled":
        hold = _optional(lambda: client.get_object_legal_hold(**extra), notes, "The legal hold")
        retention = _optional(lambda: client.get_object_retention(**extra), notes, "Retention")
    checksums = {
        name[len("Checksum") :]: str(answer[name])
        for name in ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1")
        + ("ChecksumSHA256",)
        if answer.get(name)
    }
    return ObjectDetails(
        key=key,
        version_id=answer.get("VersionId") or "",
        size=int(answer.get("ContentLength", 0)),
        etag=answer.get("ETag", ""),
        last_modified=answer.get("LastModified"),
        content_type=answer.get("ContentType", ""),
        storage_class=answer.get("StorageClass", "STANDARD"),
        checksums=checksums,
        encryption=answer.get("ServerSideEncryption", ""),
        kms_key=answer.get("SSEKMSKeyId", ""),
        metadata=dict(answer.get("Metadata") or {}),
        tags=list((tags or {}).get("TagSet", [])),
        legal_hold=((hold or {}).get("LegalHold") or {}).get("Status", ""),
        retention={k: str(v) for k, v in ((retention or {}).get("Retention") or {}).items() if v},
        notes=notes,
    )


def key_versions(
    client: Any, bucket: Bucket, key: str, start: Any = None, page_size: int = VERSIONS_PER_PAGE
) -> Listing:
    """Versions and delete markers of exactly `key` (never of longer keys sharing the prefix)."""
    params: dict[str, Any] = {"Bucket": bucket.name, "Prefix": key, "MaxKeys": page_size}
    if start:
        params["KeyMarker"], params["VersionIdMarker"] = start[0], start[1]
    with aws_errors(bucket, "s3:ListBucketVersions", key):
        answer = client.list_object_versions(**params)
    rows = [r for r in _merged_versions(answer) if r["key"] == key]
    next_start = None
    if answer.get("IsTruncated") and answer.get("NextKeyMarker") == key:
        next_start = [key, answer.get("NextVersionIdMarker", "")]
    return Listing(folders=[], objects=rows, next_start=next_start)


def is_versioned(client: Any, bucket: Bucket) -> bool:
    """Versioning enabled or suspended (versions may exist either way)."""
    with aws_errors(bucket, "s3:GetBucketVersioning"):
        status = client.get_bucket_versioning(Bucket=bucket.name).get("Status", "")
    return status in {"Enabled", "Suspended"}


def version_of_key(client: Any, bucket: Bucket, key: str, version_id: str) -> dict[str, Any]:
    """The version row if `version_id` is a version (or delete marker) of exactly `key`.

    S3 answers a HEAD with another key's version id with an error, but emulators are lenient;
    the portal checks the listing itself before it acts on a version.
    """
    start: Any = None
    while True:
        page = key_versions(client, bucket, key, start, page_size=1000)
        for row in page.objects:
            if row["version_id"] == version_id:
                return row
        if page.next_start is None:
            break
        start = page.next_start
    raise BrowserError(f"{version_id!r} is not a version of this object.", 404)
