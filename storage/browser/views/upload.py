"""Upload into the current folder: the files app's streaming core (bounded memory, multipart,
aborted on any failure), its CSRF-before-body check and its progress-bar JavaScript."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.files.uploadhandler import SkipFile
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.views.decorators.csrf import csrf_exempt

from storage.files.download import clean_display_name
from storage.files.http import check_csrf_before_body, has_csrf_header
from storage.files.services import part_size_for
from storage.files.uploads import (
    BadFileName,
    CsrfRejected,
    TooLarge,
    UploadRefused,
    streamed_files,
)

from .. import acts
from ..access import browse_access
from ..http import browser_view, error_response, require_method, wants_json
from ..keys import BadInput, check_prefix
from ..s3ops import s3_client
from .common import objects_url

logger = logging.getLogger(__name__)


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
            raise BadFileName(getattr(exc, "message", str(exc))) from exc
        return client, bucket.name, key, {}

    try:
        with streamed_files(
            request,
            target,
            header_token=header_token,
            max_file_size=limit,
            part_size=part_size_for(limit),
            account_name=bucket.account.name,
            bucket=bucket.name,
        ) as files:
            stored = [acts.record_upload(access, f.uploaded) for f in files]
    except CsrfRejected as exc:
        return exc.response
    except TooLarge as exc:
        message = (
            f"{exc.file_name or 'A file'} is larger than the maximum of "
            f"{filesizeformat(limit)} per upload. Nothing from this upload was kept."
        )
        if wants_json(request):
            return JsonResponse({"error": message, "max_size": limit}, status=413)
        return error_response(request, message, 413)
    except UploadRefused as exc:
        return error_response(request, exc.message, exc.status)
    if wants_json(request):
        return JsonResponse({"objects": stored}, status=201)
    messages.success(request, "Uploaded " + ", ".join(s["key"] for s in stored) + ".")
    return redirect(objects_url(pk, prefix=folder))
