"""File pages and their JSON twins: list, upload, download, delete, expiry.

JSON contract (``Accept: application/json``; session cookie; CSRF token in ``X-CSRFToken``):

* ``GET /files/?q=&sort=&page=&per_page=&owner=`` -> 200 ``{"files": [FILE...], "count",
  "page", "pages", "per_page", "sort", "q"}``
* ``POST /files/upload/`` (multipart, field ``file`` repeatable) -> 201 ``{"files": [FILE...]}``
* ``GET /files/<id>/download/`` -> 302 to a presigned URL, or 200 with the content streamed
* ``POST /files/<id>/delete/`` -> 200 ``{"id", "deleted": true, "restorable",
  "backup_kept_until"}`` (the backup is kept, and restorable by an admin, until then)
* ``POST /files/<id>/expiry/`` (``expires_on`` = YYYY-MM-DD or empty) -> 200 FILE

FILE = ``{"id", "name", "size", "key", "content_type", "sha256", "uploaded_at", "expires_on",
"backup_status", "owner", "download_url"}``. Errors: ``{"error": "..."}`` with 400 (bad
input), 401 (not logged in), 403 (role or CSRF), 404 (no such file for you), 405, 409 (file
storage not set up), 413 (too large, plus ``max_size``), 502 (S3 refused).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from accounts.users import AuthenticatedRequest, User

from . import services, uploads
from .download import content_disposition
from .forms import DEFAULT_SORT, SORTS, ListQueryForm
from .http import (
    FilesContext,
    check_csrf,
    error_response,
    file_action_view,
    files_view,
    get_file,
    require_method,
    wants_json,
)
from .models import StoredFile

logger = logging.getLogger(__name__)


def file_json(stored: StoredFile) -> dict[str, Any]:
    return {
        "id": stored.pk,
        "name": stored.original_name,
        "size": stored.size,
        "key": stored.key,
        "content_type": stored.content_type,
        "sha256": stored.sha256,
        "uploaded_at": stored.uploaded_at.isoformat(),
        "expires_on": stored.expires_on.isoformat() if stored.expires_on else None,
        "backup_status": stored.backup_state,
        "owner": stored.owner.get_username() if stored.owner else None,
        "download_url": reverse("files:download", args=[stored.pk]),
    }


def _done(request: HttpRequest, message: str, payload: dict[str, Any], status: int = 200) -> Any:
    if wants_json(request):
        return JsonResponse(payload, status=status)
    messages.success(request, message)
    return redirect("files:list")


# --------------------------------------------------------------------------- list


def _sort_links(params: dict[str, str], current: str) -> dict[str, dict[str, str]]:
    links = {}
    for name in SORTS:
        new = f"-{name}" if current == name else name
        arrow = "▲" if current == name else "▼" if current == f"-{name}" else ""
        query = urlencode({**{k: v for k, v in params.items() if v}, "sort": new})
        aria = "ascending" if current == name else "descending" if current == f"-{name}" else "none"
        links[name] = {"url": f"?{query}", "arrow": arrow, "aria": aria}
    return links


@files_view
def file_list(request: HttpRequest, ctx: FilesContext) -> HttpResponse:
    require_method(request, "GET", "HEAD")
    return list_page(request, ctx)


def list_page(
    request: HttpRequest,
    ctx: FilesContext,
    *,
    expiry_error: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The file list; with `expiry_error` ({"pk", "message"}) that file's date field shows it."""
    if ctx.space is None:
        if wants_json(request):
            return error_response(request, uploads.not_set_up_message(ctx), 409)
        return render(request, "files/not_set_up.html", {"ctx": ctx, "tenant": ctx.tenant})
    form = ListQueryForm(request.GET)
    if not form.is_valid():
        return error_response(request, form.error_text(), 400)
    files = ctx.visible_files().select_related("owner")
    query = form.cleaned_data["q"]
    if query:
        files = files.filter(original_name__icontains=query)
    owner = form.cleaned_data["owner"]
    if owner:
        files = files.filter(owner_id=owner)
    files = files.order_by(*form.ordering())
    per_page = form.cleaned_data["per_page"] or settings.FILES_PER_PAGE
    paginator = Paginator(files, per_page)
    sort = form.cleaned_data["sort"] or DEFAULT_SORT

    if wants_json(request):
        try:
            page = paginator.page(form.cleaned_data["page"] or 1)
        except EmptyPage:
            return error_response(request, f"Page {form.cleaned_data['page']} does not exist.", 404)
        return JsonResponse(
            {
                "files": [file_json(f) for f in page.object_list],
                "count": paginator.count,
                "page": page.number,
                "pages": paginator.num_pages,
                "per_page": per_page,
                "sort": sort,
                "q": query,
            }
        )

    page = paginator.get_page(form.cleaned_data["page"] or 1)
    params = {
        "q": query,
        "owner": str(owner or ""),
        "per_page": str(form.cleaned_data["per_page"] or ""),
    }
    owners: QuerySet[User] | list[User] = []
    if ctx.sees_all:
        # People with a live file in this tenant (users are not tenant-owned; their files are).
        owner_ids = StoredFile.objects.active().for_tenant(ctx.tenant).values("owner_id")
        owners = get_user_model().objects.filter(pk__in=owner_ids).order_by("username")
    expiry_error = expiry_error or {}
    rows = [
        {
            "file": f,
            "may_change": ctx.may_change(f),
            "expiry_error": expiry_error.get("message") if expiry_error.get("pk") == f.pk else "",
        }
        for f in page.object_list
    ]
    page_query = urlencode({**{k: v for k, v in params.items() if v}, "sort": sort})
    return render(
        request,
        "files/list.html",
        {
            "ctx": ctx,
            "tenant": ctx.tenant,
            "space": ctx.space,
            "page": page,
            "rows": rows,
            "query": query,
            "owner": owner,
            "owners": owners,
            "sort": sort,
            "sort_links": _sort_links(params, sort),
            "page_query": page_query,
            "max_size_label": filesizeformat(ctx.space.max_file_size),
            "expiry_error": expiry_error,
        },
        status=status,
    )


# --------------------------------------------------------------------------- upload


def _too_large(request: HttpRequest, ctx: FilesContext, file_name: str | None) -> HttpResponse:
    assert ctx.space is not None
    limit = ctx.space.max_file_size
    message = (
        f"{file_name or 'A file'} is larger than the maximum of {filesizeformat(limit)} "
        f"({limit} bytes) per file in {ctx.tenant.name}. Nothing from this upload was kept."
    )
    if wants_json(request):
        return JsonResponse({"error": message, "max_size": limit}, status=413)
    return render(
        request,
        "files/too_large.html",
        {"message": message, "limit": limit, "file_name": file_name},
        status=413,
    )


@csrf_exempt  # checked by uploads.receive: before the body when the token is in a header
@files_view
def upload(request: HttpRequest, ctx: FilesContext) -> HttpResponse:
    require_method(request, "POST")
    try:
        stored = uploads.receive(request, ctx)
    except uploads.CsrfRejected as exc:
        return exc.response
    except uploads.TooLarge as exc:
        return _too_large(request, ctx, exc.file_name)
    except uploads.UploadRefused as exc:
        return error_response(request, exc.message, exc.status)
    names_text = ", ".join(f.original_name for f in stored)
    return _done(
        request,
        f"Uploaded {names_text}.",
        {"files": [file_json(f) for f in stored]},
        status=201,
    )


# --------------------------------------------------------------------------- one file


@file_action_view
def download(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    require_method(request, "GET")
    stored, file_ctx = get_file(request, pk, action="download")
    target = services.download(request.user, stored, file_ctx.space)
    if target.url is not None:
        response: HttpResponse = HttpResponseRedirect(target.url)
        response["Cache-Control"] = "no-store"
        return response
    assert target.stream is not None
    streamed = StreamingHttpResponse(target.stream, content_type=stored.content_type)
    if target.stream.content_length is not None:
        streamed["Content-Length"] = str(target.stream.content_length)
    streamed["Content-Disposition"] = content_disposition(stored.original_name)
    # Never let the browser render user content in the portal's origin.
    streamed["Content-Security-Policy"] = "sandbox; default-src 'none'"
    streamed["X-Content-Type-Options"] = "nosniff"
    streamed["Cache-Control"] = "private, no-store"
    return streamed


@csrf_exempt  # checked by check_csrf, answering in the client's format
@file_action_view
def delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_method(request, "POST")
    rejected = check_csrf(request)
    if rejected is not None:
        return rejected
    stored, file_ctx = get_file(request, pk, action="change")
    services.delete_file(request.user, stored, file_ctx.space)
    if stored.restorable and stored.purge_backup_after:
        kept: str | None = stored.purge_backup_after.isoformat()
        note = f"A tenant admin can restore it until {stored.purge_backup_after:%Y-%m-%d}."
    else:
        kept, note = None, "It had no backup yet, so this cannot be undone."
    return _done(
        request,
        f"Deleted {stored.original_name}. {note}",
        {
            "id": stored.pk,
            "deleted": True,
            "restorable": kept is not None,
            "backup_kept_until": kept,
        },
    )


@csrf_exempt  # checked by check_csrf, answering in the client's format
@file_action_view
def expiry(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_method(request, "POST")
    rejected = check_csrf(request)
    if rejected is not None:
        return rejected
    stored, file_ctx = get_file(request, pk, action="change")
    if "expires_on" not in request.POST:
        return error_response(request, "Send expires_on (YYYY-MM-DD, or empty to clear).", 400)
    try:
        expires_on = services.parse_expiry(request.POST["expires_on"])
    except services.FilesError as exc:
        if wants_json(request):
            raise
        # A page form: the list again, with the error beside this file's date field.
        error = {"pk": stored.pk, "message": exc.message, "name": stored.original_name}
        return list_page(request, file_ctx, expiry_error=error, status=exc.status)
    services.set_expiry(request.user, stored, expires_on)
    when = expires_on.isoformat() if expires_on else None
    text = f"{stored.original_name} expires on {when}." if when else "Expiry cleared."
    return _done(request, text, file_json(stored))
