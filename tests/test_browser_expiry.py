"""The per-object expiry sweep: exactly that key + version, on the date (00:00 UTC), catching
up after downtime, keeping (and reporting) objects that changed since the date was set."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core import mail

from audit.models import AuditEvent
from storage.browser import expiry, tasks
from storage.browser.models import ObjectExpiry
from tests.browser_fixtures import *  # noqa: F403
from tests.browser_fixtures import post

pytestmark = pytest.mark.django_db

SOON = date.today() + timedelta(days=2)


def _set(client: Any, bucket: Any, key: str, when: date = SOON, version: str = "") -> Any:
    answer = post(
        client, "expiry", bucket, {"key": key, "version": version, "expires_on": when.isoformat()}
    )
    assert answer.status_code == 200, answer.content
    return answer.json()


def _versions(s3: Any, bucket: Any, key: str) -> list[str]:
    listed = s3.list_object_versions(Bucket=bucket.name, Prefix=key)
    return [v["VersionId"] for v in listed.get("Versions", []) if v["Key"] == key]


def test_sweep_deletes_exactly_that_version(personas: Any, versioned_a: Any, s3: Any) -> None:
    old = s3.put_object(Bucket=versioned_a.name, Key="log", Body=b"old")["VersionId"]
    current = s3.put_object(Bucket=versioned_a.name, Key="log", Body=b"new")["VersionId"]
    s3.put_object(Bucket=versioned_a.name, Key="log2", Body=b"other")
    client = personas.client_for("oscar")
    row = _set(client, versioned_a, "log", version=old)
    assert row["version_id"] == old
    assert expiry.sweep(today=SOON) == {"done": 1, "skipped": 0, "failed": 0}
    assert _versions(s3, versioned_a, "log") == [current]  # no delete marker, nothing else
    assert _versions(s3, versioned_a, "log2")
    assert "DeleteMarkers" not in s3.list_object_versions(Bucket=versioned_a.name)


def test_sweep_catches_up_after_downtime_and_runs_once(
    personas: Any, bucket_a: Any, s3: Any
) -> None:
    for key in ("a", "b"):
        s3.put_object(Bucket=bucket_a.name, Key=key, Body=b"x")
    client = personas.client_for("oscar")
    _set(client, bucket_a, "a", SOON)
    _set(client, bucket_a, "b", SOON + timedelta(days=1))
    # The portal was down for a week: the first sweep afterwards does both.
    assert expiry.sweep(today=SOON + timedelta(days=7)) == {"done": 2, "skipped": 0, "failed": 0}
    assert expiry.sweep(today=SOON + timedelta(days=8)) == {"done": 0, "skipped": 0, "failed": 0}
    assert s3.list_objects_v2(Bucket=bucket_a.name)["KeyCount"] == 0
    assert list(
        AuditEvent.objects.filter(action="browser.expiry.done").values_list("actor_name", flat=True)
    ) == ["", ""]


def test_changed_object_is_kept_recorded_and_reported(
    personas: Any, bucket_a: Any, s3: Any
) -> None:
    s3.put_object(Bucket=bucket_a.name, Key="report.csv", Body=b"v1")
    _set(personas.client_for("oscar"), bucket_a, "report.csv")
    s3.put_object(Bucket=bucket_a.name, Key="report.csv", Body=b"v2, newer content")
    assert expiry.sweep(today=SOON) == {"done": 0, "skipped": 1, "failed": 0}
    assert (
        s3.get_object(Bucket=bucket_a.name, Key="report.csv")["Body"].read() == b"v2, newer content"
    )
    row = ObjectExpiry.objects.get()
    assert row.state == ObjectExpiry.State.SKIPPED and "content changed" in row.note
    event = AuditEvent.objects.get(action="browser.expiry.skipped")
    assert event.after["key"] == "report.csv"
    assert [m.to for m in mail.outbox] == [["oscar@example.com"]]
    assert "report.csv" in mail.outbox[0].body and "Nothing was deleted" in mail.outbox[0].body
    listed = personas.client_for("oscar").get(f"/buckets/{bucket_a.pk}/expiries/").content.decode()
    assert "content changed" in listed


def test_newer_version_on_top_is_skipped(personas: Any, versioned_a: Any, s3: Any) -> None:
    s3.put_object(Bucket=versioned_a.name, Key="k", Body=b"1")
    row = _set(personas.client_for("oscar"), versioned_a, "k")  # the current version
    newer = s3.put_object(Bucket=versioned_a.name, Key="k", Body=b"2")["VersionId"]
    assert expiry.sweep(today=SOON)["skipped"] == 1
    assert len(_versions(s3, versioned_a, "k")) == 2 and newer != row["version_id"]
    assert "newer version" in ObjectExpiry.objects.get().note


def test_object_gone_before_the_date_is_skipped(personas: Any, bucket_a: Any, s3: Any) -> None:
    s3.put_object(Bucket=bucket_a.name, Key="k", Body=b"1")
    _set(personas.client_for("oscar"), bucket_a, "k")
    s3.delete_object(Bucket=bucket_a.name, Key="k")
    assert expiry.sweep(today=SOON)["skipped"] == 1
    assert "no longer exists" in ObjectExpiry.objects.get().note


def test_cleared_expiry_is_never_carried_out(personas: Any, bucket_a: Any, s3: Any) -> None:
    s3.put_object(Bucket=bucket_a.name, Key="k", Body=b"1")
    client = personas.client_for("oscar")
    _set(client, bucket_a, "k")
    post(client, "expiry", bucket_a, {"key": "k", "clear": "1"})
    assert expiry.sweep(today=SOON + timedelta(days=30))["done"] == 0
    assert s3.head_object(Bucket=bucket_a.name, Key="k")["ContentLength"] == 1


def test_s3_failure_is_retried_by_the_next_sweep(
    personas: Any, bucket_a: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.browser import s3ops

    s3.put_object(Bucket=bucket_a.name, Key="k", Body=b"1")
    _set(personas.client_for("oscar"), bucket_a, "k")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise s3ops.BrowserError("S3 unreachable", 502)

    monkeypatch.setattr(expiry, "_changed", refuse)
    assert expiry.sweep(today=SOON) == {"done": 0, "skipped": 0, "failed": 1}
    monkeypatch.undo()
    assert tasks.sweep_object_expiry.run() == {"done": 0, "skipped": 0, "failed": 0}  # date not yet
    assert expiry.sweep(today=SOON)["done"] == 1


def test_sweep_is_on_the_beat_schedule_with_expires() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["browser-object-expiry-sweep"]
    assert entry["task"] == "browser.sweep_object_expiry"
    assert entry["options"]["expires"] == entry["schedule"]
    assert tasks.sweep_object_expiry.name == "browser.sweep_object_expiry"


def test_overwrite_between_the_check_and_the_delete_is_kept(
    personas: Any, bucket_a: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unversioned: the delete carries If-Match with the ETag the date was set on, so S3 itself
    refuses (412) when the key was overwritten after the sweep's check (DeleteObject, If-Match:
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html)."""
    s3.put_object(Bucket=bucket_a.name, Key="race.csv", Body=b"v1")
    _set(personas.client_for("oscar"), bucket_a, "race.csv")
    real_changed = expiry._changed

    def check_then_overwrite(row: Any, client: Any) -> str | None:
        reason = real_changed(row, client)  # v1: unchanged, may be deleted ...
        s3.put_object(Bucket=bucket_a.name, Key="race.csv", Body=b"v2 written just now")
        return reason

    monkeypatch.setattr(expiry, "_changed", check_then_overwrite)
    assert expiry.sweep(today=SOON) == {"done": 0, "skipped": 1, "failed": 0}
    body = s3.get_object(Bucket=bucket_a.name, Key="race.csv")["Body"].read()
    assert body == b"v2 written just now"
    row = ObjectExpiry.objects.get()
    assert row.state == ObjectExpiry.State.SKIPPED
    assert "changed just before the delete" in row.note
    assert [m.to for m in mail.outbox] == [["oscar@example.com"]]


def test_a_store_without_conditional_deletes_gets_the_checked_plain_delete(
    personas: Any, bucket_a: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    s3.put_object(Bucket=bucket_a.name, Key="old.log", Body=b"x")
    _set(personas.client_for("oscar"), bucket_a, "old.log")
    calls: list[dict[str, Any]] = []
    real_client = expiry.s3_client

    class NoConditionalDeletes:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def delete_object(self, **params: Any) -> Any:
            calls.append(params)
            if "IfMatch" in params:
                raise ClientError(
                    {"Error": {"Code": "NotImplemented", "Message": "If-Match"}}, "DeleteObject"
                )
            return self.inner.delete_object(**params)

    monkeypatch.setattr(expiry, "s3_client", lambda b: NoConditionalDeletes(real_client(b)))
    assert expiry.sweep(today=SOON)["done"] == 1
    assert [sorted(c) for c in calls] == [["Bucket", "IfMatch", "Key"], ["Bucket", "Key"]]
    assert calls[0]["IfMatch"] == ObjectExpiry.objects.get().expected_etag
    assert s3.list_objects_v2(Bucket=bucket_a.name)["KeyCount"] == 0
