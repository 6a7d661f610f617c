"""Read-only pages: the folder view, the object page, downloads, pending expiries.

JSON (``Accept: application/json``):

* ``GET /buckets/<id>/objects/?prefix=P&q=S&token=T&versions=1&per_page=N`` ->
  ``{"prefix", "folders", "objects": [{"key", "size", "storage_class", "last_modified",
  "etag"}], "next_token", "previous_token", "page"}`` (with ``versions=1`` each object also
  has ``version_id``, ``is_latest`` and ``delete_marker``)
* ``GET /buckets/<id>/object/?key=K[&version=V]`` -> the object's details and versions
* ``GET /buckets/<id>/object/download/?key=K[&version=V]`` -> 302 to a presigned URL, or the
  content streamed through the portal when the tenant says browsers cannot reach S3
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

import audit
from storage.files.download import content_disposition, stream_object

from .. import expiry, shares, tokens
from ..access import BrowseAccess, browse_access
from ..http import browser_view, require_method, wants_json
from ..keys import breadcrumbs, check_prefix, download_name, folder_of, relative_name
from ..models import ObjectExpiry
from ..s3ops import (
    VERSIONS_PER_PAGE,
    BrowserError,
    ObjectDetails,
    aws_errors,
    is_versioned,
    key_versions,
    list_page,
    list_versions_page,
    object_details,
    s3_client,
    version_of_key,
)
from .common import (
    download_url,
    iso,
    key_and_version,
    object_url,
    objects_url,
    page_size,
    with_query,
)

MODE_OBJECTS, MODE_VERSIONS, MODE_KEY_VERSIONS = "o", "v", "kv"


def _object_json(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "last_modified": iso(row.get("last_modified"))}


@browser_view
def objects(request: HttpRequest, pk: int) -> HttpResponse:
    require_method(request, "GET", "HEAD")
    access = browse_access(request, pk)
    folder = check_prefix(request.GET.get("prefix"))
    search = request.GET.get("q", "")
    prefix = check_prefix(folder + search)
    show_versions = request.GET.get("versions") == "1"
    mode = MODE_VERSIONS if show_versions else MODE_OBJECTS
    size = page_size(request)
    state = tokens.decode(request.GET.get("token", ""), pk, prefix, mode)
    client = s3_client(access.bucket)
    lister = list_versions_page if show_versions else list_page
    listing = lister(client, access.bucket, prefix, state.start, size)

    next_token = None
    if listing.next_start is not None:
        next_token = tokens.encode(pk, prefix, mode, tokens.next_state(state, listing.next_start))
    previous = tokens.previous_state(state)
    previous_token = tokens.encode(pk, prefix, mode, previous) if previous is not None else None

    if wants_json(request):
        return JsonResponse(
            {
                "prefix": prefix,
                "folders": listing.folders,
                "objects": [_object_json(o) for o in listing.objects],
                "next_token": next_token,
                "previous_token": previous_token,
                "page": state.number,
            }
        )

    keys = [o["key"] for o in listing.objects]
    pending = (
        {
            e.key: e
            for e in access.bucket.object_expiries.filter(
                state=ObjectExpiry.State.PENDING, key__in=keys
            )
        }
        if keys
        else {}
    )
    here = folder_of(prefix)
    params = {
        "prefix": folder,
        "q": search,
        "versions": "1" if show_versions else "",
        "per_page": request.GET.get("per_page", ""),
    }
    rows = [
        {
            **o,
            "name": relative_name(o["key"], here) or o["key"],
            "url": object_url(
                pk,
                o["key"],
                o.get("version_id", "")
                if show_versions and not o.get("is_latest") and not o.get("delete_marker")
                else "",
            ),
            "expiry": pending.get(o["key"]),
        }
        for o in listing.objects
    ]
    folders = [
        {"prefix": f, "name": relative_name(f, here) or f, "url": objects_url(pk, prefix=f)}
        for f in listing.folders
    ]
    return render(
        request,
        "browser/objects.html",
        {
            "access": access,
            "bucket": access.bucket,
            "folder": folder,
            "search": search,
            "prefix": prefix,
            "crumbs": [
                {"label": c.label, "url": objects_url(pk, prefix=c.prefix)}
                for c in breadcrumbs(prefix)
            ],
            "folders": folders,
            "rows": rows,
            "show_versions": show_versions,
            "page_number": state.number,
            "next_url": objects_url(pk, **params, token=next_token) if next_token else None,
            "previous_url": objects_url(pk, **params, token=previous_token)
            if previous is not None
            else None,
            "first_url": objects_url(pk, **params) if state.number > 2 else None,
            "versions_url": objects_url(
                pk, prefix=folder, q=search, versions="" if show_versions else "1"
            ),
            "upload_url": with_query(reverse("browser:upload", args=[pk]), prefix=here),
            "here": here,
            "max_upload": settings.BROWSER_MAX_UPLOAD_SIZE,
            "max_upload_label": filesizeformat(settings.BROWSER_MAX_UPLOAD_SIZE),
            "min_date": expiry.utc_today().isoformat(),
        },
    )


def _details_json(key: str, details: ObjectDetails | None) -> dict[str, Any]:
    if details is None:
        return {"key": key, "delete_marker": True}
    return {
        "delete_marker": False,
        "key": details.key,
        "version_id": details.version_id,
        "size": details.size,
        "etag": details.etag,
        "last_modified": iso(details.last_modified),
        "content_type": details.content_type,
        "storage_class": details.storage_class,
        "checksums": details.checksums,
        "encryption": details.encryption,
        "kms_key": details.kms_key,
        "metadata": details.metadata,
        "tags": details.tags,
        "legal_hold": details.legal_hold,
        "retention": details.retention,
        "notes": details.notes,
    }


def object_context(
    access: BrowseAccess, request: HttpRequest, key: str, version: str
) -> dict[str, Any]:
    bucket = access.bucket
    client = s3_client(bucket)
    named = version_of_key(client, bucket, key, version) if version else None  # this key's
    state = tokens.decode(request.GET.get("vtoken", ""), bucket.pk, key, MODE_KEY_VERSIONS)
    versions = key_versions(client, bucket, key, state.start, VERSIONS_PER_PAGE)
    details: ObjectDetails | None = None
    if named is None or not named["delete_marker"]:
        try:
            details = object_details(client, bucket, key, version)
        except BrowserError as exc:
            # Deleted in a versioned bucket: a delete marker on top, earlier versions remain
            # (shown so they can be restored). Otherwise the object does not exist: 404.
            if exc.status != 404 or version or not versions.objects or state.start is not None:
                raise
    more = None
    if versions.next_start is not None:
        more = tokens.encode(
            bucket.pk, key, MODE_KEY_VERSIONS, tokens.next_state(state, versions.next_start)
        )
    previous = tokens.previous_state(state)
    return {
        "key": key,
        "details": details,
        "versions": versions.objects,
        "versions_next": more,
        "versions_previous": tokens.encode(bucket.pk, key, MODE_KEY_VERSIONS, previous)
        if previous
        else None,
        "versioned": is_versioned(client, bucket),
        "links": shares.live_links(access, key),
        "expiries": expiry.pending_for(access, key),
    }


def object_json(access: BrowseAccess, ctx: dict[str, Any]) -> dict[str, Any]:
    return {
        **_details_json(ctx["key"], ctx["details"]),
        "versioned": ctx["versioned"],
        "versions": [_object_json(v) for v in ctx["versions"]],
        "versions_next_token": ctx["versions_next"],
        "share_links": [
            {
                "id": s.pk,
                "version_id": s.version_id,
                "expires_at": iso(s.expires_at),
                "issued_by": s.issued_by.get_username() if s.issued_by else None,
            }
            for s in ctx["links"]
        ],
        "expiries": [
            {
                "id": e.pk,
                "version_id": e.version_id,
                "expires_on": e.expires_on.isoformat(),
                "etag": e.expected_etag,
            }
            for e in ctx["expiries"]
        ],
        "download_url": download_url(access.bucket.pk, ctx["key"], ctx["version"]),
    }


def render_object(
    request: HttpRequest, access: BrowseAccess, key: str, version: str, **extra: Any
) -> HttpResponse:
    ctx = object_context(access, request, key, version)
    ctx["version"] = version
    if wants_json(request):
        return JsonResponse(
            {**object_json(access, ctx), **extra.get("json_extra", {})},
            status=extra.get("status", 200),
        )
    pk = access.bucket.pk
    folder = folder_of(key)
    for v in ctx["versions"]:
        v["url"] = object_url(pk, key, v["version_id"])
        v["download"] = download_url(pk, key, v["version_id"])
    share_cap, share_why = shares.lifetime_cap(access)
    return render(
        request,
        "browser/object.html",
        {
            "access": access,
            "bucket": access.bucket,
            "key": key,
            "version": version,
            "name": download_name(key),
            "folder_url": objects_url(pk, prefix=folder),
            "crumbs": [
                {"label": c.label, "url": objects_url(pk, prefix=c.prefix)}
                for c in breadcrumbs(folder)
            ],
            "download": download_url(pk, key, version),
            "versions_next_url": object_url(pk, key, version, vtoken=ctx["versions_next"])
            if ctx["versions_next"]
            else None,
            "versions_previous_url": object_url(pk, key, version, vtoken=ctx["versions_previous"])
            if ctx["versions_previous"]
            else None,
            "share_cap": share_cap,
            "share_why": share_why,
            "min_date": expiry.utc_today().isoformat(),
            **ctx,
            **{k: v for k, v in extra.items() if k not in {"json_extra", "status"}},
        },
        status=extra.get("status", 200),
    )


@browser_view
def object_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_method(request, "GET", "HEAD")
    access = browse_access(request, pk)
    key, version = key_and_version(request.GET)
    return render_object(request, access, key, version)


@browser_view
def download(request: HttpRequest, pk: int) -> HttpResponseBase:
    require_method(request, "GET")
    access = browse_access(request, pk)
    key, version = key_and_version(request.GET)
    bucket = access.bucket
    client = s3_client(bucket)
    if version:
        version_of_key(client, bucket, key, version)
    name = download_name(key)
    via_portal = not access.settings.browser_can_reach_s3
    with aws_errors(bucket, "s3:GetObject", key):
        if via_portal:
            stream = stream_object(client, bucket.name, key, version_id=version or None)
        else:
            client.head_object(
                Bucket=bucket.name, Key=key, **({"VersionId": version} if version else {})
            )
            params: dict[str, Any] = {
                "Bucket": bucket.name,
                "Key": key,
                "ResponseContentDisposition": content_disposition(name),
            }
            if version:
                params["VersionId"] = version
            url = client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=settings.BROWSER_DOWNLOAD_URL_TTL
            )
    with transaction.atomic():
        audit.record(
            request.user,
            access.tenant,
            "browser.object.download",
            bucket,
            after={
                "bucket": bucket.name,
                "key": key,
                "version_id": version,
                "mode": "stream" if via_portal else "presigned",
            },
            target_label=f"s3://{bucket.name}/{key}"[:255],
        )
    if not via_portal:
        response: HttpResponse = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"
        return response
    streamed = StreamingHttpResponse(
        stream, content_type=stream.content_type or "application/octet-stream"
    )
    if stream.content_length is not None:
        streamed["Content-Length"] = str(stream.content_length)
    streamed["Content-Disposition"] = content_disposition(name)
    # Never let the browser render bucket content in the portal's origin.
    streamed["Content-Security-Policy"] = "sandbox; default-src 'none'"
    streamed["X-Content-Type-Options"] = "nosniff"
    streamed["Cache-Control"] = "private, no-store"
    return streamed


@browser_view
def expiries(request: HttpRequest, pk: int) -> HttpResponse:
    """Pending (and recently finished) expiries of one bucket."""
    require_method(request, "GET", "HEAD")
    access = browse_access(request, pk)
    rows = list(
        access.bucket.object_expiries.all()
        .exclude(state=ObjectExpiry.State.CLEARED)
        .select_related("created_by")
        .order_by("state", "expires_on", "pk")[:1000]
    )
    if wants_json(request):
        return JsonResponse(
            {
                "expiries": [
                    {
                        "id": e.pk,
                        "key": e.key,
                        "version_id": e.version_id,
                        "expires_on": e.expires_on.isoformat(),
                        "state": e.state,
                        "note": e.note,
                        "set_by": e.created_by.get_username() if e.created_by else None,
                    }
                    for e in rows
                ]
            }
        )
    for e in rows:
        e.url = object_url(pk, e.key)  # type: ignore[attr-defined]
    return render(
        request,
        "browser/expiries.html",
        {"access": access, "bucket": access.bucket, "rows": rows, "objects_url": objects_url(pk)},
    )
