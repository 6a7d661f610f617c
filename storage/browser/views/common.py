"""Helpers shared by the browser views: URLs with the key as a query parameter, JSON rows."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from ..keys import BadInput, check_key, check_version


def with_query(url: str, **params: Any) -> str:
    """url?params, every value percent-encoded once (keys keep '/', '?', '#', '%' as data)."""
    present = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{url}?{urlencode(present)}" if present else url


def objects_url(bucket_id: int, **params: Any) -> str:
    return with_query(reverse("browser:objects", args=[bucket_id]), **params)


def object_url(bucket_id: int, key: str, version: str = "", **params: Any) -> str:
    return with_query(
        reverse("browser:object", args=[bucket_id]), key=key, version=version, **params
    )


def download_url(bucket_id: int, key: str, version: str = "") -> str:
    return with_query(reverse("browser:download", args=[bucket_id]), key=key, version=version)


def key_and_version(params: Any) -> tuple[str, str]:
    if len(params.getlist("key")) > 1:
        raise BadInput("Send one 'key' parameter (this page acts on one object).")
    return check_key(params.get("key")), check_version(params.get("version"))


def page_size(request: HttpRequest) -> int:
    raw = request.GET.get("per_page", "")
    if not raw:
        return int(settings.BROWSER_PAGE_SIZE)
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise BadInput(
            "per_page must be a number from 1 to 1000 (S3 lists at most 1,000 keys per call)."
        )
    return int(raw)


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
