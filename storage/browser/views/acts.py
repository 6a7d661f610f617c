"""POST forms that change objects (operators and tenant admins). Each answers JSON with
``Accept: application/json`` (``{"error": ...}`` and a 4xx on bad input), else redirects back
with a message.

* ``POST /buckets/<id>/object/delete/`` ``key`` [``version``: delete that version for good]
* ``POST /buckets/<id>/object/restore/`` ``key``, ``version``: copy it over the current one
* ``POST /buckets/<id>/object/share/`` ``key`` [``version``], ``lifetime`` (``15m``, ``12h``,
  ``7d``, seconds) -> ``{"url", "expires_at", "lifetime_seconds", "id"}``
* ``POST /buckets/<id>/object/expiry/`` ``key`` [``version``], ``expires_on`` (YYYY-MM-DD) or
  ``clear=1``
* ``POST /buckets/<id>/objects/expiry/`` ``key`` (repeated), ``expires_on``: bulk
* ``POST /buckets/<id>/objects/folder/`` ``prefix``, ``name``
* ``POST /buckets/<id>/objects/upload/?prefix=P`` multipart, field ``file`` (repeatable)
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from .. import acts, expiry, shares
from ..access import browse_access
from ..http import action_view, require_method, wants_json
from ..keys import BadInput, check_key, check_prefix, download_name
from ..s3ops import BrowserError, head, s3_client, version_of_key
from .browse import render_object
from .common import iso, key_and_version, object_url, objects_url

MAX_BULK = 1000


def _done(
    request: HttpRequest, message: str, payload: dict[str, Any], back: str, status: int = 200
) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(payload, status=status)
    messages.success(request, message)
    return redirect(back)


@action_view
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_method(request, "POST")
    access = browse_access(request, pk, act=True)
    key, version = key_and_version(request.POST)
    folder = objects_url(pk, prefix=key[: key.rfind("/") + 1])
    if version:
        result = acts.delete_version(access, key, version)
        return _done(
            request, f"Deleted version {version} of {key} permanently.", result, object_url(pk, key)
        )
    result = acts.delete_object(access, key)
    if result["delete_marker"]:
        text = (
            f"{key} now has a delete marker (the bucket is versioned): earlier versions are kept "
            "and can be restored from the object page with 'show versions'."
        )
        return _done(request, text, result, folder)
    return _done(request, f"Deleted {key}.", result, folder)


@action_view
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    require_method(request, "POST")
    access = browse_access(request, pk, act=True)
    key, version = key_and_version(request.POST)
    if not version:
        raise BadInput("Send the 'version' to restore.")
    result = acts.restore_version(access, key, version)
    return _done(
        request,
        f"Restored version {version} of {key} as its current version.",
        result,
        object_url(pk, key),
    )


@action_view
def share(request: HttpRequest, pk: int) -> HttpResponse:
    require_method(request, "POST")
    access = browse_access(request, pk, act=True)
    key, version = key_and_version(request.POST)
    lifetime = shares.parse_lifetime(request.POST.get("lifetime"))
    # 404 for a missing object or another object's version, before a URL is signed.
    client = s3_client(access.bucket)
    if version:
        version_of_key(client, access.bucket, key, version)
    head(client, access.bucket, key, version)
    url, link = shares.issue(access, key, version, lifetime)
    payload = {
        "id": link.pk,
        "key": key,
        "version_id": version,
        "url": url,
        "expires_at": iso(link.expires_at),
        "lifetime_seconds": link.lifetime_seconds,
    }
    if wants_json(request):
        return JsonResponse(payload, status=201)
    # Shown once, on this page; the portal keeps no copy of the URL.
    return render_object(request, access, key, version, share_url=url, share_link=link)


@action_view
def set_expiry(request: HttpRequest, pk: int) -> HttpResponse:
    require_method(request, "POST")
    access = browse_access(request, pk, act=True)
    key, version = key_and_version(request.POST)
    if request.POST.get("clear") == "1":
        cleared = expiry.clear_expiry(access, key, version)
        return _done(
            request,
            f"Expiry of {key} cleared.",
            {"key": key, "cleared": cleared},
            object_url(pk, key),
        )
    when = expiry.parse_date(request.POST.get("expires_on"))
    row = expiry.set_expiry(access, key, version, when)
    payload = {
        "id": row.pk,
        "key": key,
        "version_id": row.version_id,
        "etag": row.expected_etag,
        "expires_on": row.expires_on.isoformat(),
        "state": row.state,
    }
    return _done(
        request,
        f"{download_name(key)} will be deleted on {when} (00:00 UTC).",
        payload,
        object_url(pk, key),
    )


@action_view
def bulk_expiry(request: HttpRequest, pk: int) -> HttpResponse:
    require_method(request, "POST")
    access = browse_access(request, pk, act=True)
    keys = request.POST.getlist("key")
    if not keys:
        raise BadInput("Select at least one object (send 'key', repeated).")
    if len(keys) > MAX_BULK:
        raise BadInput(f"At most {MAX_BULK} objects at once.")
    checked = [check_key(k) for k in keys]
    when = expiry.parse_date(request.POST.get("expires_on"))
    done, failed = [], []
    for key in checked:
        try:
            row = expiry.set_expiry(access, key, "", when)
        except BrowserError as exc:
            failed.append({"key": key, "error": exc.message})
        else:
            done.append({"key": key, "version_id": row.version_id, "expires_on": when.isoformat()})
    back = objects_url(pk, prefix=check_prefix(request.POST.get("prefix")))
    payload = {"expiries": done, "failed": failed}
    if wants_json(request):
        return JsonResponse(payload, status=200 if done else 400)
    if failed:
        messages.warning(
            request,
            f"{len(failed)} objects were not found and got no date: "
            + ", ".join(f["key"] for f in failed[:10]),
        )
    if done:
        messages.success(request, f"{len(done)} objects will be deleted on {when} (00:00 UTC).")
    return redirect(back)


@action_view
def create_folder(request: HttpRequest, pk: int) -> HttpResponse:
    require_method(request, "POST")
    access = browse_access(request, pk, act=True)
    parent = check_prefix(request.POST.get("prefix"))
    key = acts.create_folder(access, parent, request.POST.get("name", ""))
    return _done(
        request, f"Folder {key} created.", {"key": key}, objects_url(pk, prefix=key), status=201
    )
