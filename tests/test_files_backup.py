"""Backups (server-side copies, retries, reconcile), expiry sweep, purge, restore."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from django.utils import timezone

from accounts import retry
from audit.models import AuditEvent
from storage.files import backup, jobs, s3, services, tasks
from storage.files.models import BackupState, DeleteReason, StoredFile
from tests.files_fixtures import BACKUP_A, BUCKET_A, object_keys, stored_file, upload

pytestmark = pytest.mark.django_db
MiB = 1024 * 1024


def slow_down(operation: str = "CopyObject") -> ClientError:
    return ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your rate"}}, operation)


@pytest.fixture
def versioned(buckets: Any) -> Any:
    for name in (BUCKET_A, BACKUP_A):
        buckets.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return buckets


# --------------------------------------------------------------------------- server_side_copy


def test_copy_object_keeps_type_metadata_and_verifies_sha256(buckets: Any) -> None:
    data = b"payload" * 1000
    buckets.put_object(
        Bucket=BUCKET_A, Key="k/a.txt", Body=data, ContentType="text/csv", Metadata={"m": "1"}
    )
    result = backup.server_side_copy(
        buckets,
        BUCKET_A,
        "k/a.txt",
        buckets,
        BACKUP_A,
        "k/a.txt",
        expected_size=len(data),
        expected_sha256=hashlib.sha256(data).hexdigest(),
    )
    assert result.verified_by == "sha256" and not result.multipart
    head = buckets.head_object(Bucket=BACKUP_A, Key="k/a.txt")
    assert head["ContentType"] == "text/csv" and head["Metadata"] == {"m": "1"}
    assert buckets.get_object(Bucket=BACKUP_A, Key="k/a.txt")["Body"].read() == data


def test_multipart_copy_above_the_threshold_follows_the_source_parts(buckets: Any) -> None:
    from storage.files.multipart import MultipartWriter

    data = os.urandom(17 * MiB)
    with MultipartWriter(
        buckets, BUCKET_A, "big.bin", "application/x-big", {"original-name": "big.bin"}
    ) as writer:
        writer.write(data)
        uploaded = writer.complete()
    result = backup.server_side_copy(
        buckets,
        BUCKET_A,
        "big.bin",
        buckets,
        BACKUP_A,
        "big.bin",
        expected_size=len(data),
        expected_sha256=uploaded.sha256,
        part_size=8 * MiB,
        multipart_threshold=5 * MiB,  # stands in for S3's 5 GiB CopyObject limit
    )
    assert result.multipart and result.verified_by == "composite-sha256"
    head = buckets.head_object(Bucket=BACKUP_A, Key="big.bin")
    assert head["ContentType"] == "application/x-big"
    assert head["Metadata"] == {"original-name": "big.bin"}
    assert head["ETag"] == f'"{uploaded.etag}"'  # same parts, same multipart ETag
    assert buckets.get_object(Bucket=BACKUP_A, Key="big.bin")["Body"].read() == data
    assert buckets.list_multipart_uploads(Bucket=BACKUP_A).get("Uploads", []) == []


def test_copy_with_wrong_size_fails_and_leaves_no_copy(buckets: Any) -> None:
    buckets.put_object(Bucket=BUCKET_A, Key="a", Body=b"abc")
    with pytest.raises(backup.CopyVerificationError, match="3 bytes"):
        backup.server_side_copy(buckets, BUCKET_A, "a", buckets, BACKUP_A, "a", expected_size=4)
    assert object_keys(buckets, BACKUP_A) == []


def test_copy_with_checksum_mismatch_deletes_the_copy(buckets: Any) -> None:
    buckets.put_object(Bucket=BUCKET_A, Key="a", Body=b"abc")
    with pytest.raises(backup.CopyVerificationError, match="SHA-256"):
        backup.server_side_copy(
            buckets,
            BUCKET_A,
            "a",
            buckets,
            BACKUP_A,
            "a",
            expected_size=3,
            expected_sha256=hashlib.sha256(b"abd").hexdigest(),
        )
    assert object_keys(buckets, BACKUP_A) == []


def test_verify_falls_back_to_etag_then_size() -> None:
    src = {"ContentLength": 3, "ETag": '"abc"'}
    assert backup._verify(
        src,
        {"ContentLength": 3, "ETag": '"abc"'},
        size=3,
        expected_sha256=None,
        multipart=False,
        same_layout=False,
    ) == ("etag:abc", "etag")
    with pytest.raises(backup.CopyVerificationError, match="ETag"):
        backup._verify(
            src,
            {"ContentLength": 3, "ETag": '"abd"'},
            size=3,
            expected_sha256=None,
            multipart=False,
            same_layout=False,
        )
    assert backup._verify(
        {"ContentLength": 3, "ETag": '"x-2"'},
        {"ContentLength": 3},
        size=3,
        expected_sha256=None,
        multipart=True,
        same_layout=False,
    ) == ("", "size")


# --------------------------------------------------------------------------- the backup task


def test_backup_task_copies_server_side_and_records_it(
    personas: Any, space_a: Any, versioned: Any, enqueued: list[int]
) -> None:
    stored = stored_file(space_a, personas.bob, "notes.txt", b"my notes")
    assert stored.version_id
    outcome = tasks.backup_file(stored.pk)
    assert outcome == {"file_id": stored.pk, "state": "copied", "verified_by": "sha256"}
    stored.refresh_from_db()
    assert stored.backup_state == BackupState.COPIED
    assert stored.backup_key == stored.key and stored.backup_bucket == BACKUP_A
    assert stored.backup_version_id and stored.backup_copied_at is not None
    assert stored.backup_attempts == 1 and stored.backup_claimed_at is None
    head = versioned.head_object(Bucket=BACKUP_A, Key=stored.key)
    assert head["Metadata"]["original-name"] == "notes.txt"
    assert head["ContentType"] == "text/plain"


def test_backup_task_is_idempotent_and_exits_cleanly(
    personas: Any, space_a: Any, enqueued: list[int]
) -> None:
    stored = stored_file(space_a, personas.bob)
    tasks.backup_file(stored.pk)
    assert tasks.backup_file(stored.pk) == {"file_id": stored.pk, "skipped": "already copied"}
    assert tasks.backup_file(987654) == {"file_id": 987654, "skipped": "gone"}
    other = stored_file(space_a, personas.bob, "x.txt")
    StoredFile.objects.filter(pk=other.pk).update(deleted_at=timezone.now())
    assert tasks.backup_file(other.pk)["skipped"] == "deleted"


def test_a_claimed_backup_is_not_copied_twice(
    personas: Any, space_a: Any, enqueued: list[int]
) -> None:
    stored = stored_file(space_a, personas.bob)
    StoredFile.objects.filter(pk=stored.pk).update(backup_claimed_at=timezone.now())
    assert tasks.backup_file(stored.pk)["skipped"] == "claimed by another worker"
    # ...but a claim older than the TTL (the worker died) can be taken over.
    old = timezone.now() - dt.timedelta(hours=2)
    StoredFile.objects.filter(pk=stored.pk).update(backup_claimed_at=old)
    assert tasks.backup_file(stored.pk)["state"] == "copied"


def test_failing_copy_is_retried_with_backoff_then_succeeds(
    personas: Any, space_a: Any, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = stored_file(space_a, personas.bob)
    real_copy = jobs.server_side_copy
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= 2:
            raise slow_down()
        return real_copy(*args, **kwargs)

    countdowns: list[float] = []
    real_backoff = retry.backoff_seconds

    def record_backoff(*args: Any, **kwargs: Any) -> float:
        countdowns.append(real_backoff(*args, **kwargs))
        return countdowns[-1]

    monkeypatch.setattr(jobs, "server_side_copy", flaky)
    monkeypatch.setattr(retry, "backoff_seconds", record_backoff)
    result = tasks.backup_file.apply(args=[stored.pk])  # eager: retries run inline
    assert result.get()["state"] == "copied"
    assert len(calls) == 3
    assert 15 <= countdowns[0] <= 45 and 30 <= countdowns[1] <= 90  # 30 s * 2^n, jittered
    stored.refresh_from_db()
    assert stored.backup_state == BackupState.COPIED
    assert stored.backup_attempts == 3 and stored.backup_last_error == ""


def test_backoff_is_capped_and_jittered() -> None:
    values = {round(tasks.backup_file.backoff(20), 3) for _ in range(20)}
    assert all(450 <= v <= 1350 for v in values)
    assert len(values) > 1


def test_transient_errors_beyond_the_retries_leave_the_backup_failed(
    personas: Any, space_a: Any, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = stored_file(space_a, personas.bob)

    def down(*args: Any, **kwargs: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="https://s3.example")

    monkeypatch.setattr(jobs, "server_side_copy", down)
    monkeypatch.setattr(retry, "backoff_seconds", lambda *args, **kwargs: 0)
    outcome = tasks.backup_file.apply(args=[stored.pk]).get()
    assert outcome["state"] == "failed" and outcome["given_up"] is False
    stored.refresh_from_db()
    assert stored.backup_state == BackupState.FAILED
    assert stored.backup_attempts == 4  # first try + FILES_BACKUP_TASK_RETRIES (3)
    assert "Could not reach the endpoint" in stored.backup_last_error
    assert not AuditEvent.objects.filter(action="files.file.backup_failed").exists()


def test_permanent_error_fails_at_once_with_an_actionable_message(
    personas: Any, space_a: Any, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = stored_file(space_a, personas.bob)

    def denied(*args: Any, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "CopyObject")

    monkeypatch.setattr(jobs, "server_side_copy", denied)
    outcome = tasks.backup_file.apply(args=[stored.pk]).get()
    assert outcome["state"] == "failed"
    stored.refresh_from_db()
    assert stored.backup_attempts == 1
    assert "'prod' lack the permission s3:GetObject" in stored.backup_last_error


def test_backup_failed_for_good_is_audited_once(
    personas: Any, space_a: Any, enqueued: list[int], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.FILES_BACKUP_MAX_ATTEMPTS = 2
    stored = stored_file(space_a, personas.bob)
    monkeypatch.setattr(
        jobs,
        "server_side_copy",
        lambda *a, **k: (_ for _ in ()).throw(
            ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "CopyObject")
        ),
    )
    tasks.backup_file(stored.pk)
    assert not AuditEvent.objects.filter(action="files.file.backup_failed").exists()
    tasks.backup_file(stored.pk)
    event = AuditEvent.objects.get(action="files.file.backup_failed")
    assert event.after["attempts"] == 2 and "AccessDenied" in event.after["error"]
    # Given up: the slower retry schedule leaves it alone now.
    StoredFile.objects.filter(pk=stored.pk).update(
        backup_last_attempt_at=timezone.now() - dt.timedelta(days=1)
    )
    assert jobs.failed_backups_to_retry() == []


def test_missing_primary_object_fails_clearly(
    personas: Any, space_a: Any, buckets: Any, enqueued: list[int]
) -> None:
    stored = stored_file(space_a, personas.bob)
    buckets.delete_object(Bucket=BUCKET_A, Key=stored.key)
    outcome = tasks.backup_file(stored.pk)
    assert outcome["state"] == "failed"
    assert "no longer exists" in outcome["error"]


# --------------------------------------------------------------------------- reconcile


def test_broker_outage_is_healed_by_reconcile(
    personas: Any,
    space_a: Any,
    buckets: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from kombu.exceptions import OperationalError

    def broker_down(file_id: int) -> None:
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.backup_file, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(personas.client_for("bob"), ("survivor.txt", b"keep me"))
    assert response.status_code == 201  # the upload itself is not affected
    stored = StoredFile.objects.get()
    assert stored.backup_state == BackupState.PENDING
    assert tasks.reconcile_backups() == 0  # too fresh: the task may still be on its way

    # The broker is back; ten minutes later the periodic reconcile runs.
    monkeypatch.setattr(tasks.backup_file, "delay", lambda pk: tasks.backup_file.apply(args=[pk]))
    StoredFile.objects.filter(pk=stored.pk).update(
        uploaded_at=timezone.now() - dt.timedelta(minutes=11)
    )
    assert tasks.reconcile_backups() == 1
    stored.refresh_from_db()
    assert stored.backup_state == BackupState.COPIED
    assert object_keys(buckets, BACKUP_A) == [stored.key]
    assert tasks.reconcile_backups() == 0


def test_reconcile_selects_only_stale_unclaimed_pending(
    personas: Any, space_a: Any, enqueued: list[int]
) -> None:
    old = timezone.now() - dt.timedelta(hours=1)
    fresh = stored_file(space_a, personas.bob, "fresh.txt")
    stale = stored_file(space_a, personas.bob, "stale.txt")
    working = stored_file(space_a, personas.bob, "working.txt")
    orphaned = stored_file(space_a, personas.bob, "orphaned.txt")
    deleted = stored_file(space_a, personas.bob, "deleted.txt")
    StoredFile.objects.exclude(pk=fresh.pk).update(uploaded_at=old)
    StoredFile.objects.filter(pk=working.pk).update(backup_claimed_at=timezone.now())
    StoredFile.objects.filter(pk=orphaned.pk).update(
        backup_claimed_at=timezone.now() - dt.timedelta(hours=3)
    )
    StoredFile.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
    assert sorted(jobs.backups_to_reconcile()) == sorted([stale.pk, orphaned.pk])


def test_failed_backups_are_retried_on_the_slower_schedule(
    personas: Any, space_a: Any, enqueued: list[int]
) -> None:
    recent = stored_file(space_a, personas.bob, "recent.txt")
    older = stored_file(space_a, personas.bob, "older.txt")
    StoredFile.objects.update(backup_state=BackupState.FAILED, backup_attempts=4)
    StoredFile.objects.filter(pk=recent.pk).update(backup_last_attempt_at=timezone.now())
    StoredFile.objects.filter(pk=older.pk).update(
        backup_last_attempt_at=timezone.now() - dt.timedelta(hours=2)
    )
    enqueued.clear()
    assert tasks.retry_failed_backups() == 1
    assert enqueued == [older.pk]
    assert tasks.backup_file(older.pk)["state"] == "copied"


def test_schedule_has_the_files_entries() -> None:
    from django.conf import settings

    schedule = settings.CELERY_BEAT_SCHEDULE
    expected = {
        "files-reconcile-backups": "files.reconcile_backups",
        "files-retry-failed-backups": "files.retry_failed_backups",
        "files-expiry-sweep": "files.expire_files",
        "files-purge-deleted-backups": "files.purge_deleted_backups",
    }
    for name, task in expected.items():
        assert schedule[name]["task"] == task
        assert schedule[name]["options"]["expires"] == schedule[name]["schedule"]


# --------------------------------------------------------------------------- expiry sweep


def test_expiry_sweep_deletes_exactly_the_due_objects_even_after_downtime(
    personas: Any, space_a: Any, versioned: Any, enqueued: list[int]
) -> None:
    today = timezone.localdate()
    due_today = stored_file(space_a, personas.bob, "report", b"1")
    missed = stored_file(space_a, personas.bob, "report-2", b"2")  # same prefix, longer key
    tomorrow = stored_file(space_a, personas.bob, "report-3", b"3")
    never = stored_file(space_a, personas.bob, "report.bak", b"4")
    for f in (due_today, missed, tomorrow, never):
        tasks.backup_file(f.pk)
    StoredFile.objects.filter(pk=due_today.pk).update(expires_on=today)
    StoredFile.objects.filter(pk=missed.pk).update(expires_on=today - dt.timedelta(days=5))
    StoredFile.objects.filter(pk=tomorrow.pk).update(expires_on=today + dt.timedelta(days=1))

    assert tasks.expire_files() == {"expired": 2, "failed": 0}

    remaining = {tomorrow.key, never.key}
    assert set(object_keys(versioned, BUCKET_A)) == remaining
    assert set(object_keys(versioned, BACKUP_A)) == remaining
    for bucket in (BUCKET_A, BACKUP_A):  # the exact versions are gone, not hidden
        listing = versioned.list_object_versions(Bucket=bucket)
        assert {v["Key"] for v in listing.get("Versions", [])} == remaining
        assert listing.get("DeleteMarkers", []) == []
    for f in (due_today, missed):
        f.refresh_from_db()
        assert f.delete_reason == DeleteReason.EXPIRED and f.backup_deleted_at is not None
    events = AuditEvent.objects.filter(action="files.file.expire")
    assert sorted(e.target_id for e in events) == sorted([str(due_today.pk), str(missed.pk)])
    assert all(e.actor_name == "" for e in events)  # the system did it
    assert tasks.expire_files() == {"expired": 0, "failed": 0}


def test_expiry_sweep_retries_later_when_s3_fails(
    personas: Any, space_a: Any, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = stored_file(space_a, personas.bob)
    StoredFile.objects.filter(pk=stored.pk).update(expires_on=timezone.localdate())

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise slow_down("DeleteObject")

    monkeypatch.setattr(s3, "delete_exact", refuse)
    assert jobs.expire_due_files() == {"expired": 0, "failed": 1}
    stored.refresh_from_db()
    assert stored.deleted_at is None
    monkeypatch.undo()
    assert jobs.expire_due_files() == {"expired": 1, "failed": 0}


def test_backup_of_a_file_that_expired_meanwhile_is_removed(
    personas: Any, space_a: Any, buckets: Any, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = stored_file(space_a, personas.bob)
    real_copy = jobs.server_side_copy

    def copy_then_expire(*args: Any, **kwargs: Any) -> Any:
        result = real_copy(*args, **kwargs)
        StoredFile.objects.filter(pk=stored.pk).update(
            deleted_at=timezone.now(), delete_reason=DeleteReason.EXPIRED
        )
        return result

    monkeypatch.setattr(jobs, "server_side_copy", copy_then_expire)
    tasks.backup_file(stored.pk)
    assert object_keys(buckets, BACKUP_A) == []


# --------------------------------------------------------------------------- purge and restore


def test_backup_is_purged_after_the_retention_period_only(
    personas: Any, space_a: Any, buckets: Any, enqueued: list[int]
) -> None:
    stored = stored_file(space_a, personas.bob)
    kept = stored_file(space_a, personas.bob, "kept.txt")
    for f in (stored, kept):
        tasks.backup_file(f.pk)
        f.refresh_from_db()
        services.delete_file(personas.bob, f, space_a)
    assert tasks.purge_deleted_backups() == {"purged": 0, "failed": 0}
    StoredFile.objects.filter(pk=stored.pk).update(
        purge_backup_after=timezone.now() - dt.timedelta(seconds=1)
    )
    assert tasks.purge_deleted_backups() == {"purged": 1, "failed": 0}
    assert object_keys(buckets, BACKUP_A) == [kept.key]
    stored.refresh_from_db()
    assert stored.backup_deleted_at is not None and not stored.restorable
    assert AuditEvent.objects.filter(action="files.file.backup_purge").count() == 1


def test_restore_from_backup_within_retention(
    personas: Any, space_a: Any, versioned: Any, enqueued: list[int]
) -> None:
    stored = stored_file(space_a, personas.bob, "oops.txt", b"precious")
    tasks.backup_file(stored.pk)
    stored.refresh_from_db()
    services.delete_file(personas.bob, stored, space_a)
    assert object_keys(versioned, BUCKET_A) == []

    services.restore_file(personas.alice, stored)
    stored.refresh_from_db()
    assert stored.deleted_at is None and stored.purge_backup_after is None
    body = versioned.get_object(Bucket=BUCKET_A, Key=stored.key, VersionId=stored.version_id)
    assert body["Body"].read() == b"precious"
    assert body["Metadata"]["original-name"] == "oops.txt"
    event = AuditEvent.objects.get(action="files.file.restore")
    assert event.actor_name == "alice" and event.before["deleted"] is True


def test_restore_without_a_backup_is_refused(
    personas: Any, space_a: Any, enqueued: list[int]
) -> None:
    stored = stored_file(space_a, personas.bob)
    with pytest.raises(services.FilesError, match="no backup"):
        services.restore_file(personas.alice, stored)
