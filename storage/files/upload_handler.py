"""Django upload handler that streams file fields of a multipart/form-data request to S3.

Install it as the *only* handler of the request, before ``request.POST``/``request.FILES``
is touched (CSRF middleware reads ``request.POST``, so the view must be
``@csrf_exempt`` and call ``csrf_protect`` itself after swapping handlers, as the Django
docs describe for upload handlers)::

    handler = S3StreamingUploadHandler(request, target_factory, max_file_size=5 * GiB)
    request.upload_handlers = [handler]
    try:
        files = request.FILES.getlist("file")
    except Exception:
        handler.abort_all()
        raise
    if handler.too_large is not None:
        handler.abort_all()
        return HttpResponse(status=413)
    if handler.interrupted:  # the body ended inside a file: keep nothing of this request
        handler.abort_all()
        return HttpResponse(status=400)

``target_factory(field_name, file_name, content_type) -> (client, bucket, key, metadata)``
is supplied by the view: it decides the key (e.g. from :func:`safe_object_name`), never
the browser. It may raise :class:`~django.core.files.uploadhandler.SkipFile` to ignore a
field or :class:`~django.core.files.uploadhandler.StopUpload` to stop the request.

Memory: :meth:`S3StreamingUploadHandler.receive_data_chunk` feeds each parser chunk
(``chunk_size``, 64 KiB) to a :class:`~storage.files.multipart.MultipartWriter` and returns
``None``, so Django keeps nothing and later handlers see nothing. Only one file is open at
a time, so a request holds at most one part (``part_size``) plus one chunk.

What Django does *not* do for us, and the handler therefore does itself:

* ``StopUpload`` (and so :class:`FileTooLarge`) is swallowed by Django's
  ``MultiPartParser``: ``request.FILES`` just comes back partial. The exception is kept in
  :attr:`S3StreamingUploadHandler.too_large` for the view to turn into a 413.
* On ``StopUpload`` Django only closes ``handler.file``; on any other exception (a
  malformed body, an S3 error, ``TooManyFilesSent``...) it calls no handler hook at all.
  The handler aborts the open multipart upload itself when the failure happens in one of
  its own hooks; :meth:`S3StreamingUploadHandler.abort_all` covers everything else and also
  deletes the objects of earlier files of the same request that were already completed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from io import UnsupportedOperation
from typing import Any, NoReturn

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers, StopUpload
from django.http import HttpRequest

from .multipart import DEFAULT_CONTENT_TYPE, DEFAULT_PART_SIZE, MultipartWriter, UploadedObject

__all__ = [
    "FileTooLarge",
    "S3StreamingUploadHandler",
    "S3UploadedFile",
    "TargetFactory",
    "clean_content_type",
]

logger = logging.getLogger(__name__)

#: ``(field_name, file_name, content_type) -> (boto3 client, bucket, key, metadata)``
TargetFactory = Callable[[str, str, str], tuple[Any, str, str, Mapping[str, str]]]

# RFC 6838 section 4.2 restricted-name, for both type and subtype.
_MIME_RE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
)


def clean_content_type(content_type: str | None) -> str:
    """Return the browser-supplied MIME type lower-cased if well formed, else the default.

    Well formed is not trustworthy: whoever serves the object back must not render it
    inline based on this value alone.
    """
    value = (content_type or "").strip()
    if _MIME_RE.fullmatch(value):
        return value.lower()
    return DEFAULT_CONTENT_TYPE


class FileTooLarge(StopUpload):
    """A file exceeded ``max_file_size``; the upload is halted without reading the rest.

    A :class:`~django.core.files.uploadhandler.StopUpload` with ``connection_reset=True``.
    Django's parser catches it, so views find it in
    :attr:`S3StreamingUploadHandler.too_large` rather than as a raised exception.
    """

    def __init__(
        self,
        max_size: int,
        *,
        field_name: str | None = None,
        file_name: str | None = None,
        connection_reset: bool = True,
    ) -> None:
        super().__init__(connection_reset=connection_reset)
        self.max_size = max_size
        self.field_name = field_name
        self.file_name = file_name

    def __str__(self) -> str:
        return f"File {self.file_name!r} exceeds the maximum size of {self.max_size} bytes"


class S3UploadedFile(UploadedFile):
    """A file that was streamed to S3 while the request was parsed.

    It appears in ``request.FILES`` like any uploaded file (``name``, ``size``,
    ``content_type``, ``charset``), but its content lives in S3 only: ``uploaded`` says
    where. Reading it raises :class:`io.UnsupportedOperation`; use
    :func:`storage.files.download.stream_object` instead.
    """

    def __init__(
        self,
        uploaded: UploadedObject,
        name: str,
        *,
        field_name: str | None = None,
        charset: str | None = None,
        content_type_extra: dict[str, bytes] | None = None,
    ) -> None:
        super().__init__(
            file=None,
            name=name,
            content_type=uploaded.content_type,
            size=uploaded.size,
            charset=charset,
            content_type_extra=content_type_extra,
        )
        self.uploaded = uploaded
        self.field_name = field_name

    def _no_content(self) -> NoReturn:
        raise UnsupportedOperation(
            f"{self.name!r} was streamed to s3://{self.uploaded.bucket}/{self.uploaded.key}; "
            "its content is not available locally"
        )

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> NoReturn:
        self._no_content()

    def read(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._no_content()

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        self._no_content()

    def __iter__(self) -> Iterator[bytes]:
        self._no_content()

    def multiple_chunks(self, chunk_size: int | None = None) -> bool:
        return False

    def close(self) -> None:
        # Called by Django at the end of the request; there is no local file to close.
        return None


class S3StreamingUploadHandler(FileUploadHandler):
    """Stream every uploaded file straight into S3 with bounded memory.

    :param request: the request being parsed.
    :param target_factory: ``(field_name, file_name, content_type) -> (client, bucket, key,
        metadata)``; ``file_name`` is Django's already basename-ed, untrusted browser name
        and ``content_type`` has been through :func:`clean_content_type`.
    :param max_file_size: maximum bytes per file (``None``: no limit besides S3's).
    :param part_size: multipart part size, 5 MiB to 5 GiB.
    :param checksums: send S3 SHA-256 flexible checksums (see :mod:`.multipart`).
    :param drain_limit: what to do with the rest of the body when a file is too large.
        ``None`` (default): reset the connection without reading it. A number: if at most that
        many bytes of the declared ``Content-Length`` are left, Django reads and discards them
        so that the client (a browser still sending) reliably receives the 413 response.
    :param chunk_size: bytes per read from the request body (Django's default is 64 KiB;
        larger chunks mean less Python work per byte).
    :param background: send each part from a helper thread while the next one is read
        (see :class:`~storage.files.multipart.MultipartWriter`); memory becomes two parts.
    """

    def __init__(
        self,
        request: HttpRequest | None,
        target_factory: TargetFactory,
        *,
        max_file_size: int | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        checksums: bool = True,
        drain_limit: int | None = None,
        chunk_size: int | None = None,
        background: bool = False,
    ) -> None:
        super().__init__(request)
        if max_file_size is not None and max_file_size < 0:
            raise ValueError("max_file_size must be >= 0")
        if chunk_size is not None:
            if chunk_size < 1:
                raise ValueError("chunk_size must be positive")
            self.chunk_size = chunk_size
        self.drain_limit = drain_limit
        self.background = background
        #: Set when the body ended in the middle of a file (client gone, truncated body).
        self.interrupted = False
        self._received_total = 0
        self.target_factory = target_factory
        self.max_file_size = max_file_size
        self.part_size = part_size
        self.checksums = checksums
        #: Set when a file exceeded ``max_file_size`` (Django swallows the exception).
        self.too_large: FileTooLarge | None = None
        self._writer: MultipartWriter | None = None
        self._client: Any = None
        self._received = 0
        self._completed: list[tuple[Any, UploadedObject]] = []

    # ------------------------------------------------------------------ inspection

    @property
    def completed(self) -> list[UploadedObject]:
        """Objects fully stored in S3 during this request, in upload order."""
        return [uploaded for _, uploaded in self._completed]

    @property
    def writer(self) -> MultipartWriter | None:
        """The writer of the file currently being received, if any."""
        return self._writer

    # ------------------------------------------------------------------ Django hooks

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, bytes] | None = None,
    ) -> None:
        content_type = clean_content_type(content_type)
        super().new_file(
            field_name, file_name, content_type, content_length, charset, content_type_extra
        )
        self._abort_current()  # defensive: never leave an earlier writer open
        self._received = 0
        if (
            self.max_file_size is not None
            and content_length is not None
            and content_length > self.max_file_size
        ):
            self._reject_too_large()
        client, bucket, key, metadata = self.target_factory(field_name, file_name, content_type)
        self._writer = MultipartWriter(
            client,
            bucket,
            key,
            content_type,
            metadata,
            self.part_size,
            checksums=self.checksums,
            background=self.background,
        )
        self._client = client
        # This handler consumes the file: later handlers must not create files for it.
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        writer = self._writer
        if writer is None:
            return raw_data  # not a file this handler opened
        self._received += len(raw_data)
        self._received_total += len(raw_data)
        if self.max_file_size is not None and self._received > self.max_file_size:
            self._reject_too_large()
        try:
            writer.write(raw_data)  # aborts the multipart upload itself on error
        except BaseException:
            self._writer = None
            raise
        return None  # nothing for Django (or any later handler) to keep

    def file_complete(self, file_size: int) -> S3UploadedFile | None:
        writer = self._writer
        if writer is None:
            return None
        self._writer = None
        if file_size != writer.size:
            logger.warning(
                "Parser reported %d bytes for %r but %d were written",
                file_size,
                self.file_name,
                writer.size,
            )
        uploaded = writer.complete()  # aborts the multipart upload itself on error
        self._completed.append((self._client, uploaded))
        return S3UploadedFile(
            uploaded,
            self.file_name or uploaded.key.rsplit("/", 1)[-1],
            field_name=self.field_name,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )

    def upload_interrupted(self) -> None:
        """Django: the body ended in the middle of a file.

        Django also calls this when the last file part was skipped (``SkipFile``); only a file
        that was actually being written counts as an interruption.
        """
        if self._writer is not None:
            self.interrupted = True
        self._abort_current()

    def upload_complete(self) -> None:
        """Django: parsing finished (also after a ``StopUpload``)."""
        self._abort_current()

    # ------------------------------------------------------------------ cleanup

    def abort_all(self) -> None:
        """Undo everything this request stored: abort the open multipart upload and
        delete every completed object (the exact version, on versioned buckets).

        Never raises; failures are logged. Safe to call more than once.
        """
        self._abort_current()
        completed, self._completed = self._completed, []
        for client, uploaded in completed:
            kwargs: dict[str, Any] = {"Bucket": uploaded.bucket, "Key": uploaded.key}
            if uploaded.version_id:
                kwargs["VersionId"] = uploaded.version_id
            try:
                client.delete_object(**kwargs)
            except Exception:
                logger.warning(
                    "Could not delete s3://%s/%s (version %s) after a failed upload",
                    uploaded.bucket,
                    uploaded.key,
                    uploaded.version_id,
                    exc_info=True,
                )
            else:
                logger.info(
                    "Deleted s3://%s/%s (version %s) after a failed upload",
                    uploaded.bucket,
                    uploaded.key,
                    uploaded.version_id,
                )

    def _abort_current(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.abort()

    def _connection_reset(self) -> bool:
        if self.drain_limit is None or self.request is None:
            return True
        try:
            declared = int(self.request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return True
        return declared - self._received_total > self.drain_limit

    def _reject_too_large(self) -> NoReturn:
        self._abort_current()
        error = FileTooLarge(
            self.max_file_size or 0,
            field_name=self.field_name,
            file_name=self.file_name,
            connection_reset=self._connection_reset(),
        )
        self.too_large = error
        logger.info("Rejected upload: %s", error)
        raise error
