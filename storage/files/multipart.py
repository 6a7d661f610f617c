"""Push-style S3 writer that holds at most one part in memory.

:class:`MultipartWriter` receives an upload as a sequence of ``write(chunk)`` calls and
turns it into one S3 object:

* Data is buffered until exactly ``part_size`` bytes are available, then sent with
  ``UploadPart``; the buffer is then dropped. Memory per writer is therefore bounded by
  one part (plus the chunk being written), whatever the size of the upload.
* The multipart upload is created *lazily*, when the first full part is flushed. An
  object smaller than ``part_size`` -- including an **empty (0 byte) object** -- never
  starts a multipart upload: :meth:`MultipartWriter.complete` stores it with a single
  ``PutObject`` of the buffered bytes. This sidesteps "a multipart upload needs at least
  one part" and saves three round trips for small files.
* A SHA-256 of the whole content is computed incrementally and returned in
  :class:`UploadedObject`. It cannot be stored as user metadata, because metadata is fixed
  by ``CreateMultipartUpload`` before the content is known.
* With ``checksums=True`` (default) every request also carries an S3 flexible checksum:
  ``ChecksumAlgorithm=SHA256`` on ``CreateMultipartUpload``, ``ChecksumSHA256`` of each
  part on ``UploadPart`` / ``CompleteMultipartUpload``, and ``ChecksumSHA256`` of the whole
  body on the small-object ``PutObject``, so that S3 verifies what it stores. (moto 5
  accepts these parameters but does not verify them; real S3 does.) Pass
  ``checksums=False`` for S3-compatible back ends that reject flexible checksums.

With ``background=True`` each full part is handed to one helper thread, which sends it while
the caller keeps writing the next part: reading the source and S3 storing a part overlap. At most
one part is in flight, so memory is bounded by two parts; parts keep their order; an error of
the helper thread is raised by the next ``write()``/``complete()`` (and aborts the upload).

Failure handling: any exception inside :meth:`~MultipartWriter.write` or
:meth:`~MultipartWriter.complete`, or leaving a ``with`` block without having called
``complete()``, aborts the multipart upload. :meth:`~MultipartWriter.abort` is idempotent
and never raises (errors are logged). As a backstop against crashed workers, buckets
should still carry an ``AbortIncompleteMultipartUpload`` lifecycle rule.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

from botocore.exceptions import ClientError

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "DEFAULT_PART_SIZE",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "MultipartWriter",
    "UploadedObject",
]

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
#: S3's minimum size for every part but the last one.
MIN_PART_SIZE = 5 * MiB
#: S3's maximum part size.
MAX_PART_SIZE = 5 * 1024 * MiB
DEFAULT_PART_SIZE = 8 * MiB
#: S3's maximum number of parts per multipart upload.
MAX_PARTS = 10_000
DEFAULT_CONTENT_TYPE = "application/octet-stream"

_State = Literal["open", "completed", "aborted"]


@dataclass(frozen=True, slots=True)
class UploadedObject:
    """An object that was completely and successfully written to S3."""

    bucket: str
    key: str
    #: Number of bytes written.
    size: int
    #: ETag as returned by S3, without the surrounding double quotes. For multipart
    #: objects this is *not* an MD5 of the content (it ends in ``-<part count>``).
    etag: str
    #: ``VersionId`` returned by S3; ``None`` if the bucket is not versioned (or
    #: versioning is suspended: S3's ``"null"`` version id is mapped to ``None``).
    version_id: str | None
    #: Lower-case hex SHA-256 of the whole content, computed while streaming.
    sha256: str
    content_type: str


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _etag(response: Mapping[str, Any]) -> str:
    return str(response.get("ETag", "")).strip('"')


def _version_id(response: Mapping[str, Any]) -> str | None:
    # moto (and S3-compatible stores) answer "null" for unversioned buckets, where S3
    # itself sends no x-amz-version-id at all. "null" is also the id of objects written
    # while versioning is suspended; either way it does not name a distinct version.
    version = response.get("VersionId")
    if not version or version == "null":
        return None
    return str(version)


class MultipartWriter:
    """Stream bytes into one S3 object, buffering at most ``part_size`` bytes.

    Usage::

        with MultipartWriter(client, bucket, key, "text/plain", {"owner": "42"}) as w:
            for chunk in source:
                w.write(chunk)
            uploaded = w.complete()

    ``metadata`` becomes S3 user metadata (``x-amz-meta-*``); keys and values must be
    ASCII, as they travel as HTTP headers.
    """

    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        content_type: str = DEFAULT_CONTENT_TYPE,
        metadata: Mapping[str, str] | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        *,
        checksums: bool = True,
        background: bool = False,
    ) -> None:
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ValueError(
                f"part_size must be between {MIN_PART_SIZE} and {MAX_PART_SIZE} bytes "
                f"(S3 limits), got {part_size}"
            )
        if not bucket or not key:
            raise ValueError("bucket and key must be non-empty")
        self._client = client
        self._bucket = bucket
        self._key = key
        self._content_type = content_type or DEFAULT_CONTENT_TYPE
        self._metadata: dict[str, str] = dict(metadata or {})
        self._part_size = part_size
        self._checksums = checksums
        # background=True: each full part is sent by a helper thread while the next one fills,
        # so reading the source and S3 storing a part overlap. At most one part is in flight:
        # memory is then bounded by two parts instead of one.
        self._background = background
        self._sender: ThreadPoolExecutor | None = None
        self._in_flight: Future[None] | None = None

        self._state: _State = "open"
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._size = 0
        self._sha256 = hashlib.sha256()
        self._buffer = io.BytesIO()
        self._buffered = 0
        self._part_sha256 = hashlib.sha256()
        self._max_buffered = 0

    # ------------------------------------------------------------------ properties

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def key(self) -> str:
        return self._key

    @property
    def content_type(self) -> str:
        return self._content_type

    @property
    def part_size(self) -> int:
        return self._part_size

    @property
    def size(self) -> int:
        """Bytes accepted by :meth:`write` so far."""
        return self._size

    @property
    def buffered(self) -> int:
        """Bytes currently held in memory (always ``<= part_size``)."""
        return self._buffered

    @property
    def max_buffered(self) -> int:
        """High-water mark of :attr:`buffered` over the writer's life."""
        return self._max_buffered

    @property
    def upload_id(self) -> str | None:
        """The S3 multipart ``UploadId``; ``None`` until the first part was flushed."""
        return self._upload_id

    @property
    def parts_uploaded(self) -> int:
        return len(self._parts)

    @property
    def state(self) -> _State:
        return self._state

    @property
    def closed(self) -> bool:
        return self._state != "open"

    # ------------------------------------------------------------------ public API

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        """Append ``chunk``; uploads a part each time ``part_size`` bytes are buffered.

        On any error the multipart upload is aborted and the error re-raised.
        """
        self._ensure_open("write")
        view = memoryview(chunk)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        total = len(view)
        if not total:
            return
        try:
            self._sha256.update(view)
            offset = 0
            while offset < total:
                room = self._part_size - self._buffered
                piece = view[offset : offset + room]
                self._buffer.write(piece)
                if self._checksums:
                    self._part_sha256.update(piece)
                taken = len(piece)
                self._buffered += taken
                self._size += taken
                offset += taken
                if self._buffered > self._max_buffered:
                    self._max_buffered = self._buffered
                if self._buffered >= self._part_size:
                    self._flush_part()
        except BaseException:
            self.abort()
            raise

    def complete(self) -> UploadedObject:
        """Upload what is buffered and finish the object.

        Small objects (``size < part_size``, including empty ones) are stored with one
        ``PutObject``; larger ones with ``CompleteMultipartUpload``. On any error the
        multipart upload is aborted and the error re-raised.
        """
        self._ensure_open("complete")
        try:
            if self._upload_id is None:
                response = self._put_whole_object()
            else:
                if self._buffered:
                    self._flush_part()
                self._wait_in_flight()
                response = self._client.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=self._key,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                )
        except BaseException:
            self.abort()
            raise
        self._state = "completed"
        self._reset_buffer()
        self._stop_sender()
        uploaded = UploadedObject(
            bucket=self._bucket,
            key=self._key,
            size=self._size,
            etag=_etag(response),
            version_id=_version_id(response),
            sha256=self._sha256.hexdigest(),
            content_type=self._content_type,
        )
        logger.debug(
            "Stored s3://%s/%s (%d bytes, %d parts, version %s)",
            self._bucket,
            self._key,
            self._size,
            len(self._parts),
            uploaded.version_id,
        )
        return uploaded

    def abort(self) -> None:
        """Abort the multipart upload and drop the buffer.

        Idempotent and never raises: an upload that S3 no longer knows (already aborted,
        or expired) is logged at INFO, any other failure at WARNING. Calling it after a
        successful :meth:`complete` does nothing -- deleting a finished object is the
        caller's decision.
        """
        if self._state == "completed":
            logger.warning(
                "abort() ignored: s3://%s/%s was already completed", self._bucket, self._key
            )
            return
        if self._state == "aborted":
            return
        self._state = "aborted"
        self._reset_buffer()
        try:
            self._wait_in_flight()  # never abort under a part that is still being sent
        except BaseException:
            logger.debug("the part in flight failed while aborting", exc_info=True)
        self._stop_sender()
        upload_id = self._upload_id
        if upload_id is None:
            logger.debug("Aborted s3://%s/%s before any part was sent", self._bucket, self._key)
            return
        try:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=upload_id
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in {"NoSuchUpload", "404"}:
                logger.info(
                    "Multipart upload %s of s3://%s/%s was already gone when aborting",
                    upload_id,
                    self._bucket,
                    self._key,
                )
            else:
                logger.warning(
                    "Could not abort multipart upload %s of s3://%s/%s",
                    upload_id,
                    self._bucket,
                    self._key,
                    exc_info=True,
                )
        except Exception:
            logger.warning(
                "Could not abort multipart upload %s of s3://%s/%s",
                upload_id,
                self._bucket,
                self._key,
                exc_info=True,
            )
        else:
            logger.info(
                "Aborted multipart upload %s of s3://%s/%s (%d parts)",
                upload_id,
                self._bucket,
                self._key,
                len(self._parts),
            )

    # ------------------------------------------------------------------ context manager

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._state != "open":
            return
        if exc_type is None:
            logger.warning(
                "MultipartWriter for s3://%s/%s left without complete(); aborting",
                self._bucket,
                self._key,
            )
        self.abort()

    def __repr__(self) -> str:
        return (
            f"<MultipartWriter s3://{self._bucket}/{self._key} state={self._state} "
            f"size={self._size} parts={len(self._parts)}>"
        )

    # ------------------------------------------------------------------ internals

    def _ensure_open(self, action: str) -> None:
        if self._state != "open":
            raise RuntimeError(f"cannot {action}(): writer is {self._state}")

    def _reset_buffer(self) -> None:
        self._buffer = io.BytesIO()
        self._buffered = 0
        self._part_sha256 = hashlib.sha256()

    def _create_upload(self) -> str:
        kwargs: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": self._key,
            "ContentType": self._content_type,
            "Metadata": self._metadata,
        }
        if self._checksums:
            kwargs["ChecksumAlgorithm"] = "SHA256"
        response = self._client.create_multipart_upload(**kwargs)
        upload_id = str(response["UploadId"])
        logger.debug(
            "Started multipart upload %s of s3://%s/%s", upload_id, self._bucket, self._key
        )
        return upload_id

    def _flush_part(self) -> None:
        if self._upload_id is None:
            self._upload_id = self._create_upload()
        part_number = len(self._parts) + 1
        if part_number > MAX_PARTS:
            raise ValueError(
                f"object exceeds S3's limit of {MAX_PARTS} parts of {self._part_size} bytes"
            )
        self._buffer.seek(0)
        kwargs: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": self._key,
            "UploadId": self._upload_id,
            "PartNumber": part_number,
            # A file object, not bytes(...): no copy of the part. (moto's in-process
            # stub also rejects bytearray bodies.)
            "Body": self._buffer,
            "ContentLength": self._buffered,
        }
        part: dict[str, Any] = {"PartNumber": part_number}
        if self._checksums:
            checksum = _b64(self._part_sha256.digest())
            kwargs["ChecksumSHA256"] = checksum
            part["ChecksumSHA256"] = checksum
        self._parts.append(part)
        if self._background:
            self._wait_in_flight()  # one part in flight at most
            if self._sender is None:
                self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3-part")
            self._in_flight = self._sender.submit(self._send_part, kwargs, part)
        else:
            self._send_part(kwargs, part)
        self._reset_buffer()  # a new buffer: the part being sent keeps its own

    def _send_part(self, kwargs: dict[str, Any], part: dict[str, Any]) -> None:
        response = self._client.upload_part(**kwargs)
        part["ETag"] = response["ETag"]

    def _wait_in_flight(self) -> None:
        """Wait for the part being sent in the background; re-raise its error."""
        future, self._in_flight = self._in_flight, None
        if future is not None:
            future.result()

    def _stop_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.shutdown(wait=True)

    def _put_whole_object(self) -> Mapping[str, Any]:
        self._buffer.seek(0)
        kwargs: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": self._key,
            "Body": self._buffer,
            "ContentLength": self._buffered,
            "ContentType": self._content_type,
            "Metadata": self._metadata,
        }
        if self._checksums:
            # The buffer is the whole object, so its part hash is the object hash.
            kwargs["ChecksumSHA256"] = _b64(self._sha256.digest())
        response: Mapping[str, Any] = self._client.put_object(**kwargs)
        return response
