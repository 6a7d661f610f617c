"""Server-side copies between buckets: no object byte passes through the portal or the worker.

:func:`server_side_copy` copies one exact object version with ``CopyObject`` up to S3's 5 GiB
limit, and with a multipart upload of ``UploadPartCopy`` parts above it. The copy keeps the
content type, the user metadata (and, for ``CopyObject``, tags and other system metadata) and
asks S3 for a SHA-256 checksum of the destination. It then verifies the result:

* the size of the destination equals the expected size, always;
* ``CopyObject``: S3's full-object SHA-256 of the destination equals the SHA-256 the portal
  computed while streaming the upload;
* multipart copy: the parts follow the source's own part layout (our uploads use one fixed part
  size), so the destination's composite checksum (a SHA-256 of the parts' SHA-256s) must equal
  the source's, which S3 checked part by part against the checksums the portal sent on upload.

Where the store reports no checksum at all (some S3-compatible back ends), the ETag is
compared instead (equal for identical single-part content and for identical part layouts);
if neither is available only the size is checked, and the result says so.
A destination that fails verification is deleted again.

The copy request is signed by the *destination* client, so in a cross-account setup the
destination account's credentials need ``s3:GetObject`` (and ``s3:GetObjectVersion``) on the
source bucket.
"""

from __future__ import annotations

import base64
import logging
import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .multipart import MAX_PARTS, MIN_PART_SIZE

__all__ = [
    "COPY_OBJECT_LIMIT",
    "CopyResult",
    "CopyVerificationError",
    "server_side_copy",
]

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
#: The largest object CopyObject accepts; larger ones need UploadPartCopy.
COPY_OBJECT_LIMIT = 5 * 1024 * MiB
#: Part size for a multipart copy when the source has no usable part layout.
DEFAULT_COPY_PART_SIZE = 512 * MiB
#: Concurrent UploadPartCopy requests (each one moves bytes inside S3 only).
COPY_THREADS = 8

# Metadata that CreateMultipartUpload does not take from the source by itself.
_HEADERS_TO_CARRY = {
    "ContentType": "ContentType",
    "ContentDisposition": "ContentDisposition",
    "ContentEncoding": "ContentEncoding",
    "ContentLanguage": "ContentLanguage",
    "CacheControl": "CacheControl",
}


class CopyVerificationError(Exception):
    """The destination does not match the source (size or checksum)."""


@dataclass(frozen=True, slots=True)
class CopyResult:
    bucket: str
    key: str
    version_id: str | None
    size: int
    #: The checksum the verification compared (base64 SHA-256, "etag:<etag>", or "").
    checksum: str
    #: "sha256", "composite-sha256", "etag" or "size".
    verified_by: str
    multipart: bool


def _version_id(response: Mapping[str, Any]) -> str | None:
    version = response.get("VersionId")
    if not version or version == "null":
        return None
    return str(version)


def _hex_to_b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def _bare_checksum(value: str | None) -> str:
    """S3 writes composite checksums as "<base64>-<part count>"; compare the digest part."""
    return (value or "").split("-", 1)[0]


def _is_composite(head: Mapping[str, Any]) -> bool:
    checksum = str(head.get("ChecksumSHA256") or "")
    return head.get("ChecksumType") == "COMPOSITE" or "-" in checksum


def _part_layout(
    src_client: Any, bucket: str, key: str, version_id: str | None, size: int, part_size: int
) -> tuple[int, bool]:
    """The part size to copy with, and whether it reproduces the source's part layout."""
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key, "PartNumber": 1}
    if version_id:
        kwargs["VersionId"] = version_id
    first = src_client.head_object(**kwargs)
    parts_count = int(first.get("PartsCount") or 0)
    source_part = int(first.get("ContentLength") or 0)
    candidate = part_size or source_part
    if (
        parts_count > 1
        and candidate >= MIN_PART_SIZE
        and math.ceil(size / candidate) == parts_count
    ):
        return candidate, True
    fallback = max(DEFAULT_COPY_PART_SIZE, math.ceil(size / MAX_PARTS))
    return fallback, False


def _multipart_copy(
    src_head: Mapping[str, Any],
    copy_source: dict[str, str],
    dst_client: Any,
    bucket: str,
    key: str,
    size: int,
    part_size: int,
) -> dict[str, Any]:
    create: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "Metadata": dict(src_head.get("Metadata") or {}),
        "ChecksumAlgorithm": "SHA256",
    }
    for source_field, target_field in _HEADERS_TO_CARRY.items():
        if src_head.get(source_field):
            create[target_field] = src_head[source_field]
    upload_id = dst_client.create_multipart_upload(**create)["UploadId"]
    ranges = [
        (number, start, min(start + part_size, size) - 1)
        for number, start in enumerate(range(0, size, part_size), start=1)
    ]

    def copy_part(part: tuple[int, int, int]) -> dict[str, Any]:
        number, first_byte, last_byte = part
        response = dst_client.upload_part_copy(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            CopySource=copy_source,
            CopySourceRange=f"bytes={first_byte}-{last_byte}",
        )
        result = response["CopyPartResult"]
        entry = {"PartNumber": number, "ETag": result["ETag"]}
        if result.get("ChecksumSHA256"):
            entry["ChecksumSHA256"] = result["ChecksumSHA256"]
        return entry

    try:
        with ThreadPoolExecutor(max_workers=min(COPY_THREADS, len(ranges))) as pool:
            parts = list(pool.map(copy_part, ranges))
        return dst_client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        try:
            dst_client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception:
            logger.warning("could not abort multipart copy to s3://%s/%s", bucket, key)
        raise


def _verify(
    src_head: Mapping[str, Any],
    dst_head: Mapping[str, Any],
    *,
    size: int,
    expected_sha256: str | None,
    multipart: bool,
    same_layout: bool,
) -> tuple[str, str]:
    got = int(dst_head.get("ContentLength", -1))
    if got != size:
        raise CopyVerificationError(f"the copy has {got} bytes, the source {size}")
    dst_checksum = str(dst_head.get("ChecksumSHA256") or "")
    src_checksum = str(src_head.get("ChecksumSHA256") or "")
    if dst_checksum and not multipart and not _is_composite(dst_head) and expected_sha256:
        if _bare_checksum(dst_checksum) != _hex_to_b64(expected_sha256):
            raise CopyVerificationError("the SHA-256 of the copy differs from the uploaded file's")
        return dst_checksum, "sha256"
    if dst_checksum and src_checksum and (same_layout or not multipart):
        if _bare_checksum(dst_checksum) != _bare_checksum(src_checksum):
            raise CopyVerificationError("the composite SHA-256 of the copy differs from the source")
        return dst_checksum, "composite-sha256"
    src_etag = str(src_head.get("ETag") or "").strip('"')
    dst_etag = str(dst_head.get("ETag") or "").strip('"')
    comparable = ("-" not in src_etag and not multipart) or (multipart and same_layout)
    if src_etag and dst_etag and comparable:
        if src_etag != dst_etag:
            raise CopyVerificationError("the ETag of the copy differs from the source")
        return f"etag:{dst_etag}", "etag"
    logger.warning("no checksum or comparable ETag for the copy; verified its size only")
    return "", "size"


def server_side_copy(
    src_client: Any,
    src_bucket: str,
    src_key: str,
    dst_client: Any,
    dst_bucket: str,
    dst_key: str,
    *,
    expected_size: int,
    expected_sha256: str | None = None,
    src_version_id: str | None = None,
    part_size: int = 0,
    multipart_threshold: int = COPY_OBJECT_LIMIT,
) -> CopyResult:
    """Copy ``s3://src_bucket/src_key`` (that exact version) to ``s3://dst_bucket/dst_key``.

    ``expected_sha256`` is the hex SHA-256 of the content; ``part_size`` the part size the
    source was uploaded with (0: unknown, asked from S3). Raises botocore errors unchanged
    (callers decide what is transient) and :class:`CopyVerificationError`.
    """
    head_kwargs: dict[str, Any] = {"Bucket": src_bucket, "Key": src_key, "ChecksumMode": "ENABLED"}
    copy_source = {"Bucket": src_bucket, "Key": src_key}
    if src_version_id:
        head_kwargs["VersionId"] = src_version_id
        copy_source["VersionId"] = src_version_id
    src_head = src_client.head_object(**head_kwargs)
    size = int(src_head["ContentLength"])
    if size != expected_size:
        raise CopyVerificationError(f"the source has {size} bytes, {expected_size} were expected")

    same_layout = False
    if size <= multipart_threshold:
        response = dst_client.copy_object(
            Bucket=dst_bucket,
            Key=dst_key,
            CopySource=copy_source,
            MetadataDirective="COPY",
            TaggingDirective="COPY",
            ChecksumAlgorithm="SHA256",
        )
        multipart = False
    else:
        copy_part_size, same_layout = _part_layout(
            src_client, src_bucket, src_key, src_version_id, size, part_size
        )
        response = _multipart_copy(
            src_head, copy_source, dst_client, dst_bucket, dst_key, size, copy_part_size
        )
        multipart = True
    version_id = _version_id(response)

    dst_kwargs: dict[str, Any] = {"Bucket": dst_bucket, "Key": dst_key, "ChecksumMode": "ENABLED"}
    if version_id:
        dst_kwargs["VersionId"] = version_id
    dst_head = dst_client.head_object(**dst_kwargs)
    try:
        checksum, verified_by = _verify(
            src_head,
            dst_head,
            size=size,
            expected_sha256=expected_sha256,
            multipart=multipart,
            same_layout=same_layout,
        )
    except CopyVerificationError:
        delete_kwargs = {"Bucket": dst_bucket, "Key": dst_key}
        if version_id:
            delete_kwargs["VersionId"] = version_id
        try:
            dst_client.delete_object(**delete_kwargs)
        except Exception:
            logger.warning("could not delete the unverified copy s3://%s/%s", dst_bucket, dst_key)
        raise
    logger.info(
        "copied s3://%s/%s to s3://%s/%s (%d bytes, %s, verified by %s)",
        src_bucket,
        src_key,
        dst_bucket,
        dst_key,
        size,
        "multipart" if multipart else "CopyObject",
        verified_by,
    )
    return CopyResult(
        bucket=dst_bucket,
        key=dst_key,
        version_id=version_id,
        size=size,
        checksum=checksum,
        verified_by=verified_by,
        multipart=multipart,
    )
