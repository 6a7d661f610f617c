"""Every awkward key, end to end: listing, links, object page, download name, delete, expiry.

S3 keys are any UTF-8 up to 1,024 bytes (S3 UG object-keys.md); the portal must pass them
through byte for byte as a query parameter, escape them in HTML, and never act on another key
(S3Flow's double-encoded path segments broke every key with "/" or a space).
"""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from storage.browser import expiry
from storage.browser.keys import download_name, folder_of
from storage.browser.models import BrowserSettings, ObjectExpiry
from tests.browser_fixtures import *  # noqa: F403
from tests.browser_fixtures import AWKWARD_KEYS, JSON, browse, object_page, post

pytestmark = pytest.mark.django_db

IDS = [f"k{i}-{k[:12]!r}" for i, k in enumerate(AWKWARD_KEYS)]


def _sibling(key: str) -> str:
    """Another key sharing a prefix with `key` (a longer one where the limit allows)."""
    return key + "x" if len(key.encode()) < 1024 else key[:-1]


def _object_links(page: str) -> dict[str, str]:
    return {
        html.unescape(name): html.unescape(href)
        for href, name in re.findall(r'<a href="([^"]*)" class="object-link">([^<]*)</a>', page)
    }


@pytest.mark.parametrize("key", AWKWARD_KEYS, ids=IDS)
def test_key_is_listed_linked_shown_and_downloaded_exactly(
    personas: Any, bucket_a: Any, s3: Any, key: str
) -> None:
    s3.put_object(Bucket=bucket_a.name, Key=key, Body=b"exact content")
    s3.put_object(Bucket=bucket_a.name, Key=_sibling(key), Body=b"other")
    client = personas.client_for("oscar")
    folder = folder_of(key)

    listed = browse(client, bucket_a, prefix=folder)
    assert listed.status_code == 200
    assert key in [o["key"] for o in listed.json()["objects"]]

    page = client.get(f"/buckets/{bucket_a.pk}/objects/", {"prefix": folder})
    text = page.content.decode()
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in text  # escaped wherever it appears
    links = _object_links(text)
    name = key[len(folder) :] or key
    assert name in links, links
    # The link in the HTML round-trips to exactly this key.
    query = parse_qs(urlsplit(links[name]).query, keep_blank_values=True)
    assert query["key"] == [key]
    opened = client.get(links[name], **JSON)
    assert opened.status_code == 200 and opened.json()["key"] == key
    assert opened.json()["size"] == len(b"exact content")

    shown = object_page(client, bucket_a, key, json=False)
    assert shown.status_code == 200
    assert html.escape(key) in shown.content.decode()
    assert "<script>alert(1)</script>" not in shown.content.decode()
    # For JavaScript the key travels in a json_script block (no "</script>" can end it early).
    assert 'id="object-key-data"' in shown.content.decode()

    redirect = client.get(f"/buckets/{bucket_a.pk}/object/download/", {"key": key})
    assert redirect.status_code == 302
    signed = urlsplit(redirect["Location"])
    assert unquote(signed.path).lstrip("/") == key.lstrip("/") or unquote(signed.path) == f"/{key}"
    disposition = parse_qs(signed.query)["response-content-disposition"][0]
    assert disposition.endswith("filename*=UTF-8''" + _rfc5987(download_name(key)))


def _rfc5987(name: str) -> str:
    from urllib.parse import quote

    return quote(name.replace("/", "_"), safe="")


@pytest.mark.parametrize("key", AWKWARD_KEYS, ids=IDS)
def test_streamed_download_names_the_file_and_sends_the_bytes(
    personas: Any, bucket_a: Any, s3: Any, key: str
) -> None:
    BrowserSettings.objects.create(tenant=personas.tenant_a, browser_can_reach_s3=False)
    s3.put_object(Bucket=bucket_a.name, Key=key, Body=b"streamed")
    response = personas.client_for("oscar").get(
        f"/buckets/{bucket_a.pk}/object/download/", {"key": key}
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"streamed"
    assert response["Content-Disposition"].endswith("''" + _rfc5987(download_name(key)))
    assert "\n" not in response["Content-Disposition"]


@pytest.mark.parametrize("key", AWKWARD_KEYS, ids=IDS)
def test_delete_removes_exactly_that_key(personas: Any, bucket_a: Any, s3: Any, key: str) -> None:
    s3.put_object(Bucket=bucket_a.name, Key=key, Body=b"x")
    s3.put_object(Bucket=bucket_a.name, Key=_sibling(key), Body=b"y")
    answer = post(personas.client_for("oscar"), "delete", bucket_a, {"key": key})
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"key": key, "deleted": True, "delete_marker": False, "version_id": ""}
    remaining = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket_a.name).get("Contents", [])]
    assert remaining == [_sibling(key)]


@pytest.mark.parametrize("key", AWKWARD_KEYS, ids=IDS)
def test_expiry_round_trip_deletes_exactly_that_key(
    personas: Any, bucket_a: Any, s3: Any, key: str
) -> None:
    s3.put_object(Bucket=bucket_a.name, Key=key, Body=b"x")
    s3.put_object(Bucket=bucket_a.name, Key=_sibling(key), Body=b"y")
    when = date.today() + timedelta(days=3)
    client = personas.client_for("oscar")
    answer = post(client, "expiry", bucket_a, {"key": key, "expires_on": when.isoformat()})
    assert answer.status_code == 200, answer.content
    assert answer.json()["key"] == key and answer.json()["expires_on"] == when.isoformat()
    assert object_page(client, bucket_a, key).json()["expiries"][0]["expires_on"] == str(when)

    assert expiry.sweep(today=when - timedelta(days=1)) == {"done": 0, "skipped": 0, "failed": 0}
    assert expiry.sweep(today=when) == {"done": 1, "skipped": 0, "failed": 0}
    remaining = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket_a.name).get("Contents", [])]
    assert remaining == [_sibling(key)]
    row = ObjectExpiry.objects.get()
    assert row.key == key and row.state == ObjectExpiry.State.DONE
