"""Acts on objects: versions and delete markers, restore, version delete, share links, uploads,
folders, bulk expiry; each audited (never a presigned URL in the trail)."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from storage.browser.models import BrowserSettings, ObjectExpiry, ShareLink
from tests.browser_fixtures import *  # noqa: F403
from tests.browser_fixtures import JSON, browse, object_page, post

pytestmark = pytest.mark.django_db


def _actions() -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith="browser.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_versions_delete_markers_restore_and_version_delete(
    personas: Any, versioned_a: Any, s3: Any
) -> None:
    bucket = versioned_a.name
    v1 = s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"two")["VersionId"]
    s3.put_object(Bucket=bucket, Key="doc.txt.bak", Body=b"other key, same prefix")
    client = personas.client_for("oscar")

    page = object_page(client, versioned_a, "doc.txt").json()
    assert page["versioned"] is True
    assert [(v["version_id"], v["is_latest"]) for v in page["versions"]] == [
        (v2, True),
        (v1, False),
    ]

    deleted = post(client, "delete", versioned_a, {"key": "doc.txt"}).json()
    assert deleted["delete_marker"] is True
    marker = deleted["version_id"]
    # The current version is a delete marker: the page offers the versions to restore.
    on_top = object_page(client, versioned_a, "doc.txt")
    assert on_top.status_code == 200 and on_top.json()["delete_marker"] is True
    assert [v["delete_marker"] for v in on_top.json()["versions"]] == [True, False, False]
    deleted_page = object_page(client, versioned_a, "doc.txt", json=False).content.decode()
    assert "This object was deleted" in deleted_page and "Restore" in deleted_page
    assert object_page(client, versioned_a, "doc.txt", marker).status_code == 200
    assert object_page(client, versioned_a, "never.txt").status_code == 404
    listed = browse(client, versioned_a, versions="1").json()["objects"]
    doc = [(o["version_id"], o["delete_marker"]) for o in listed if o["key"] == "doc.txt"]
    assert doc == [(marker, True), (v2, False), (v1, False)]
    html = client.get(f"/buckets/{versioned_a.pk}/object/", {"key": "doc.txt", "version": v1})
    assert "adds a delete marker" in html.content.decode()

    restored = post(client, "restore", versioned_a, {"key": "doc.txt", "version": v1}).json()
    assert restored["restored_from"] == v1
    assert s3.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"one"

    gone = post(client, "delete", versioned_a, {"key": "doc.txt", "version": v2})
    assert gone.status_code == 200 and gone.json() == {
        "key": "doc.txt",
        "version_id": v2,
        "deleted": True,
    }
    left = s3.list_object_versions(Bucket=bucket, Prefix="doc.txt")
    assert v2 not in [v["VersionId"] for v in left["Versions"]]
    assert v1 in [v["VersionId"] for v in left["Versions"]]
    assert "doc.txt.bak" in [v["Key"] for v in left["Versions"]]
    marker_restore = post(client, "restore", versioned_a, {"key": "doc.txt", "version": marker})
    assert marker_restore.status_code == 400
    assert _actions() == [
        "browser.object.delete",
        "browser.object.restore",
        "browser.object.version_delete",
    ]


def test_versions_page_through_with_markers(personas: Any, versioned_a: Any, s3: Any) -> None:
    ids = [
        s3.put_object(Bucket=versioned_a.name, Key="v", Body=str(i).encode())["VersionId"]
        for i in range(45)
    ]
    client = personas.client_for("oscar")
    first = object_page(client, versioned_a, "v").json()
    assert len(first["versions"]) == 20 and first["versions_next_token"]
    url = reverse("browser:object", args=[versioned_a.pk])
    seen = [v["version_id"] for v in first["versions"]]
    token = first["versions_next_token"]
    while token:
        page = client.get(url, {"key": "v", "vtoken": token}, **JSON).json()
        seen += [v["version_id"] for v in page["versions"]]
        token = page["versions_next_token"]
    assert seen == list(reversed(ids))
    other = client.get(url, {"key": "w", "vtoken": first["versions_next_token"]}, **JSON)
    assert other.status_code in (400, 404)


def test_share_link_issued_listed_audited_without_url(
    personas: Any, bucket_a: Any, s3: Any
) -> None:
    s3.put_object(Bucket=bucket_a.name, Key="dir/report é.pdf", Body=b"pdf")
    client = personas.client_for("oscar")
    answer = post(client, "share", bucket_a, {"key": "dir/report é.pdf", "lifetime": "2h"})
    assert answer.status_code == 201
    body = answer.json()
    assert body["lifetime_seconds"] == 7200
    signed = parse_qs(urlsplit(body["url"]).query)
    assert signed["X-Amz-Expires"] == ["7200"]
    assert "report%20%C3%A9.pdf" in signed["response-content-disposition"][0]
    links = object_page(client, bucket_a, "dir/report é.pdf").json()["share_links"]
    assert [link["id"] for link in links] == [body["id"]]
    event = AuditEvent.objects.get(action="browser.share.issue")
    trail = json.dumps([event.before, event.after])
    assert "X-Amz-Signature" not in trail and body["url"] not in trail
    assert event.after["lifetime_seconds"] == 7200
    # HTML: the URL is shown once on the page, never stored.
    page = client.post(
        reverse("browser:share", args=[bucket_a.pk]), {"key": "dir/report é.pdf", "lifetime": "15m"}
    )
    assert page.status_code == 200 and 'id="share-url"' in page.content.decode()
    assert not hasattr(ShareLink, "url")


@pytest.mark.parametrize(
    ("lifetime", "message"),
    [
        ("0", "at least 1 minute"),
        ("59s", "at least 1 minute"),
        ("8d", "at most 604800"),
        ("", "lifetime"),
        ("soon", "lifetime"),
        ("-5", "lifetime"),
    ],
)
def test_share_lifetime_bounds(
    personas: Any, bucket_a: Any, s3: Any, lifetime: str, message: str
) -> None:
    s3.put_object(Bucket=bucket_a.name, Key="k", Body=b"")
    answer = post(
        personas.client_for("oscar"), "share", bucket_a, {"key": "k", "lifetime": lifetime}
    )
    assert answer.status_code == 400 and message in answer.json()["error"]
    assert ShareLink.objects.count() == 0


def test_share_lifetime_capped_by_tenant_and_by_credentials(
    personas: Any, bucket_a: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.put_object(Bucket=bucket_a.name, Key="k", Body=b"")
    client = personas.client_for("oscar")
    BrowserSettings.objects.create(tenant=personas.tenant_a, max_share_seconds=3600)
    refused = post(client, "share", bucket_a, {"key": "k", "lifetime": "2h"})
    assert refused.status_code == 400 and "Tenant A" in refused.json()["error"]
    assert post(client, "share", bucket_a, {"key": "k", "lifetime": "1h"}).status_code == 201

    from storage.browser import shares

    monkeypatch.setattr(
        shares, "credential_lifetime", lambda account: (900, "role credentials end soon")
    )
    capped = post(client, "share", bucket_a, {"key": "k", "lifetime": "30m"})
    assert capped.status_code == 400 and "role credentials end soon" in capped.json()["error"]
    assert post(client, "share", bucket_a, {"key": "missing", "lifetime": "1m"}).status_code == 404


def test_credential_lifetime_of_assumed_role(personas: Any, moto: None) -> None:
    from accounts.models import AuthMethod, AwsAccount
    from storage.browser.shares import credential_lifetime

    account = AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="role",
        auth_method=AuthMethod.ASSUME_ROLE,
        role_arn="arn:aws:iam::123456789012:role/portal",
        # assumed from the platform's identity: allowed only once platform staff granted it
        platform_credentials_approved=True,
    )
    seconds, why = credential_lifetime(account)
    assert 0 < seconds <= 3600 and "temporary credentials" in why
    key_account = AwsAccount(tenant=personas.tenant_a, auth_method=AuthMethod.ACCESS_KEY)
    assert credential_lifetime(key_account)[0] == 604800


def _upload(
    client: Any, bucket: Any, prefix: str, files: list[tuple[str, bytes]], **extra: Any
) -> Any:
    handles = []
    for name, data in files:
        handle = io.BytesIO(data)
        handle.name = name
        handles.append(handle)
    url = reverse("browser:upload", args=[bucket.pk])
    return client.post(f"{url}?prefix={prefix}", {"file": handles}, **JSON, **extra)


def test_upload_into_the_current_folder(personas: Any, bucket_a: Any, s3: Any) -> None:
    from urllib.parse import quote

    client = personas.client_for("oscar")
    folder = "in & out/100%/"
    answer = _upload(
        client, bucket_a, quote(folder), [("r\u00e9sum\u00e9.txt", b"cv"), ("b.bin", b"\x00" * 10)]
    )
    assert answer.status_code == 201, answer.content
    keys = [o["key"] for o in answer.json()["objects"]]
    assert keys == [folder + "r\u00e9sum\u00e9.txt", folder + "b.bin"]
    assert s3.get_object(Bucket=bucket_a.name, Key=keys[0])["Body"].read() == b"cv"
    assert _actions() == ["browser.object.upload", "browser.object.upload"]
    assert (
        personas.client_for("bob")
        and _upload(personas.client_for("bob"), bucket_a, "", [("x", b"")]).status_code == 403
    )
    too_long = _upload(client, bucket_a, "p" * 1020, [("long-name.txt", b"")])
    assert too_long.status_code == 400 and "1,024 bytes" in too_long.json()["error"]
    assert _upload(client, bucket_a, "", []).status_code == 400


def test_upload_over_the_limit_is_refused_and_nothing_is_kept(
    personas: Any, bucket_a: Any, s3: Any, settings: Any
) -> None:
    settings.BROWSER_MAX_UPLOAD_SIZE = 1024
    client = personas.client_for("oscar")
    answer = _upload(client, bucket_a, "", [("small.txt", b"ok"), ("big.bin", b"x" * 5000)])
    assert answer.status_code == 413
    assert answer.json() == {
        "error": "big.bin is larger than the maximum of 1.0\xa0KB per upload. Nothing from "
        "this upload was kept.",
        "max_size": 1024,
    }
    assert s3.list_objects_v2(Bucket=bucket_a.name)["KeyCount"] == 0  # small.txt too
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket_a.name)
    assert _actions() == []


def test_upload_needs_csrf(personas: Any, bucket_a: Any) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.oscar)
    answer = _upload(client, bucket_a, "", [("a.txt", b"a")])
    assert answer.status_code == 403 and "CSRF" in answer.json()["error"]
    delete = client.post(reverse("browser:delete", args=[bucket_a.pk]), {"key": "a"}, **JSON)
    assert delete.status_code == 403 and "CSRF" in delete.json()["error"]


def test_create_folder(personas: Any, bucket_a: Any, s3: Any) -> None:
    client = personas.client_for("oscar")
    made = post(client, "create_folder", bucket_a, {"prefix": "a b/", "name": "new #1"})
    assert made.status_code == 201 and made.json() == {"key": "a b/new #1/"}
    assert s3.head_object(Bucket=bucket_a.name, Key="a b/new #1/")["ContentLength"] == 0
    assert browse(client, bucket_a, prefix="a b/").json()["folders"] == ["a b/new #1/"]
    for bad in ("", "x/y"):
        assert (
            post(client, "create_folder", bucket_a, {"prefix": "", "name": bad}).status_code == 400
        )


def test_bulk_expiry_sets_one_date_on_each_selected_object(
    personas: Any, bucket_a: Any, s3: Any
) -> None:
    for key in ("f/a", "f/b", "f/c"):
        s3.put_object(Bucket=bucket_a.name, Key=key, Body=key.encode())
    when = (date.today() + timedelta(days=10)).isoformat()
    client = personas.client_for("oscar")
    answer = post(
        client,
        "bulk_expiry",
        bucket_a,
        {"key": ["f/a", "f/c", "f/missing"], "expires_on": when, "prefix": "f/"},
    )
    assert answer.status_code == 200
    assert [e["key"] for e in answer.json()["expiries"]] == ["f/a", "f/c"]
    assert [f["key"] for f in answer.json()["failed"]] == ["f/missing"]
    assert sorted(ObjectExpiry.objects.values_list("key", flat=True)) == ["f/a", "f/c"]
    html = client.get(f"/buckets/{bucket_a.pk}/objects/", {"prefix": "f/"}).content.decode()
    assert html.count(when) >= 2
    listed = client.get(f"/buckets/{bucket_a.pk}/expiries/", **JSON).json()["expiries"]
    assert [(e["key"], e["state"]) for e in listed] == [("f/a", "pending"), ("f/c", "pending")]
    assert post(client, "bulk_expiry", bucket_a, {"expires_on": when}).status_code == 400


@pytest.mark.parametrize(
    "value", ["", "2020-01-01", "tomorrow", "2024-02-30", "31/12/2099", date.today().isoformat()]
)
def test_bad_expiry_dates_are_400(personas: Any, bucket_a: Any, s3: Any, value: str) -> None:
    s3.put_object(Bucket=bucket_a.name, Key="k", Body=b"")
    answer = post(
        personas.client_for("oscar"), "expiry", bucket_a, {"key": "k", "expires_on": value}
    )
    assert answer.status_code == 400 and "expires_on" in answer.json()["error"]
    assert ObjectExpiry.objects.count() == 0


def test_expiry_set_move_and_clear_are_audited(personas: Any, bucket_a: Any, s3: Any) -> None:
    s3.put_object(Bucket=bucket_a.name, Key="k", Body=b"")
    client = personas.client_for("oscar")
    d1, d2 = (date.today() + timedelta(days=n) for n in (5, 9))
    post(client, "expiry", bucket_a, {"key": "k", "expires_on": d1.isoformat()})
    post(client, "expiry", bucket_a, {"key": "k", "expires_on": d2.isoformat()})
    assert list(ObjectExpiry.objects.values_list("expires_on", "state")) == [(d2, "pending")]
    cleared = post(client, "expiry", bucket_a, {"key": "k", "clear": "1"})
    assert cleared.json() == {"key": "k", "cleared": 1}
    assert _actions() == ["browser.expiry.set", "browser.expiry.set", "browser.expiry.clear"]
    moved = AuditEvent.objects.filter(action="browser.expiry.set").order_by("pk").last()
    assert (
        moved.before["expires_on"] == d1.isoformat() and moved.after["expires_on"] == d2.isoformat()
    )
