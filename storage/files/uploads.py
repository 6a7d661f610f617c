"""Receiving an upload: checks, the streaming handler, and what is kept or aborted.

:func:`receive` streams every ``file`` field of a multipart/form-data request straight into S3
(:class:`.upload_handler.S3StreamingUploadHandler`, bounded memory), records the StoredFile
rows (:func:`.services.record_uploads`, audited, backups enqueued on commit) and returns them.
Anything refused raises :class:`UploadRefused` (or :class:`TooLarge` / :class:`CsrfRejected`)
after every object this request stored in S3 has been aborted or deleted: nothing half-done is
kept. The view (:func:`.views.upload`) only turns the outcome into an answer.

CSRF is checked here, not by the middleware: from the X-CSRFToken header before a single byte
of the body is read, or, for a plain form post, after parsing (then everything is aborted).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.core.files.uploadhandler import SkipFile
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError

from accounts.errors import AWS_ERRORS, describe_aws_error

from . import services
from .download import clean_display_name
from .http import FilesContext, check_csrf, check_csrf_before_body, has_csrf_header
from .models import StoredFile
from .s3 import S3Client
from .upload_handler import S3StreamingUploadHandler, S3UploadedFile

logger = logging.getLogger(__name__)


class UploadRefused(Exception):
    """The upload was refused or failed; nothing from it was kept."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class TooLarge(UploadRefused):
    def __init__(self, file_name: str | None) -> None:
        super().__init__("too large", 413)
        self.file_name = file_name


class CsrfRejected(UploadRefused):
    """The CSRF check failed; `response` is the answer in the client's format."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__("CSRF verification failed", 403)
        self.response = response


class BadFileName(ValueError):
    """A file name the portal refuses (raised while the body is being parsed)."""


def not_set_up_message(ctx: FilesContext) -> str:
    return (
        f"File storage is not set up for {ctx.tenant.name} yet: a tenant admin chooses the "
        "primary and backup buckets in the admin (File spaces)."
    )


def _check_request(request: HttpRequest, ctx: FilesContext) -> bool:
    """Refuse what needs no body to refuse; True when the CSRF token came in a header."""
    if not ctx.may_upload:
        raise UploadRefused("Viewers have read-only access to files.", 403)
    if ctx.space is None:
        raise UploadRefused(not_set_up_message(ctx), 409)
    if request.content_type != "multipart/form-data":
        raise UploadRefused(
            "Send files as multipart/form-data, in one or more fields named 'file'.", 400
        )
    header_token = has_csrf_header(request)
    if header_token:
        rejected = check_csrf_before_body(request)
        if rejected is not None:
            raise CsrfRejected(rejected)
    return header_token


def _read_error(exc: Exception) -> str:
    if isinstance(exc, TooManyFilesSent):
        return (
            f"Too many files in one upload (at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES}); "
            "nothing was kept. Send them in several uploads."
        )
    if "header size" in str(exc):
        # Django caps each part's headers at 1,024 bytes: only a huge file name gets there.
        return (
            "A file name is too long: names may be at most 1,024 bytes (S3's key limit). "
            "Nothing from this upload was kept."
        )
    return f"The upload could not be read: {exc}"


UploadTarget = Callable[[str, str, str], tuple[S3Client, str, str, dict[str, str]]]


@contextmanager
def streamed_files(
    request: HttpRequest,
    target: UploadTarget,
    *,
    header_token: bool,
    max_file_size: int,
    part_size: int,
    account_name: str,
    bucket: str,
) -> Iterator[list[S3UploadedFile]]:
    """Stream the request's ``file`` fields into S3 and yield them, stored but not recorded.

    The caller records them inside the ``with`` block. Anything refused or failed, there or in
    the parsing, aborts or deletes every object this request stored and raises UploadRefused
    (TooLarge, CsrfRejected): the files app and the object browser share this one core.
    `target(field, file name, content type)` says where each file goes; it may raise
    BadFileName (refused with its message) or SkipFile.
    """
    handler = S3StreamingUploadHandler(
        request,
        target,
        max_file_size=max_file_size,
        part_size=part_size,
        checksums=settings.FILES_S3_CHECKSUMS,
        drain_limit=settings.FILES_TOO_LARGE_DRAIN_LIMIT,
        chunk_size=settings.FILES_UPLOAD_CHUNK_SIZE,
        background=settings.FILES_UPLOAD_BACKGROUND_PARTS,
    )
    request.upload_handlers = [handler]
    try:
        received = request.FILES.getlist("file")
        if not header_token:
            rejected = check_csrf(request)
            if rejected is not None:
                raise CsrfRejected(rejected)
        if handler.too_large is not None:
            raise TooLarge(handler.too_large.file_name)
        if handler.interrupted:
            raise UploadRefused(
                "The upload was interrupted in the middle of a file; nothing was kept.", 400
            )
        if not received:
            raise UploadRefused(
                "No file received: send one or more files in the multipart field 'file' "
                "(a file name must contain more than dots and spaces).",
                400,
            )
        files = []
        for f in received:
            assert isinstance(f, S3UploadedFile)  # the only handler of this request
            files.append(f)
        yield files
    except UploadRefused:
        handler.abort_all()
        raise
    except BadFileName as exc:
        handler.abort_all()
        raise UploadRefused(
            f"Refused: {str(exc).rstrip('.')}. Nothing from this upload was kept.", 400
        ) from exc
    except (MultiPartParserError, TooManyFilesSent, RequestDataTooBig) as exc:
        handler.abort_all()
        raise UploadRefused(_read_error(exc), 400) from exc
    except UnreadablePostError as exc:
        handler.abort_all()
        raise UploadRefused("The upload was interrupted; nothing was kept.", 400) from exc
    except AWS_ERRORS as exc:
        handler.abort_all()
        message = describe_aws_error(
            exc, account_name=account_name, operation="s3:PutObject", resource=bucket
        )
        logger.warning("upload to %s failed: %s", bucket, message)
        raise UploadRefused(f"Storing the file failed: {message}", 502) from exc
    except BaseException:
        handler.abort_all()
        raise


def receive(request: HttpRequest, ctx: FilesContext) -> list[StoredFile]:
    """Store the request's files in the tenant's primary bucket and record them."""
    header_token = _check_request(request, ctx)
    space = ctx.space
    assert space is not None  # _check_request refused the tenant without a file space
    user, tenant = ctx.user, ctx.tenant
    client = services.s3_client(space.account, space.primary_region)
    part_size = services.part_size_for(space.max_file_size)
    names: dict[str, str] = {}

    def target(
        field_name: str, file_name: str, content_type: str
    ) -> tuple[S3Client, str, str, dict[str, str]]:
        if field_name != "file":
            raise SkipFile()
        try:
            display_name = clean_display_name(file_name)
        except ValueError as exc:
            raise BadFileName(str(exc)) from exc
        key = services.object_key(space, user.pk, display_name)
        names[key] = display_name
        metadata = services.object_metadata(display_name, user.pk, tenant)
        return client, space.bucket, key, metadata

    with streamed_files(
        request,
        target,
        header_token=header_token,
        max_file_size=space.max_file_size,
        part_size=part_size,
        account_name=space.account.name,
        bucket=space.bucket,
    ) as files:
        uploads = [
            services.PendingUpload(f.uploaded, names[f.uploaded.key], part_size) for f in files
        ]
        return services.record_uploads(user, tenant, space, uploads)
