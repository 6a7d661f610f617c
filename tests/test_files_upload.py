"""Uploads: streaming to S3, keys, metadata, audit, size limit, and every bad input of issue 4."""

from __future__ import annotations

import hashlib
import os
from typing import Any
from urllib.parse import unquote

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from storage.files.models import BackupState, StoredFile
from tests.files_fixtures import BUCKET_A, object_keys, raw_upload, upload

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def pending_multipart(s3: Any, bucket: str = BUCKET_A) -> list[str]:
    return [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def test_member_uploads_a_file(
    personas: Any,
    space_a: Any,
    s3_a: Any,
    enqueued: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    data = b"quarterly numbers\n" * 100
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(personas.client_for("bob"), ("report.csv", data))
    assert response.status_code == 201
    (item,) = response.json()["files"]
    assert set(item) >= {"id", "name", "size", "key", "backup_status"}
    assert item["name"] == "report.csv"
    assert item["size"] == len(data)
    assert item["backup_status"] == "pending"
    assert item["sha256"] == hashlib.sha256(data).hexdigest()
    assert item["download_url"] == reverse("files:download", args=[item["id"]])
    prefix = f"portal/users/{personas.bob.pk}/"
    assert item["key"].startswith(prefix) and item["key"].endswith("/report.csv")
    stored = StoredFile.objects.get(pk=item["id"])
    assert stored.owner == personas.bob and stored.tenant == personas.tenant_a
    assert stored.backup_state == BackupState.PENDING
    assert enqueued == [stored.pk]  # the backup task is sent once the row is committed
    head = s3_a.head_object(Bucket=BUCKET_A, Key=item["key"])
    assert head["Metadata"]["original-name"] == "report.csv"
    assert head["Metadata"]["owner-id"] == str(personas.bob.pk)
    got = s3_a.get_object(Bucket=BUCKET_A, Key=item["key"])["Body"].read()
    assert got == data
    event = AuditEvent.objects.get(action="files.file.upload")
    assert event.actor_name == "bob" and event.target_id == str(stored.pk)
    assert "quarterly" not in str(event.after)  # never file content


def test_backup_is_enqueued_only_after_commit(
    personas: Any, space_a: Any, enqueued: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(personas.client_for("bob"), ("a.txt", b"a"))
    assert enqueued == []
    assert len(callbacks) == 1


def test_several_files_and_same_name_twice_are_all_kept(
    personas: Any, space_a: Any, s3_a: Any, enqueued: list[int]
) -> None:
    client = personas.client_for("bob")
    first = upload(client, [("same.txt", b"one"), ("same.txt", b"two"), ("other.txt", b"3")])
    second = upload(client, ("same.txt", b"three"))
    assert first.status_code == 201 and second.status_code == 201
    keys = [f["key"] for f in first.json()["files"] + second.json()["files"]]
    assert len(set(keys)) == 4
    assert len(object_keys(s3_a, BUCKET_A)) == 4
    contents = {s3_a.get_object(Bucket=BUCKET_A, Key=k)["Body"].read() for k in keys}
    assert contents == {b"one", b"two", b"3", b"three"}


def test_large_upload_streams_as_multipart(personas: Any, space_a: Any, s3_a: Any) -> None:
    data = os.urandom(17 * MiB + 5)  # three 8 MiB parts
    response = upload(personas.client_for("bob"), ("big.bin", data))
    assert response.status_code == 201
    item = response.json()["files"][0]
    stored = StoredFile.objects.get(pk=item["id"])
    assert stored.part_size == 8 * MiB
    assert stored.etag.endswith("-3")
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert pending_multipart(s3_a) == []


def test_empty_file_is_allowed(personas: Any, space_a: Any, s3_a: Any) -> None:
    response = upload(personas.client_for("bob"), ("empty.txt", b""))
    assert response.status_code == 201
    item = response.json()["files"][0]
    assert item["size"] == 0
    assert s3_a.head_object(Bucket=BUCKET_A, Key=item["key"])["ContentLength"] == 0


def test_html_form_upload_redirects_with_message(personas: Any, space_a: Any) -> None:
    client = personas.client_for("bob")
    response = upload(client, ("page.txt", b"x"), as_json=False)
    assert response.status_code == 302
    assert response["Location"] == reverse("files:list")
    body = client.get(reverse("files:list")).content.decode()
    assert "Uploaded page.txt." in body


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("raw", "stored_name", "key_tail"),
    [
        (b"../../etc/passwd", "passwd", "passwd"),
        (b"..\\..\\windows\\win.ini", "win.ini", "win.ini"),
        (b"/abs/dir/x.txt", "x.txt", "x.txt"),
        (b"nul\x00byte.txt", "nulbyte.txt", "nulbyte.txt"),
        (b"tab\tand\x07bell.txt", "tabandbell.txt", "tabandbell.txt"),
        ("r\u00e9sum\u00e9 \u65e5\u672c.pdf".encode(), "r\u00e9sum\u00e9 \u65e5\u672c.pdf", None),
        (b"<script>alert(1)<\\script>.html", "script>.html", None),  # "\\" is a separator
        (b"<b onmouseover=alert(1)>x.html", "<b onmouseover=alert(1)>x.html", None),
        (b"a" * 300 + b".txt", "a" * 300 + ".txt", "a" * 196 + ".txt"),
    ],
)
def test_names_are_cleaned_and_keys_stay_in_the_users_prefix(
    personas: Any, space_a: Any, s3_a: Any, raw: bytes, stored_name: str, key_tail: str | None
) -> None:
    response = raw_upload(personas.client_for("bob"), [(raw, b"data")])
    assert response.status_code == 201, response.content
    item = response.json()["files"][0]
    assert item["name"] == stored_name
    prefix = f"portal/users/{personas.bob.pk}/"
    key = item["key"]
    assert key.startswith(prefix)
    rest = key[len(prefix) :]
    unique, _, last = rest.partition("/")
    assert len(unique) == 32 and "/" not in last and last not in {".", ".."}
    assert ".." not in key.split("/")
    assert len(key.encode()) <= 1024
    if key_tail:
        assert last == key_tail
    head = s3_a.head_object(Bucket=BUCKET_A, Key=key)
    assert unquote(head["Metadata"]["original-name"]) == stored_name
    assert object_keys(s3_a, BUCKET_A) == [key]


@pytest.mark.parametrize("raw", [b"..", b".", b"../", b"   ", b". . ."])
def test_unusable_names_are_refused(personas: Any, space_a: Any, s3_a: Any, raw: bytes) -> None:
    response = raw_upload(personas.client_for("bob"), [(raw, b"data")])
    assert response.status_code == 400
    assert "error" in response.json()
    assert object_keys(s3_a, BUCKET_A) == []
    assert StoredFile.objects.count() == 0


def test_name_over_the_key_limit_is_refused_and_nothing_kept(
    personas: Any, space_a: Any, s3_a: Any
) -> None:
    long_name = "\u00e9" * 600 + ".txt"  # 1,204 bytes of UTF-8
    response = raw_upload(
        personas.client_for("bob"),
        [(b"fine.txt", b"first file"), (long_name.encode(), b"data")],
    )
    assert response.status_code == 400
    assert "too long" in response.json()["error"]
    assert object_keys(s3_a, BUCKET_A) == []  # the first file of the request was removed too
    assert pending_multipart(s3_a) == []
    assert StoredFile.objects.count() == 0


def test_display_name_limit_is_s3s_key_limit() -> None:
    from storage.files.download import clean_display_name

    assert clean_display_name("x" * 1024) == "x" * 1024
    with pytest.raises(ValueError, match="at most 1024 bytes"):
        clean_display_name("\u00e9" * 513)
    with pytest.raises(ValueError, match="no usable characters"):
        clean_display_name(" ..\u202e ")


def test_filename_star_unicode_name(personas: Any, space_a: Any) -> None:
    boundary = "----star"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f"filename*=UTF-8''%E6%97%A5%E6%9C%AC%20%C3%A9.txt\r\n\r\nx\r\n--{boundary}--\r\n"
    ).encode()
    response = personas.client_for("bob").generic(
        "POST",
        reverse("files:upload"),
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201
    assert response.json()["files"][0]["name"] == "\u65e5\u672c \u00e9.txt"


def test_html_in_names_is_escaped_on_the_page(personas: Any, space_a: Any) -> None:
    client = personas.client_for("bob")
    raw_upload(client, [(b"<img src=x onerror=alert(1)>.png", b"x")])
    body = client.get(reverse("files:list")).content.decode()
    assert "<img src=x onerror" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in body


def test_names_in_messages_and_error_pages_are_escaped(personas: Any, space_a: Any) -> None:
    client = personas.client_for("bob")
    raw_upload(client, [(b"<i>ok</i>.txt", b"x")], as_json=False)  # "</i>" -> basename
    raw_upload(client, [(b"<em onclick=x>.txt", b"x")], as_json=False)
    body = client.get(reverse("files:list")).content.decode()
    assert "Uploaded &lt;em onclick=x&gt;.txt." in body and "<em onclick" not in body
    space_a.max_file_size = 1
    space_a.save()
    page = raw_upload(client, [(b"<script>x.txt", b"xx")], as_json=False)
    assert page.status_code == 413
    assert b"&lt;script&gt;x.txt" in page.content and b"<script>x.txt" not in page.content


def test_no_file_field_is_400(personas: Any, space_a: Any) -> None:
    response = raw_upload(personas.client_for("bob"), [(b"a.txt", b"x")], field=b"other")
    assert response.status_code == 400
    assert "No file received" in response.json()["error"]


def test_not_multipart_is_400(personas: Any, space_a: Any) -> None:
    response = personas.client_for("bob").post(
        reverse("files:upload"),
        "file=text",
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert "multipart/form-data" in response.json()["error"]


def test_malformed_multipart_is_400(personas: Any, space_a: Any) -> None:
    response = personas.client_for("bob").generic(
        "POST",
        reverse("files:upload"),
        b"garbage",
        content_type="multipart/form-data",  # no boundary
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400


def test_too_many_files_is_400_and_nothing_kept(
    personas: Any, space_a: Any, s3_a: Any, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    response = upload(personas.client_for("bob"), [(f"{i}.txt", b"x") for i in range(3)])
    assert response.status_code == 400
    assert "Too many files" in response.json()["error"]
    assert object_keys(s3_a, BUCKET_A) == []


def test_get_on_upload_is_405(personas: Any, space_a: Any) -> None:
    response = personas.client_for("bob").get(
        reverse("files:upload"), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 405


# --------------------------------------------------------------------------- size limit


def test_file_over_the_tenant_limit_gets_413_and_nothing_is_kept(
    personas: Any, space_a: Any, s3_a: Any
) -> None:
    space_a.max_file_size = 6 * MiB
    space_a.save()
    client = personas.client_for("bob")
    response = upload(client, [("ok.txt", b"small"), ("big.bin", os.urandom(9 * MiB))])
    assert response.status_code == 413
    answer = response.json()
    assert answer["max_size"] == 6 * MiB
    assert "big.bin" in answer["error"] and "6.0" in answer["error"]
    assert object_keys(s3_a, BUCKET_A) == []
    assert pending_multipart(s3_a) == []
    assert StoredFile.objects.count() == 0


def test_413_page_for_browsers(personas: Any, space_a: Any) -> None:
    space_a.max_file_size = 10
    space_a.save()
    response = upload(personas.client_for("bob"), ("big.txt", b"x" * 11), as_json=False)
    assert response.status_code == 413
    body = response.content.decode()
    assert "File too large" in body and "big.txt" in body


def test_file_of_exactly_the_limit_is_accepted(personas: Any, space_a: Any) -> None:
    space_a.max_file_size = 10
    space_a.save()
    assert upload(personas.client_for("bob"), ("ten.txt", b"x" * 10)).status_code == 201


# --------------------------------------------------------------------------- interrupted


def test_interrupted_upload_aborts_and_leaves_no_row(
    personas: Any, space_a: Any, s3_a: Any
) -> None:
    boundary = b"----cut"
    data = os.urandom(12 * MiB)
    body = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"'
        b"\r\nContent-Type: application/octet-stream\r\n\r\n" + data
    )  # the body ends inside the file: the client went away
    response = personas.client_for("bob").generic(
        "POST",
        reverse("files:upload"),
        body,
        content_type=f"multipart/form-data; boundary={boundary.decode()}",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert "interrupted" in response.json()["error"]
    assert pending_multipart(s3_a) == []
    assert object_keys(s3_a, BUCKET_A) == []
    assert StoredFile.objects.count() == 0


def test_s3_failure_mid_upload_is_502_and_aborted(
    personas: Any, space_a: Any, s3_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from storage.files import multipart

    original = multipart.MultipartWriter._flush_part
    calls = {"n": 0}

    def flaky(self: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "UploadPart")
        original(self)

    monkeypatch.setattr(multipart.MultipartWriter, "_flush_part", flaky)
    response = upload(personas.client_for("bob"), ("x.bin", os.urandom(17 * MiB)))
    assert response.status_code == 502
    assert "prod" in response.json()["error"]  # names the account
    assert pending_multipart(s3_a) == []
    assert StoredFile.objects.count() == 0


def test_database_failure_removes_the_stored_objects(
    personas: Any, space_a: Any, s3_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.files import services

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "record_uploads", broken)
    client = personas.client_for("bob")
    client.raise_request_exception = False
    response = upload(client, [("a.txt", b"a"), ("b.txt", b"b")])
    assert response.status_code == 500
    assert object_keys(s3_a, BUCKET_A) == []


# --------------------------------------------------------------------------- CSRF and roles


def test_missing_csrf_token_is_403_before_anything_is_stored(
    personas: Any, space_a: Any, s3_a: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.bob)
    response = upload(client, ("a.txt", b"a"))
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]
    assert object_keys(s3_a, BUCKET_A) == []
    assert StoredFile.objects.count() == 0


def test_wrong_csrf_header_is_refused_without_reading_the_body(
    personas: Any, space_a: Any, s3_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.files import uploads

    def must_not_run(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the body was parsed before the CSRF check")

    monkeypatch.setattr(uploads, "S3StreamingUploadHandler", must_not_run)
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.bob)
    client.get(reverse("files:list"))  # sets the csrftoken cookie
    response = upload(client, ("a.txt", b"a"), HTTP_X_CSRFTOKEN="x" * 64)
    assert response.status_code == 403
    assert "incorrect" in response.json()["error"]


def test_valid_csrf_header_and_form_field_both_work(personas: Any, space_a: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.bob)
    client.get(reverse("files:list"))
    token = client.cookies["csrftoken"].value
    assert upload(client, ("h.txt", b"h"), HTTP_X_CSRFTOKEN=token).status_code == 201
    handle = __import__("io").BytesIO(b"f")
    handle.name = "f.txt"
    response = client.post(
        reverse("files:upload"),
        {"csrfmiddlewaretoken": token, "file": handle},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201


def test_wrong_csrf_form_field_removes_what_was_streamed(
    personas: Any, space_a: Any, s3_a: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.bob)
    client.get(reverse("files:list"))
    handle = __import__("io").BytesIO(b"f")
    handle.name = "f.txt"
    response = client.post(
        reverse("files:upload"),
        {"csrfmiddlewaretoken": "y" * 64, "file": handle},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 403
    assert object_keys(s3_a, BUCKET_A) == []


def test_cross_origin_post_is_refused(personas: Any, space_a: Any, s3_a: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.bob)
    client.get(reverse("files:list"))
    token = client.cookies["csrftoken"].value
    response = upload(
        client, ("a.txt", b"a"), HTTP_X_CSRFTOKEN=token, HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code == 403
    assert object_keys(s3_a, BUCKET_A) == []


def test_viewer_cannot_upload(personas: Any, space_a: Any, s3_a: Any) -> None:
    response = upload(personas.client_for("vera"), ("a.txt", b"a"))
    assert response.status_code == 403
    assert object_keys(s3_a, BUCKET_A) == []


def test_anonymous_json_upload_is_401(space_a: Any, client: Client) -> None:
    response = upload(client, ("a.txt", b"a"))
    assert response.status_code == 401


def test_anonymous_browser_upload_goes_to_login(space_a: Any, client: Client) -> None:
    response = upload(client, ("a.txt", b"a"), as_json=False)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_upload_without_file_space_is_409(personas: Any, account_a: Any) -> None:
    response = upload(personas.client_for("bob"), ("a.txt", b"a"))
    assert response.status_code == 409
    assert "not set up" in response.json()["error"]


def test_user_without_tenant_is_403(personas: Any, space_a: Any) -> None:
    response = upload(personas.client_for("stranger"), ("a.txt", b"a"))
    assert response.status_code == 403


def test_files_go_to_the_current_tenant_only(
    personas: Any, space_a: Any, space_b: Any, s3_a: Any
) -> None:
    from tests.files_fixtures import BUCKET_B

    response = upload(personas.client_for("carol"), ("b.txt", b"b"))
    assert response.status_code == 201
    item = response.json()["files"][0]
    assert item["key"].startswith(f"users/{personas.carol.pk}/")
    assert object_keys(s3_a, BUCKET_B) == [item["key"]]
    assert object_keys(s3_a, BUCKET_A) == []


# --------------------------------------------------------------------------- handler options


@pytest.mark.parametrize(("declared", "reset"), [(100, False), (10 * MiB, True), ("bad", True)])
def test_too_large_drains_a_small_remainder_and_resets_a_big_one(
    declared: Any, reset: bool
) -> None:
    from django.test import RequestFactory

    from storage.files.upload_handler import FileTooLarge, S3StreamingUploadHandler

    request = RequestFactory().post("/", CONTENT_LENGTH=str(declared))
    request.META["CONTENT_LENGTH"] = str(declared)

    def target(field: str, name: str, ctype: str) -> Any:
        return object(), "bucket", "key", {}

    handler = S3StreamingUploadHandler(request, target, max_file_size=10, drain_limit=1024)
    with pytest.raises(FileTooLarge) as excinfo:
        handler.new_file("file", "a.txt", "text/plain", 11)
    assert excinfo.value.connection_reset is reset


def test_handler_chunk_size_and_skipped_last_part_is_not_an_interruption() -> None:
    from storage.files.upload_handler import S3StreamingUploadHandler

    handler = S3StreamingUploadHandler(None, lambda *a: (None, "b", "k", {}), chunk_size=MiB)
    assert handler.chunk_size == MiB
    handler.upload_interrupted()  # Django calls it after a skipped last part too
    assert handler.interrupted is False
    with pytest.raises(ValueError):
        S3StreamingUploadHandler(None, lambda *a: (None, "b", "k", {}), chunk_size=0)


def test_background_parts_keep_order_and_content(buckets: Any) -> None:
    from storage.files.multipart import MultipartWriter

    data = os.urandom(29 * MiB)  # three full 8 MiB parts and a tail
    with MultipartWriter(buckets, BUCKET_A, "bg.bin", background=True) as writer:
        for start in range(0, len(data), 3 * MiB + 7):  # chunks not aligned to parts
            writer.write(data[start : start + 3 * MiB + 7])
        uploaded = writer.complete()
    assert uploaded.etag.endswith("-4") and uploaded.size == len(data)
    assert uploaded.sha256 == hashlib.sha256(data).hexdigest()
    assert buckets.get_object(Bucket=BUCKET_A, Key="bg.bin")["Body"].read() == data
    assert writer._sender is None  # the helper thread is gone


def test_background_part_failure_aborts_and_is_raised(
    buckets: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from storage.files.multipart import MultipartWriter

    original = buckets.upload_part

    def fail_second(**kwargs: Any) -> Any:
        if kwargs["PartNumber"] == 2:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "x"}}, "UploadPart")
        return original(**kwargs)

    monkeypatch.setattr(buckets, "upload_part", fail_second)
    writer = MultipartWriter(buckets, BUCKET_A, "bgfail.bin", background=True)
    with pytest.raises(ClientError):
        for _ in range(5):
            writer.write(os.urandom(8 * MiB))
        writer.complete()
    assert writer.state == "aborted"
    assert pending_multipart(buckets) == []
    assert object_keys(buckets, BUCKET_A) == []
