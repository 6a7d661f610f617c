"""Browse pages and their JSON: scoping by persona, pagination, page tokens, bad input."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.test import Client

from storage.browser.models import BrowserSettings
from tests.browser_fixtures import *  # noqa: F403
from tests.browser_fixtures import JSON, browse, object_page, post

pytestmark = pytest.mark.django_db


def _urls(bucket: Any) -> list[str]:
    base = f"/buckets/{bucket.pk}"
    return [
        f"{base}/objects/",
        f"{base}/object/?key=a.txt",
        f"{base}/object/download/?key=a.txt",
        f"{base}/expiries/",
    ]


@pytest.fixture
def with_object(bucket_a: Any, s3: Any) -> Any:
    s3.put_object(Bucket=bucket_a.name, Key="a.txt", Body=b"a")
    return bucket_a


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("alice", 200),
        ("oscar", 200),
        ("root", 200),
        ("bob", 403),
        ("vera", 403),
        ("carol", 404),
        ("stranger", 404),
    ],
)
def test_read_pages_by_persona(personas: Any, with_object: Any, persona: str, status: int) -> None:
    client = personas.client_for(persona)
    for url in _urls(with_object):
        for headers in ({}, JSON):
            answer = client.get(url, **headers)
            expected = 302 if status == 200 and "download" in url else status
            assert answer.status_code == expected, (persona, url, answer.content[:200])
            if headers and status != 200:
                assert "error" in answer.json()


def test_anonymous_json_is_401_and_html_redirects_to_login(with_object: Any) -> None:
    client = Client()
    for url in _urls(with_object):
        assert client.get(url, **JSON).status_code == 401
        assert client.get(url)["Location"].startswith("/login/")


@pytest.mark.parametrize("persona", ["bob", "vera"])
def test_members_and_viewers_browse_read_only_when_the_tenant_allows(
    personas: Any, with_object: Any, persona: str
) -> None:
    BrowserSettings.objects.create(tenant=personas.tenant_a, members_may_browse=True)
    client = personas.client_for(persona)
    assert browse(client, with_object).status_code == 200
    assert object_page(client, with_object, "a.txt").status_code == 200
    assert client.get(f"/buckets/{with_object.pk}/object/download/?key=a.txt").status_code == 302
    for name, data in [
        ("delete", {"key": "a.txt"}),
        ("share", {"key": "a.txt", "lifetime": "1h"}),
        ("expiry", {"key": "a.txt", "expires_on": "2099-01-01"}),
        ("create_folder", {"prefix": "", "name": "x"}),
        ("bulk_expiry", {"key": "a.txt", "expires_on": "2099-01-01"}),
    ]:
        answer = post(client, name, with_object, data)
        assert answer.status_code == 403, name
        assert "Operator" in answer.json()["error"]


def test_other_tenant_acts_are_404_and_change_nothing(
    personas: Any, with_object: Any, s3: Any
) -> None:
    carol = personas.client_for("carol")
    assert post(carol, "delete", with_object, {"key": "a.txt"}).status_code == 404
    assert post(carol, "share", with_object, {"key": "a.txt", "lifetime": "1h"}).status_code == 404
    assert s3.head_object(Bucket=with_object.name, Key="a.txt")["ContentLength"] == 1


def test_file_space_buckets_are_for_tenant_admins_only(
    personas: Any, account_a: Any, s3: Any
) -> None:
    from storage.files.models import FileSpace
    from storage.models import Bucket

    for name in ("space-primary", "space-backup"):
        s3.create_bucket(Bucket=name)
    FileSpace.objects.create(
        tenant=personas.tenant_a,
        account=account_a,
        bucket="space-primary",
        backup_account=account_a,
        backup_bucket="space-backup",
    )
    BrowserSettings.objects.create(tenant=personas.tenant_a, members_may_browse=True)
    for name in ("space-primary", "space-backup"):
        bucket = Bucket.objects.create(account=account_a, name=name)
        assert browse(personas.client_for("alice"), bucket).status_code == 200
        for persona in ("oscar", "bob", "vera"):
            answer = browse(personas.client_for(persona), bucket)
            assert answer.status_code == 403
            assert "tenant admins" in answer.json()["error"]


def test_gone_bucket_and_deleted_account_are_404(personas: Any, with_object: Any) -> None:
    from django.utils import timezone

    client = personas.client_for("alice")
    with_object.gone_at = timezone.now()
    with_object.save()
    assert browse(client, with_object).status_code == 404
    with_object.account.delete()
    assert browse(client, with_object).status_code == 404
    assert client.get("/buckets/99999999999999999999/objects/", **JSON).status_code == 404


def test_folders_breadcrumbs_and_prefix_search(personas: Any, bucket_a: Any, s3: Any) -> None:
    for key in ["docs/2024/a.pdf", "docs/2024/b.pdf", "docs/2025/c.pdf", "docs/readme", "top"]:
        s3.put_object(Bucket=bucket_a.name, Key=key, Body=b"x")
    client = personas.client_for("oscar")
    assert browse(client, bucket_a).json()["folders"] == ["docs/"]
    inside = browse(client, bucket_a, prefix="docs/").json()
    assert inside["prefix"] == "docs/"
    assert inside["folders"] == ["docs/2024/", "docs/2025/"]
    assert [o["key"] for o in inside["objects"]] == ["docs/readme"]
    assert set(inside["objects"][0]) == {"key", "size", "storage_class", "last_modified", "etag"}
    searched = browse(client, bucket_a, prefix="docs/", q="2025").json()
    assert searched["prefix"] == "docs/2025" and searched["folders"] == ["docs/2025/"]
    page = client.get(f"/buckets/{bucket_a.pk}/objects/", {"prefix": "docs/2024/"}).content.decode()
    assert f'href="/buckets/{bucket_a.pk}/objects/?prefix=docs%2F"' in page
    assert "a.pdf" in page and "b.pdf" in page


def test_pagination_across_2500_objects_forward_and_back(
    personas: Any, bucket_a: Any, s3: Any
) -> None:
    keys = [f"many/{i:05d}.bin" for i in range(2500)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket_a.name, Key=k, Body=b""), keys))
    client = personas.client_for("oscar")
    seen: list[str] = []
    pages = []
    token = ""
    while True:
        answer = browse(client, bucket_a, prefix="many/", token=token, per_page=1000).json()
        pages.append(answer)
        seen += [o["key"] for o in answer["objects"]]
        if not answer["next_token"]:
            break
        token = answer["next_token"]
    assert [len(p["objects"]) for p in pages] == [1000, 1000, 500]
    assert [p["page"] for p in pages] == [1, 2, 3]
    assert seen == keys  # every key once, in order
    back = browse(client, bucket_a, prefix="many/", token=pages[2]["previous_token"], per_page=1000)
    assert back.json()["objects"] == pages[1]["objects"] and back.json()["page"] == 2
    first = browse(
        client, bucket_a, prefix="many/", token=back.json()["previous_token"], per_page=1000
    )
    assert first.json()["objects"] == pages[0]["objects"]
    assert first.json()["previous_token"] is None
    # The HTML pager links next and previous.
    html = client.get(
        f"/buckets/{bucket_a.pk}/objects/", {"prefix": "many/", "token": token, "per_page": 1000}
    ).content.decode()
    assert 'id="previous-page"' in html and 'id="next-page"' not in html
    assert "page 3" in html


def test_a_token_from_another_bucket_or_folder_is_refused(
    personas: Any, bucket_a: Any, versioned_a: Any, s3: Any
) -> None:
    for i in range(3):
        s3.put_object(Bucket=bucket_a.name, Key=f"f/{i}", Body=b"")
    client = personas.client_for("oscar")
    token = browse(client, bucket_a, prefix="f/", per_page=1).json()["next_token"]
    assert browse(client, bucket_a, prefix="f/", token=token, per_page=1).status_code == 200
    for bucket, prefix in [(versioned_a, "f/"), (bucket_a, "g/"), (bucket_a, "")]:
        answer = browse(client, bucket, prefix=prefix, token=token, per_page=1)
        assert answer.status_code == 400
        assert "another bucket, folder" in answer.json()["error"]
    tampered = browse(client, bucket_a, prefix="f/", token=token[:-3] + "abc")
    assert tampered.status_code == 400 and "not valid" in tampered.json()["error"]
    versions = browse(client, bucket_a, prefix="f/", token=token, versions="1")
    assert versions.status_code == 400


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"key": ""}, "may not be empty"),
        ({"key": "k" * 1025}, "1025 bytes"),
        ({"key": "\u00e9" * 513}, "1026 bytes"),
        ({"key": "missing.txt"}, "No such object"),
    ],
)
def test_bad_keys_are_clear_4xx(
    personas: Any, with_object: Any, params: dict[str, str], message: str
) -> None:
    client = personas.client_for("oscar")
    for url in (
        f"/buckets/{with_object.pk}/object/",
        f"/buckets/{with_object.pk}/object/download/",
    ):
        answer = client.get(url, params, **JSON)
        assert answer.status_code in (400, 404)
        assert message in answer.json()["error"]
        assert client.get(url, params).status_code == answer.status_code  # HTML too, no 500


def test_bad_listing_input(personas: Any, with_object: Any) -> None:
    client = personas.client_for("oscar")
    assert browse(client, with_object, per_page=0).status_code == 400
    assert browse(client, with_object, per_page=5000).status_code == 400
    assert browse(client, with_object, prefix="p" * 1025).status_code == 400
    assert client.post(f"/buckets/{with_object.pk}/objects/", **JSON).status_code == 405


def test_version_of_another_object_is_refused(personas: Any, versioned_a: Any, s3: Any) -> None:
    s3.put_object(Bucket=versioned_a.name, Key="one", Body=b"1")
    other = s3.put_object(Bucket=versioned_a.name, Key="two", Body=b"2")["VersionId"]
    client = personas.client_for("oscar")
    assert object_page(client, versioned_a, "one", other).status_code == 404
    assert (
        client.get(
            f"/buckets/{versioned_a.pk}/object/download/", {"key": "one", "version": other}, **JSON
        ).status_code
        == 404
    )
    for name, extra in [
        ("delete", {}),
        ("restore", {}),
        ("share", {"lifetime": "1h"}),
        ("expiry", {"expires_on": "2099-01-01"}),
    ]:
        answer = post(client, name, versioned_a, {"key": "one", "version": other, **extra})
        assert (
            answer.status_code == 404 and "not a version of this object" in answer.json()["error"]
        )
    assert s3.head_object(Bucket=versioned_a.name, Key="two", VersionId=other)["ContentLength"] == 1
