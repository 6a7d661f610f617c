"""Admin for file spaces and stored files (scoped; restore and retry actions) and set_file_space."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.models import AuditEvent
from storage.files import services, tasks
from storage.files.models import BackupState, FileSpace, StoredFile
from tests.files_fixtures import BACKUP_A, BUCKET_A, object_keys, stored_file

pytestmark = pytest.mark.django_db


def space_form(account: Any, tenant: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "tenant": tenant.pk,
        "account": account.pk,
        "bucket": BUCKET_A,
        "prefix": "team",
        "region": "",
        "backup_account": account.pk,
        "backup_bucket": BACKUP_A,
        "backup_region": "",
        "max_file_size": 1024 * 1024,
        "browser_can_reach_s3": "on",
        "delete_retention_days": 14,
    }
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- FileSpace admin


def test_tenant_admin_sets_up_the_file_space_in_the_admin(
    personas: Any, account_a: Any, buckets: Any
) -> None:
    client = personas.client_for("alice")
    url = reverse("admin:files_filespace_add")
    response = client.post(url, space_form(account_a, personas.tenant_a))
    assert response.status_code == 302, response.content.decode()[:2000]
    space = FileSpace.objects.get(tenant=personas.tenant_a)
    assert space.prefix == "team" and space.delete_retention_days == 14
    event = AuditEvent.objects.get(action="files.space.create")
    assert event.actor_name == "alice" and event.after["bucket"] == BUCKET_A


def test_admin_form_reports_an_unreachable_bucket(
    personas: Any, account_a: Any, buckets: Any
) -> None:
    client = personas.client_for("alice")
    data = space_form(account_a, personas.tenant_a, backup_bucket="no-such-bucket-here")
    response = client.post(reverse("admin:files_filespace_add"), data)
    assert response.status_code == 200
    assert "backup bucket: bucket &#x27;no-such-bucket-here&#x27; does not exist" in (
        response.content.decode()
    )
    assert not FileSpace.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prefix": "../x"}, "key prefix"),
        ({"prefix": "/lead"}, "key prefix"),
        ({"bucket": "Bad_Bucket"}, "not a valid S3 bucket name"),
        ({"backup_bucket": BUCKET_A}, "must differ"),
    ],
)
def test_admin_form_validation(
    personas: Any, account_a: Any, buckets: Any, overrides: dict[str, Any], message: str
) -> None:
    client = personas.client_for("alice")
    data = space_form(account_a, personas.tenant_a, **overrides)
    response = client.post(reverse("admin:files_filespace_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not FileSpace.objects.exists()


def test_admin_cannot_use_another_tenants_account_or_tenant(
    personas: Any, account_a: Any, account_b: Any, buckets: Any
) -> None:
    client = personas.client_for("alice")
    response = client.post(
        reverse("admin:files_filespace_add"), space_form(account_b, personas.tenant_a)
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post(
        reverse("admin:files_filespace_add"), space_form(account_a, personas.tenant_b)
    )
    assert response.status_code == 200
    assert not FileSpace.objects.exists()


def test_file_space_admin_is_scoped(personas: Any, space_a: Any, space_b: Any) -> None:
    alice = personas.client_for("alice").get(reverse("admin:files_filespace_changelist"))
    assert BUCKET_A in alice.content.decode() and "tenant-b-files" not in alice.content.decode()
    carol = personas.client_for("carol")
    assert carol.get(reverse("admin:files_filespace_change", args=[space_a.pk])).status_code == 404
    assert (
        personas.client_for("oscar").get(reverse("admin:files_filespace_changelist")).status_code
        == 403
    )
    bob = personas.client_for("bob").get(reverse("admin:files_filespace_changelist"))
    assert bob.status_code == 302  # members never use the admin


# --------------------------------------------------------------------------- StoredFile admin


def test_stored_file_admin_shows_backup_state_and_is_scoped(
    personas: Any, space_a: Any, space_b: Any, enqueued: list[int]
) -> None:
    mine = stored_file(space_a, personas.bob, "bob-admin-view.txt")
    theirs = stored_file(space_b, personas.carol, "carol-admin-view.txt")
    StoredFile.objects.filter(pk=mine.pk).update(
        backup_state=BackupState.FAILED, backup_last_error="AccessDenied on <bucket>"
    )
    page = personas.client_for("alice").get(reverse("admin:files_storedfile_changelist"))
    body = page.content.decode()
    assert "bob-admin-view.txt" in body and "carol-admin-view.txt" not in body
    assert "Failed" in body and "AccessDenied on &lt;bucket&gt;" in body
    carol = personas.client_for("carol")
    assert carol.get(reverse("admin:files_storedfile_change", args=[mine.pk])).status_code == 404
    assert carol.get(reverse("admin:files_storedfile_change", args=[theirs.pk])).status_code == 200
    # Operators do not browse other people's files.
    oscar = personas.client_for("oscar")
    assert oscar.get(reverse("admin:files_storedfile_changelist")).status_code == 403


def test_admin_owner_filter_lists_only_visible_owners(
    personas: Any, space_a: Any, space_b: Any, enqueued: list[int]
) -> None:
    stored_file(space_a, personas.bob, "a.txt")
    stored_file(space_b, personas.carol, "b.txt")
    body = personas.client_for("alice").get(reverse("admin:files_storedfile_changelist"))
    text = body.content.decode()
    assert f"?owner={personas.bob.pk}" in text
    assert f"?owner={personas.carol.pk}" not in text


def test_admin_restores_a_deleted_file_from_backup(
    personas: Any, space_a: Any, buckets: Any, enqueued: list[int]
) -> None:
    stored = stored_file(space_a, personas.bob, "mistake.txt", b"undo me")
    tasks.backup_file(stored.pk)
    stored.refresh_from_db()
    services.delete_file(personas.bob, stored, space_a)
    url = reverse("admin:files_storedfile_changelist")
    listing = personas.client_for("alice").get(url).content.decode()
    assert "restorable until" in listing

    # carol (another tenant) cannot restore it: her queryset does not contain it.
    personas.client_for("carol").post(
        url, {"action": "restore_from_backup", "_selected_action": [stored.pk]}
    )
    stored.refresh_from_db()
    assert stored.deleted_at is not None

    response = personas.client_for("alice").post(
        url, {"action": "restore_from_backup", "_selected_action": [stored.pk]}, follow=True
    )
    assert "Restored mistake.txt." in response.content.decode()
    stored.refresh_from_db()
    assert stored.deleted_at is None
    got = buckets.get_object(Bucket=BUCKET_A, Key=stored.key)["Body"].read()
    assert got == b"undo me"
    assert AuditEvent.objects.filter(action="files.file.restore", actor_name="alice").exists()


def test_admin_restore_without_backup_shows_an_error(
    personas: Any, space_a: Any, enqueued: list[int]
) -> None:
    stored = stored_file(space_a, personas.bob, "nobackup.txt")
    url = reverse("admin:files_storedfile_changelist")
    response = personas.client_for("alice").post(
        url, {"action": "restore_from_backup", "_selected_action": [stored.pk]}, follow=True
    )
    assert "there is no backup to restore from" in response.content.decode()


def test_admin_retry_backup_action(
    personas: Any, space_a: Any, enqueued: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    stored = stored_file(space_a, personas.bob)
    StoredFile.objects.filter(pk=stored.pk).update(
        backup_state=BackupState.FAILED, backup_attempts=12
    )
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        personas.client_for("alice").post(
            reverse("admin:files_storedfile_changelist"),
            {"action": "retry_backup_now", "_selected_action": [stored.pk]},
        )
    stored.refresh_from_db()
    assert stored.backup_state == BackupState.PENDING and stored.backup_attempts == 0
    assert enqueued == [stored.pk]


def test_stored_files_cannot_be_added_or_deleted_in_the_admin(
    personas: Any, space_a: Any, enqueued: list[int]
) -> None:
    stored = stored_file(space_a, personas.bob)
    client = personas.client_for("alice")
    assert client.get(reverse("admin:files_storedfile_add")).status_code == 403
    assert client.get(reverse("admin:files_storedfile_delete", args=[stored.pk])).status_code == 403


# --------------------------------------------------------------------------- set_file_space


def run(*args: str) -> str:
    out = StringIO()
    call_command("set_file_space", *args, stdout=out)
    return out.getvalue()


def test_set_file_space_creates_and_updates(personas: Any, account_a: Any, buckets: Any) -> None:
    out = run(
        "tenant-a",
        "--account",
        "prod",
        "--bucket",
        BUCKET_A,
        "--prefix",
        "/files/",
        "--backup-account",
        "prod",
        "--backup-bucket",
        BACKUP_A,
        "--max-file-size",
        "2G",
    )
    assert "created the file space of tenant-a" in out
    space = FileSpace.objects.get(tenant=personas.tenant_a)
    assert space.prefix == "files" and space.max_file_size == 2 * 1024**3
    out = run(
        "tenant-a",
        "--account",
        "prod",
        "--bucket",
        BUCKET_A,
        "--backup-account",
        "prod",
        "--backup-bucket",
        BACKUP_A,
        "--retention-days",
        "7",
        "--stream-downloads",
        "yes",
        "--viewers-may-download",
        "yes",
    )
    assert "updated" in out
    space.refresh_from_db()
    assert space.delete_retention_days == 7
    assert space.browser_can_reach_s3 is False and space.viewers_may_download is True
    assert space.prefix == "" and space.max_file_size == 2 * 1024**3
    events = AuditEvent.objects.filter(action__startswith="files.space").order_by("id")
    actions = list(events.values_list("action", flat=True))
    assert actions == ["files.space.create", "files.space.update"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-tenant", "--account", "prod"], "unknown tenant 'no-tenant'"),
        (["tenant-a", "--account", "nope"], "--account 'nope': tenant 'tenant-a' has no such"),
        (["tenant-a", "--account", "prod", "--bucket", "missing-bucket"], "does not exist"),
        (["tenant-a", "--account", "prod", "--bucket", "UPPER"], "not a valid S3 bucket name"),
        (["tenant-a", "--account", "prod", "--prefix", "a/../b"], "key prefix"),
        (["tenant-a", "--account", "prod", "--max-file-size", "lots"], "--max-file-size"),
    ],
)
def test_set_file_space_errors_are_clear_and_save_nothing(
    personas: Any, account_a: Any, buckets: Any, args: list[str], message: str
) -> None:
    defaults = {"--bucket": BUCKET_A, "--backup-account": "prod", "--backup-bucket": BACKUP_A}
    full = list(args)
    for option, value in defaults.items():
        if option not in full:
            full += [option, value]
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run(*full)
    assert not FileSpace.objects.exists()


def test_set_file_space_refuses_another_tenants_account(
    personas: Any, account_a: Any, account_b: Any, buckets: Any
) -> None:
    with pytest.raises(CommandError, match="has no such AWS account"):
        run(
            "tenant-a",
            "--account",
            "b-main",
            "--bucket",
            BUCKET_A,
            "--backup-account",
            "prod",
            "--backup-bucket",
            BACKUP_A,
        )


def test_uploads_after_a_space_change_keep_old_files_reachable(
    personas: Any, space_a: Any, buckets: Any, enqueued: list[int]
) -> None:
    old = stored_file(space_a, personas.bob, "old.txt", b"old")
    buckets.create_bucket(Bucket="tenant-a-new")
    space_a.bucket = "tenant-a-new"
    space_a.save()
    response = personas.client_for("bob").get(reverse("files:download", args=[old.pk]))
    assert response.status_code == 302 and BUCKET_A in response["Location"]
    assert object_keys(buckets, BUCKET_A) == [old.key]


def test_deleting_a_tenant_removes_its_file_rows(
    personas: Any, space_a: Any, enqueued: list[int]
) -> None:
    from accounts import services as account_services

    stored_file(space_a, personas.bob)
    account_services.delete_object(personas.root, personas.tenant_a)
    assert not StoredFile.objects.exists() and not FileSpace.objects.exists()


def test_an_account_in_use_by_a_file_space_cannot_be_deleted(
    personas: Any, space_a: Any, account_a: Any
) -> None:
    response = personas.client_for("alice").post(
        reverse("admin:accounts_awsaccount_delete", args=[account_a.pk]), {"post": "yes"}
    )
    assert response.status_code == 200
    assert "protected" in response.content.decode()
    account_a.refresh_from_db()
