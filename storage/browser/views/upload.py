"""Upload into the current folder: the files app's streaming core (bounded memory, multipart,
aborted on any failure), its CSRF-before-body check and its progress-bar JavaScript."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.core.files.uploadhandler import SkipFile
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.views.decorators.csrf import csrf_exempt

from accounts.errors import describe_aws_error
from storage.files.download import clean_display_name
from storage.files.http import check_csrf, check_csrf_before_body, has_csrf_header
from storage.files.services import part_size_for
from storage.files.upload_handler import S3StreamingUploadHandler, S3UploadedFile

from .. import acts
from ..access import browse_access
from ..http import browser_view, error_response, require_method, wants_json
from ..keys import BadInput, check_prefix
from ..s3ops import s3_client
from .common import objects_url

logger = logging.getLogger(__name__)


class _Refused(ValueError):
    """A file the portal refuses while the body is being parsed."""


@csrf_exempt  # checked below: before the body when the token is in a header, else after it
@browser_view
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    require_method(request, "POST")
    access = browse_access(request, pk, act=True)
    folder = check_prefix(request.GET.get("prefix"))
    if request.content_type != "multipart/form-data":
        raise BadInput("Send files as multipart/form-data, in one or more fields named 'file'.")
    header_token = has_csrf_header(request)
    if header_token:
        rejected = check_csrf_before_body(request)
        if rejected is not None:
            return rejected
    bucket = access.bucket
    client = s3_client(bucket)
    limit = int(settings.BROWSER_MAX_UPLOAD_SIZE)

    def target(field_name: str, file_name: str, content_type: str) -> Any:
        if field_name != "file":
            raise SkipFile()
        try:
            key = acts.upload_key(folder, clean_display_name(file_name))
        except (ValueError, BadInput) as exc:
            raise _Refused(getattr(exc, "message", str(exc))) from exc
        return client, bucket.name, key, {}

    handler = S3StreamingUploadHandler(
        request,
        target,
        max_file_size=limit,
        part_size=part_size_for(limit),
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
                handler.abort_all()
                return rejected
        if handler.too_large is not None:
            handler.abort_all()
            message = (
                f"{handler.too_large.file_name or 'A file'} is larger than the maximum of "
                f"{filesizeformat(limit)} per upload. Nothing from this upload was kept."
            )
            if wants_json(request):
                return JsonResponse({"error": message, "max_size": limit}, status=413)
            return error_response(request, message, 413)
        if handler.interrupted:
            handler.abort_all()
            raise BadInput("The upload was interrupted in the middle of a file; nothing was kept.")
        if not received:
            raise BadInput(
                "No file received: send one or more files in the multipart field 'file'."
            )
        stored = []
        for f in received:
            assert isinstance(f, S3UploadedFile)  # the only handler of this request
            stored.append(acts.record_upload(access, f.uploaded))
    except _Refused as exc:
        handler.abort_all()
        return error_response(
            request, f"Refused: {str(exc).rstrip('.')}. Nothing from this upload was kept.", 400
        )
    except (MultiPartParserError, TooManyFilesSent, RequestDataTooBig, UnreadablePostError) as exc:
        handler.abort_all()
        return error_response(request, f"The upload could not be read: {exc}", 400)
    except (ClientError, BotoCoreError) as exc:
        handler.abort_all()
        message = describe_aws_error(
            exc, account_name=bucket.account.name, operation="s3:PutObject", resource=bucket.name
        )
        return error_response(request, f"Storing the file failed: {message}", 502)
    except BaseException:
        handler.abort_all()
        raise
    if wants_json(request):
        return JsonResponse({"objects": stored}, status=201)
    messages.success(request, "Uploaded " + ", ".join(s["key"] for s in stored) + ".")
    return redirect(objects_url(pk, prefix=folder))
