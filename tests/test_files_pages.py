"""File pages and JSON answers by persona: list, download, delete, expiry; isolation everywhere."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from storage.files.models import DeleteReason, StoredFile
from tests.files_fixtures import BACKUP_A, BUCKET_A, object_keys, stored_file

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def files(personas: Any, space_a: Any, space_b: Any, enqueued: list[int]) -> dict[str, Any]:
    """bob's two files, alice's one, oscar's one in tenant A; carol's in tenant B."""
    return {
        "bob1": stored_file(space_a, personas.bob, "bob-report.pdf", b"bob 1"),
        "bob2": stored_file(space_a, personas.bob, "bob-notes.txt", b"bob 2"),
        "alice": stored_file(space_a, personas.alice, "alice-plan.doc", b"alice"),
        "oscar": stored_file(space_a, personas.oscar, "oscar-log.txt", b"oscar"),
        "carol": stored_file(space_b, personas.carol, "carol-secret.txt", b"carol"),
    }


def names(response: Any) -> set[str]:
    return {f["name"] for f in response.json()["files"]}


# --------------------------------------------------------------------------- list


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("bob", {"bob-report.pdf", "bob-notes.txt"}),
        ("oscar", {"oscar-log.txt"}),
        ("alice", {"bob-report.pdf", "bob-notes.txt", "alice-plan.doc", "oscar-log.txt"}),
        ("vera", {"bob-report.pdf", "bob-notes.txt", "alice-plan.doc", "oscar-log.txt"}),
        ("root", {"bob-report.pdf", "bob-notes.txt", "alice-plan.doc", "oscar-log.txt"}),
        ("carol", {"carol-secret.txt"}),
    ],
)
def test_list_json_is_scoped_by_user_role_and_tenant(
    personas: Any, files: Any, persona: str, expected: set[str]
) -> None:
    response = personas.client_for(persona).get(reverse("files:list"), **JSON)
    assert response.status_code == 200
    assert names(response) == expected
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize(
    ("persona", "visible", "hidden"),
    [
        ("bob", ["bob-report.pdf"], ["alice-plan.doc", "oscar-log.txt", "carol-secret.txt"]),
        ("alice", ["bob-report.pdf", "alice-plan.doc"], ["carol-secret.txt"]),
        ("vera", ["bob-report.pdf", "alice-plan.doc"], ["carol-secret.txt"]),
        ("carol", ["carol-secret.txt"], ["bob-report.pdf", "alice-plan.doc"]),
    ],
)
def test_list_page_is_scoped(
    personas: Any, files: Any, persona: str, visible: list[str], hidden: list[str]
) -> None:
    response = personas.client_for(persona).get(reverse("files:list"))
    assert response.status_code == 200
    body = response.content.decode()
    for name in visible:
        assert name in body
    for name in hidden:
        assert name not in body


def test_member_page_has_upload_actions_viewer_page_does_not(personas: Any, files: Any) -> None:
    bob = personas.client_for("bob").get(reverse("files:list")).content.decode()
    assert 'id="upload-form"' in bob and "Delete" in bob and "expires_on" in bob
    assert "Download" in bob
    vera = personas.client_for("vera").get(reverse("files:list")).content.decode()
    assert 'id="upload-form"' not in vera
    assert "Delete" not in vera and 'name="expires_on"' not in vera
    assert "Download" not in vera  # viewers_may_download is off by default
    assert "bob</td>" in vera  # the owner column


def test_viewer_sees_download_links_when_the_tenant_allows(
    personas: Any, files: Any, space_a: Any
) -> None:
    space_a.viewers_may_download = True
    space_a.save()
    vera = personas.client_for("vera").get(reverse("files:list")).content.decode()
    assert "Download" in vera and "Delete" not in vera


def test_admin_filters_by_owner(personas: Any, files: Any) -> None:
    client = personas.client_for("alice")
    response = client.get(reverse("files:list"), {"owner": personas.bob.pk}, **JSON)
    assert names(response) == {"bob-report.pdf", "bob-notes.txt"}
    page = client.get(reverse("files:list")).content.decode()
    assert f'<option value="{personas.bob.pk}"' in page
    assert "carol" not in page  # no other tenant's owners in the filter


def test_owner_filter_cannot_widen_a_members_view(personas: Any, files: Any) -> None:
    response = personas.client_for("bob").get(
        reverse("files:list"), {"owner": personas.alice.pk}, **JSON
    )
    assert response.json()["files"] == []


def test_search_sort_and_pagination(personas: Any, space_a: Any, enqueued: list[int]) -> None:
    for i, name in enumerate(["beta.txt", "Alpha.txt", "gamma.log", "alphabet.md"]):
        stored_file(space_a, personas.bob, name, b"x" * (i + 1))
    client = personas.client_for("bob")
    url = reverse("files:list")
    found = client.get(url, {"q": "ALPHA"}, **JSON)
    assert names(found) == {"Alpha.txt", "alphabet.md"}
    by_size = client.get(url, {"sort": "-size"}, **JSON).json()["files"]
    assert [f["size"] for f in by_size] == [4, 3, 2, 1]
    page2 = client.get(url, {"sort": "size", "per_page": 3, "page": 2}, **JSON).json()
    assert page2["page"] == 2 and page2["pages"] == 2 and page2["count"] == 4
    assert [f["size"] for f in page2["files"]] == [4]
    html = client.get(url, {"per_page": 3}).content.decode()
    assert "page 1 of 2" in html


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "key; DROP TABLE"},
        {"page": "x"},
        {"page": "0"},
        {"per_page": "1000"},
        {"owner": "-1"},
    ],
)
def test_bad_list_parameters_are_400(personas: Any, files: Any, params: dict[str, str]) -> None:
    response = personas.client_for("bob").get(reverse("files:list"), params, **JSON)
    assert response.status_code == 400
    assert "Invalid list parameters" in response.json()["error"]


def test_page_out_of_range_json_is_404_html_shows_last(personas: Any, files: Any) -> None:
    client = personas.client_for("bob")
    assert client.get(reverse("files:list"), {"page": 9}, **JSON).status_code == 404
    assert client.get(reverse("files:list"), {"page": 9}).status_code == 200


def test_not_set_up_page(personas: Any, account_a: Any) -> None:
    page = personas.client_for("alice").get(reverse("files:list"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "not set up" in body and "set_file_space tenant-a" in body
    member = personas.client_for("bob").get(reverse("files:list")).content.decode()
    assert "Ask a tenant admin" in member
    api = personas.client_for("bob").get(reverse("files:list"), **JSON)
    assert api.status_code == 409 and "not set up" in api.json()["error"]


def test_anonymous(client: Client) -> None:
    assert client.get(reverse("files:list"), **JSON).status_code == 401
    response = client.get(reverse("files:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_nav_has_files_link(personas: Any) -> None:
    body = personas.client_for("bob").get(reverse("portal:dashboard")).content.decode()
    assert f'href="{reverse("files:list")}"' in body


# --------------------------------------------------------------------------- download


def test_download_redirects_to_a_short_lived_presigned_url(
    personas: Any, files: Any, settings: Any
) -> None:
    settings.FILES_DOWNLOAD_URL_TTL = 120
    stored = files["bob1"]
    response = personas.client_for("bob").get(reverse("files:download", args=[stored.pk]))
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert BUCKET_A in url.netloc + url.path
    assert unquote(url.path).endswith(stored.key)
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["120"]
    assert "attachment" in query["response-content-disposition"][0]
    assert "bob-report.pdf" in query["response-content-disposition"][0]
    event = AuditEvent.objects.get(action="files.file.download")
    assert event.after == {"mode": "presigned", "expires_in": 120}
    assert "X-Amz-Signature" not in str(event.before) + str(event.after)


def test_download_streams_when_browsers_cannot_reach_s3(
    personas: Any, files: Any, space_a: Any
) -> None:
    space_a.browser_can_reach_s3 = False
    space_a.save()
    stored = stored_file(space_a, personas.bob, "r\u00e9sum\u00e9 <b>.txt", b"streamed bytes")
    response = personas.client_for("bob").get(reverse("files:download", args=[stored.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"streamed bytes"
    assert response["Content-Length"] == "14"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"resume _b_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%3Cb%3E.txt"
    )
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert AuditEvent.objects.get(action="files.file.download").after["mode"] == "stream"


def test_download_of_missing_object_is_404_with_advice(
    personas: Any, files: Any, space_a: Any, s3_a: Any
) -> None:
    space_a.browser_can_reach_s3 = False
    space_a.save()
    stored = files["bob1"]
    s3_a.delete_object(Bucket=BUCKET_A, Key=stored.key)
    response = personas.client_for("bob").get(reverse("files:download", args=[stored.pk]), **JSON)
    assert response.status_code == 404
    assert "restore" in response.json()["error"]


@pytest.mark.parametrize(
    ("persona", "file", "status"),
    [
        ("bob", "bob1", 302),
        ("bob", "alice", 404),  # another member's file
        ("bob", "carol", 404),  # another tenant's file
        ("oscar", "bob1", 404),  # operators manage their own files like members
        ("alice", "bob1", 302),
        ("alice", "carol", 404),
        ("vera", "bob1", 403),  # viewers: only if the tenant allows
        ("carol", "bob1", 404),
        ("carol", "carol", 302),
        ("root", "carol", 302),
        ("stranger", "bob1", 404),
    ],
)
def test_download_isolation(
    personas: Any, files: Any, persona: str, file: str, status: int
) -> None:
    response = personas.client_for(persona).get(
        reverse("files:download", args=[files[file].pk]), **JSON
    )
    assert response.status_code == status
    if status >= 400:
        assert "error" in response.json()
        assert files[file].original_name not in response.json()["error"]


def test_viewer_downloads_when_allowed(personas: Any, files: Any, space_a: Any) -> None:
    space_a.viewers_may_download = True
    space_a.save()
    response = personas.client_for("vera").get(reverse("files:download", args=[files["bob1"].pk]))
    assert response.status_code == 302


@pytest.mark.parametrize("pk", [0, 999999, 2**63 - 1, 2**70])
def test_unknown_ids_are_404(personas: Any, files: Any, pk: int) -> None:
    client = personas.client_for("bob")
    assert client.get(f"/files/{pk}/download/", **JSON).status_code == 404
    assert client.post(f"/files/{pk}/delete/", **JSON).status_code == 404
    assert client.get(f"/files/{pk}/download/").status_code == 404


def test_non_numeric_id_is_404(personas: Any, files: Any) -> None:
    assert personas.client_for("bob").get("/files/abc/download/").status_code == 404


# --------------------------------------------------------------------------- delete


def test_member_deletes_own_file_primary_now_backup_later(
    personas: Any, files: Any, s3_a: Any
) -> None:
    stored = files["bob1"]
    response = personas.client_for("bob").post(reverse("files:delete", args=[stored.pk]), **JSON)
    assert response.status_code == 200
    answer = response.json()
    assert answer["id"] == stored.pk and answer["deleted"] is True
    assert answer["restorable"] is True  # the pending backup was made before the delete
    stored.refresh_from_db()
    assert stored.deleted_at is not None and stored.delete_reason == DeleteReason.USER
    kept = dt.datetime.fromisoformat(answer["backup_kept_until"])
    assert abs((kept - timezone.now()).days - 30) <= 1
    assert stored.key not in object_keys(s3_a, BUCKET_A)
    assert files["bob2"].key in object_keys(s3_a, BUCKET_A)  # nothing else
    assert object_keys(s3_a, BACKUP_A) == [stored.key]  # kept for the retention period
    listing = personas.client_for("bob").get(reverse("files:list"), **JSON)
    assert names(listing) == {"bob-notes.txt"}
    event = AuditEvent.objects.get(action="files.file.delete")
    assert event.actor_name == "bob" and event.after["deleted"] is True
    again = personas.client_for("bob").post(reverse("files:delete", args=[stored.pk]), **JSON)
    assert again.status_code == 404


def test_retention_follows_the_tenant_setting(personas: Any, files: Any, space_a: Any) -> None:
    space_a.delete_retention_days = 7
    space_a.save()
    stored = files["bob1"]
    personas.client_for("bob").post(reverse("files:delete", args=[stored.pk]))
    stored.refresh_from_db()
    assert abs((stored.purge_backup_after - timezone.now()).days - 7) <= 1


def test_browser_delete_redirects_with_message(personas: Any, files: Any) -> None:
    client = personas.client_for("bob")
    response = client.post(reverse("files:delete", args=[files["bob1"].pk]))
    assert response.status_code == 302
    body = client.get(reverse("files:list")).content.decode()
    assert "Deleted bob-report.pdf. A tenant admin can restore it until" in body


def test_delete_when_no_backup_can_be_made_says_so(
    personas: Any, files: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from storage.files import jobs

    def denied(*args: Any, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "CopyObject")

    monkeypatch.setattr(jobs, "server_side_copy", denied)
    url = reverse("files:delete", args=[files["bob1"].pk])
    answer = personas.client_for("bob").post(url, **JSON).json()
    assert answer == {
        "id": files["bob1"].pk,
        "deleted": True,
        "restorable": False,
        "backup_kept_until": None,
    }


@pytest.mark.parametrize(
    ("persona", "file", "status"),
    [
        ("bob", "alice", 404),
        ("bob", "carol", 404),
        ("oscar", "bob1", 404),
        ("vera", "bob1", 403),
        ("carol", "bob1", 404),
        ("alice", "bob1", 200),
        ("root", "carol", 200),
    ],
)
def test_delete_isolation(
    personas: Any, files: Any, s3_a: Any, persona: str, file: str, status: int
) -> None:
    stored = files[file]
    response = personas.client_for(persona).post(reverse("files:delete", args=[stored.pk]), **JSON)
    assert response.status_code == status
    stored.refresh_from_db()
    assert (stored.deleted_at is not None) == (status == 200)


def test_delete_needs_post_and_csrf(personas: Any, files: Any) -> None:
    stored = files["bob1"]
    url = reverse("files:delete", args=[stored.pk])
    assert personas.client_for("bob").get(url, **JSON).status_code == 405
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.bob)
    response = client.post(url, **JSON)
    assert response.status_code == 403 and "CSRF" in response.json()["error"]
    html = client.post(url)
    assert html.status_code == 403 and b"CSRF verification failed" in html.content
    expiry = client.post(reverse("files:expiry", args=[stored.pk]), {"expires_on": ""}, **JSON)
    assert expiry.status_code == 403 and "CSRF" in expiry.json()["error"]
    stored.refresh_from_db()
    assert stored.deleted_at is None


def test_delete_with_s3_error_is_502_and_keeps_the_row(
    personas: Any, files: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from storage.files import s3

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DeleteObject")

    monkeypatch.setattr(s3, "delete_exact", refuse)
    stored = files["bob1"]
    response = personas.client_for("bob").post(reverse("files:delete", args=[stored.pk]), **JSON)
    assert response.status_code == 502
    assert "s3:DeleteObject" in response.json()["error"]
    stored.refresh_from_db()
    assert stored.deleted_at is None


# --------------------------------------------------------------------------- expiry


def test_set_and_clear_expiry(personas: Any, files: Any) -> None:
    stored = files["bob1"]
    url = reverse("files:expiry", args=[stored.pk])
    client = personas.client_for("bob")
    day = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    response = client.post(url, {"expires_on": day}, **JSON)
    assert response.status_code == 200
    assert response.json()["expires_on"] == day and response.json()["id"] == stored.pk
    stored.refresh_from_db()
    assert stored.expires_on.isoformat() == day
    cleared = client.post(url, {"expires_on": ""}, **JSON)
    assert cleared.status_code == 200 and cleared.json()["expires_on"] is None
    events = list(AuditEvent.objects.filter(action="files.file.expiry").order_by("id"))
    assert [e.after["expires_on"] for e in events] == [day, None]
    assert events[1].before == {"expires_on": day}


def test_expiry_today_is_allowed(personas: Any, files: Any) -> None:
    url = reverse("files:expiry", args=[files["bob1"].pk])
    today = timezone.localdate().isoformat()
    assert personas.client_for("bob").post(url, {"expires_on": today}, **JSON).status_code == 200


@pytest.mark.parametrize(
    "value", ["2001-01-01", "31/12/2030", "2030-02-30", "20300101", "tomorrow", "2030-1-1"]
)
def test_bad_expiry_dates_are_400(personas: Any, files: Any, value: str) -> None:
    url = reverse("files:expiry", args=[files["bob1"].pk])
    response = personas.client_for("bob").post(url, {"expires_on": value}, **JSON)
    assert response.status_code == 400
    assert "expires_on" in response.json()["error"]


def test_expiry_without_the_field_is_400(personas: Any, files: Any) -> None:
    url = reverse("files:expiry", args=[files["bob1"].pk])
    assert personas.client_for("bob").post(url, {}, **JSON).status_code == 400


def test_expiry_browser_form_redirects(personas: Any, files: Any) -> None:
    url = reverse("files:expiry", args=[files["bob1"].pk])
    client = personas.client_for("bob")
    day = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    assert client.post(url, {"expires_on": day}).status_code == 302
    assert f"expires on {day}" in client.get(reverse("files:list")).content.decode()
    bad = client.post(url, {"expires_on": "soon"})
    assert bad.status_code == 400 and b"expires_on" in bad.content
    # The refusal is the list again, with the error beside the date field (issue 8 item 21).
    assert b'id="upload-form"' in bad.content and b'aria-invalid="true"' in bad.content


@pytest.mark.parametrize(
    ("persona", "file", "status"),
    [
        ("bob", "bob1", 200),
        ("bob", "alice", 404),
        ("bob", "carol", 404),
        ("vera", "bob1", 403),
        ("carol", "bob1", 404),
        ("alice", "bob1", 200),
    ],
)
def test_expiry_isolation(personas: Any, files: Any, persona: str, file: str, status: int) -> None:
    url = reverse("files:expiry", args=[files[file].pk])
    day = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    response = personas.client_for(persona).post(url, {"expires_on": day}, **JSON)
    assert response.status_code == status
    files[file].refresh_from_db()
    assert (files[file].expires_on is not None) == (status == 200)


def test_deleted_files_are_gone_from_every_answer(personas: Any, files: Any) -> None:
    stored = files["bob1"]
    StoredFile.objects.filter(pk=stored.pk).update(deleted_at=timezone.now())
    client = personas.client_for("alice")
    assert "bob-report.pdf" not in names(client.get(reverse("files:list"), **JSON))
    assert client.get(reverse("files:download", args=[stored.pk]), **JSON).status_code == 404
    url = reverse("files:expiry", args=[stored.pk])
    assert client.post(url, {"expires_on": ""}, **JSON).status_code == 404
