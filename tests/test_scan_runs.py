"""Scan runs: inventory, snapshots, findings over time, alerts, the lock, the Celery tasks."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AwsAccount
from storage import tasks
from storage.models import Bucket, BucketSnapshot, Finding, ScanRun
from storage.scan import fanout, inventory, runner
from tests.scan_helpers import full_scan, public_policy

pytestmark = pytest.mark.django_db


# --- inventory ------------------------------------------------------------------------------


def test_scan_records_buckets_regions_and_snapshots(
    verified_account: Any, make_bucket: Any
) -> None:
    make_bucket("inv-east")
    make_bucket("inv-west", region="eu-west-1")
    run = full_scan(verified_account)
    assert run.status == ScanRun.Status.SUCCEEDED
    assert run.buckets_total == run.buckets_done == 2
    assert run.started_at and run.finished_at and run.duration is not None
    buckets = {b.name: b for b in Bucket.objects.filter(account=verified_account)}
    assert buckets["inv-west"].region == "eu-west-1"
    assert buckets["inv-east"].region == "us-east-1"
    assert buckets["inv-east"].last_scanned_at is not None
    snapshot = BucketSnapshot.objects.get(bucket=buckets["inv-west"])
    assert snapshot.run == run
    # Everything seen is kept: raw answers, including the account-level setting.
    assert set(snapshot.data) >= {"acl", "policy", "bucket_pab", "encryption", "account_pab"}
    assert snapshot.data["policy"] == {"operation": "GetBucketPolicy", "not_configured": True}
    assert snapshot.checks["public"]["status"] == "pass"


def test_bucket_region_from_list_buckets_is_used_without_get_location() -> None:
    class Paginator:
        def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
            assert kwargs["PaginationConfig"]["PageSize"] == inventory.LIST_PAGE_SIZE
            return [
                {"Buckets": [{"Name": "a", "BucketRegion": "eu-central-1"}]},
                {"Buckets": [{"Name": "b", "BucketRegion": "ap-south-1"}, {"Name": "c"}]},
            ]

    class Client:
        def get_paginator(self, name: str) -> Paginator:
            assert name == "list_buckets"
            return Paginator()

    refs = list(inventory.iter_buckets(Client(), account_name="x"))
    assert [(r.name, r.region) for r in refs] == [
        ("a", "eu-central-1"),
        ("b", "ap-south-1"),
        ("c", None),
    ]


def test_known_regions_save_get_bucket_location(
    verified_account: Any, make_bucket: Any, s3: Any, aws_faults: Any
) -> None:
    make_bucket("where-1", region="eu-west-1")
    make_bucket("where-2")
    full_scan(verified_account)
    assert aws_faults.count("GetBucketLocation") == 2  # moto's ListBuckets gives no region
    full_scan(verified_account)
    assert aws_faults.count("GetBucketLocation") == 2  # a bucket never changes region
    # Deleted and created again (elsewhere): a new creation date, so it is located again.
    # (S3 dates have one-second precision; make the old one clearly older.)
    Bucket.objects.filter(name="where-1").update(created_on_aws=timezone.now() - timedelta(days=1))
    s3.delete_bucket(Bucket="where-1")
    make_bucket("where-1", region="ap-south-1")
    full_scan(verified_account)
    assert aws_faults.count("GetBucketLocation") == 3
    assert Bucket.objects.get(name="where-1").region == "ap-south-1"


def test_deleted_buckets_are_marked_gone_not_deleted(
    verified_account: Any, make_bucket: Any, s3: Any
) -> None:
    make_bucket("will-go", acl="public-read")
    make_bucket("stays")
    full_scan(verified_account)
    gone = Bucket.objects.get(name="will-go")
    assert Finding.objects.filter(bucket=gone, resolved_at__isnull=True).exists()
    s3.delete_bucket(Bucket="will-go")
    run = full_scan(verified_account)
    gone.refresh_from_db()
    assert gone.gone_at is not None
    assert run.counts["gone"] == 1
    assert gone.snapshots.count() == 1  # history stays
    assert not Finding.objects.filter(bucket=gone, resolved_at__isnull=True).exists()
    assert Finding.objects.filter(bucket=gone, resolution="the bucket no longer exists").exists()
    assert Bucket.objects.get(name="stays").gone_at is None


def test_a_pattern_scan_does_not_mark_others_gone(verified_account: Any, make_bucket: Any) -> None:
    make_bucket("alpha-1")
    make_bucket("beta-1")
    full_scan(verified_account)
    run = full_scan(verified_account, patterns=["alpha-*"])
    assert run.buckets_total == 1
    assert Bucket.objects.get(name="beta-1").gone_at is None


def test_listing_denied_fails_the_run_with_the_permission(
    verified_account: Any, aws_faults: Any
) -> None:
    aws_faults.fail("ListBuckets", "AccessDenied")
    run = full_scan(verified_account)
    assert run.status == ScanRun.Status.FAILED
    assert "s3:ListAllMyBuckets" in run.message


def test_listing_throttled_requeues_for_retry(verified_account: Any, aws_faults: Any) -> None:
    aws_faults.fail("ListBuckets", "SlowDown")
    run = runner.create_run(verified_account, trigger="schedule")
    with pytest.raises(runner.TransientScanError):
        runner.execute(run)
    run.refresh_from_db()
    assert run.status == ScanRun.Status.QUEUED  # the lock is free again; a retry can claim it
    assert run.message.startswith("will retry")


def test_check_errors_are_counted_on_the_run(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    make_bucket("err-bucket")
    aws_faults.fail("GetBucketEncryption", "AccessDenied")
    run = full_scan(verified_account)
    assert run.status == ScanRun.Status.SUCCEEDED
    assert run.error_count == 1
    assert run.errors[0].startswith("err-bucket: encryption: The credentials of account")
    bucket = Bucket.objects.get(name="err-bucket")
    assert bucket.error_count == 1
    assert bucket.checks["encryption"]["status"] == "error"


def test_pool_size_comes_from_settings(
    verified_account: Any, make_bucket: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.SCAN_POOL_SIZE = 3
    sizes: list[int] = []
    real = fanout.ThreadPoolExecutor

    def spy(*args: Any, **kwargs: Any) -> Any:
        sizes.append(kwargs["max_workers"])
        return real(*args, **kwargs)

    monkeypatch.setattr(fanout, "ThreadPoolExecutor", spy)
    for i in range(5):
        make_bucket(f"pool-{i}")
    full_scan(verified_account)
    assert sizes == [3]


def test_checks_run_concurrently_and_in_flight_work_is_bounded(
    verified_account: Any, make_bucket: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.SCAN_POOL_SIZE = 4
    for i in range(12):
        make_bucket(f"conc-{i:02d}")
    lock = threading.Lock()
    state = {"now": 0, "max": 0, "threads": set()}
    real = fanout.collect_bucket

    def tracked(*args: Any, **kwargs: Any) -> Any:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
            state["threads"].add(threading.get_ident())
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(fanout, "collect_bucket", tracked)
    run = full_scan(verified_account)
    assert run.buckets_done == 12
    assert 1 < len(state["threads"]) <= 4
    assert state["max"] <= 4


# --- findings -------------------------------------------------------------------------------


def test_findings_open_refresh_and_resolve(
    verified_account: Any, make_bucket: Any, s3: Any
) -> None:
    make_bucket("life", acl="public-read")
    run1 = full_scan(verified_account)
    bucket = Bucket.objects.get(name="life")
    public = Finding.objects.get(bucket=bucket, check_name="public", resolved_at__isnull=True)
    assert public.severity == "high"
    assert public.opened_by == run1
    first_seen = public.first_seen_at
    assert run1.counts["opened"] == bucket.fail_count

    run2 = full_scan(verified_account)
    public.refresh_from_db()
    assert public.resolved_at is None
    assert public.first_seen_at == first_seen
    assert public.last_seen_at > first_seen
    assert run2.counts["opened"] == 0 and run2.counts["refreshed"] == bucket.fail_count

    s3.put_bucket_acl(Bucket="life", ACL="private")
    run3 = full_scan(verified_account)
    public.refresh_from_db()
    assert public.resolved_at is not None
    assert public.resolution.startswith("check passed: Not public")
    assert run3.counts["resolved"] >= 2  # public and acl
    bucket.refresh_from_db()
    assert bucket.is_public is False

    s3.put_bucket_acl(Bucket="life", ACL="public-read")
    full_scan(verified_account)
    reopened = Finding.objects.filter(bucket=bucket, check_name="public")
    assert reopened.count() == 2  # a new finding; the resolved one stays in history
    assert reopened.filter(resolved_at__isnull=True).count() == 1


def test_an_error_neither_refreshes_nor_resolves(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    make_bucket("flaky", acl="public-read")
    full_scan(verified_account)
    finding = Finding.objects.get(bucket__name="flaky", check_name="acl")
    seen = finding.last_seen_at
    aws_faults.fail("GetBucketAcl", "AccessDenied")
    full_scan(verified_account)
    finding.refresh_from_db()
    assert finding.resolved_at is None
    assert finding.last_seen_at == seen
    bucket = Bucket.objects.get(name="flaky")
    assert bucket.is_public is None


def test_skipped_checks_keep_their_findings(verified_account: Any, make_bucket: Any) -> None:
    make_bucket("skipped-find")
    full_scan(verified_account)
    assert Finding.objects.filter(check_name="logging", resolved_at__isnull=True).exists()
    full_scan(verified_account, skip=["logging"])
    assert Finding.objects.filter(check_name="logging", resolved_at__isnull=True).exists()
    assert Bucket.objects.get(name="skipped-find").checks["logging"]["status"] == "fail"


def test_one_open_finding_per_bucket_and_check(verified_account: Any, make_bucket: Any) -> None:
    make_bucket("uniq")
    full_scan(verified_account)
    bucket = Bucket.objects.get(name="uniq")
    with pytest.raises(IntegrityError), transaction.atomic():
        Finding.objects.create(bucket=bucket, check_name="logging", severity="medium", detail="x")


# --- alerts and the dashboard banner --------------------------------------------------------


def test_bucket_becoming_public_mails_the_tenant_admins_once(
    verified_account: Any,
    make_bucket: Any,
    s3: Any,
    personas: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_bucket("quiet")
    with django_capture_on_commit_callbacks(execute=True):
        full_scan(verified_account)
    assert mail.outbox == []  # nothing high

    s3.put_bucket_policy(Bucket="quiet", Policy=public_policy("quiet"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        full_scan(verified_account)
    assert callbacks, "the alert is sent on commit"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]  # tenant A's admins only
    assert "quiet is public" in message.subject
    assert "allows s3:GetObject to anyone" in message.body
    assert (
        reverse("storage:bucket_detail", args=[Bucket.objects.get(name="quiet").pk]) in message.body
    )
    assert Finding.objects.filter(check_name="public", alerted_at__isnull=False).exists()

    with django_capture_on_commit_callbacks(execute=True):
        full_scan(verified_account)
    assert len(mail.outbox) == 1  # still public: refreshed, not alerted again


def test_escalation_to_high_alerts(
    verified_account: Any,
    make_bucket: Any,
    s3: Any,
    personas: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_bucket("escalate", acl="public-read", pab={"IgnorePublicAcls": True})
    with django_capture_on_commit_callbacks(execute=True):
        full_scan(verified_account)
    acl = Finding.objects.get(check_name="acl")
    assert acl.severity == "low"
    assert mail.outbox == []
    s3.delete_public_access_block(Bucket="escalate")
    with django_capture_on_commit_callbacks(execute=True):
        full_scan(verified_account)
    acl.refresh_from_db()
    assert acl.severity == "high" and acl.alerted_at is not None
    assert len(mail.outbox) == 1


def test_failed_mail_is_retried_after_the_next_scan(
    verified_account: Any,
    make_bucket: Any,
    personas: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from storage.scan import alerts

    make_bucket("mail-down", acl="public-read")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("smtp down")

    monkeypatch.setattr(alerts, "send_mail", broken)
    with django_capture_on_commit_callbacks(execute=True):
        run = full_scan(verified_account)
    assert run.status == ScanRun.Status.SUCCEEDED
    assert Finding.objects.filter(severity="high", alerted_at__isnull=True).exists()
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        full_scan(verified_account)
    assert len(mail.outbox) == 1


def test_dashboard_banner_until_resolved(
    verified_account: Any, make_bucket: Any, s3: Any, personas: Any
) -> None:
    make_bucket("banner-bucket", acl="public-read")
    full_scan(verified_account)
    for persona in ("alice", "oscar", "bob", "vera"):
        body = personas.client_for(persona).get(reverse("portal:dashboard")).content.decode()
        assert 'id="high-findings-banner"' in body, persona
        assert "banner-bucket" in body
    other = personas.client_for("carol").get(reverse("portal:dashboard")).content.decode()
    assert "high-findings-banner" not in other and "banner-bucket" not in other

    s3.put_bucket_acl(Bucket="banner-bucket", ACL="private")
    full_scan(verified_account)
    body = personas.client_for("alice").get(reverse("portal:dashboard")).content.decode()
    assert "high-findings-banner" not in body


# --- one scan per account at a time ---------------------------------------------------------


def test_a_second_scan_of_the_same_account_is_skipped(
    verified_account: Any, make_bucket: Any
) -> None:
    make_bucket("locked-one")
    first = runner.create_run(verified_account, trigger="schedule")
    assert runner.claim(first)
    second = runner.create_run(verified_account, trigger="manual")
    runner.execute(second)
    second.refresh_from_db()
    assert second.status == ScanRun.Status.SKIPPED
    assert f"scan #{first.pk}" in second.message
    assert not Bucket.objects.exists()  # it did nothing


def test_the_database_refuses_two_running_scans(verified_account: Any) -> None:
    ScanRun.objects.create(account=verified_account, status=ScanRun.Status.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        ScanRun.objects.create(account=verified_account, status=ScanRun.Status.RUNNING)


def test_a_dead_scan_frees_the_account(
    verified_account: Any, make_bucket: Any, settings: Any
) -> None:
    make_bucket("after-crash")
    stale = ScanRun.objects.create(
        account=verified_account,
        status=ScanRun.Status.RUNNING,
        started_at=timezone.now() - timedelta(hours=2),
        heartbeat_at=timezone.now() - timedelta(seconds=settings.SCAN_STALE_AFTER + 5),
    )
    run = full_scan(verified_account)
    assert run.status == ScanRun.Status.SUCCEEDED
    stale.refresh_from_db()
    assert stale.status == ScanRun.Status.FAILED
    assert stale.message.startswith("abandoned")


def test_a_lost_queued_scan_does_not_block_the_schedule(
    verified_account: Any, settings: Any, monkeypatch: Any
) -> None:
    lost = ScanRun.objects.create(
        account=verified_account,
        trigger="schedule",
        created_at=timezone.now() - timedelta(seconds=settings.SCAN_INTERVAL + 60),
    )
    monkeypatch.setattr(tasks.scan_account, "delay", lambda *a: None)
    run, created = tasks.enqueue_account_scan(verified_account, trigger="schedule")
    assert created and run.pk != lost.pk
    lost.refresh_from_db()
    assert lost.status == ScanRun.Status.FAILED and lost.message.startswith("never started")
    # A recent queued run is not touched.
    again, created = tasks.enqueue_account_scan(verified_account, trigger="manual")
    assert not created and again.pk == run.pk


def test_scan_account_gives_up_after_its_retries(verified_account: Any, aws_faults: Any) -> None:
    aws_faults.fail("ListBuckets", "SlowDown")
    run = runner.create_run(verified_account, trigger="schedule")
    outcome = tasks.scan_account.apply(args=[verified_account.pk, run.pk])
    assert outcome.get()["status"] == "failed"
    run.refresh_from_db()
    assert run.status == ScanRun.Status.FAILED
    assert run.message.startswith(f"gave up after {tasks.scan_account.max_retries} retries")


def test_scans_of_different_accounts_may_overlap(
    verified_account: Any, verified_account_b: Any
) -> None:
    a = runner.create_run(verified_account, trigger="schedule")
    b = runner.create_run(verified_account_b, trigger="schedule")
    assert runner.claim(a) and runner.claim(b)


def test_finished_runs_are_left_alone(verified_account: Any, make_bucket: Any) -> None:
    make_bucket("idem")
    run = full_scan(verified_account)
    snapshots = BucketSnapshot.objects.count()
    runner.execute(run)
    assert BucketSnapshot.objects.count() == snapshots


def test_rescan_of_one_bucket(verified_account: Any, make_bucket: Any, s3: Any) -> None:
    make_bucket("single", acl="public-read")
    full_scan(verified_account)
    bucket = Bucket.objects.get(name="single")
    s3.put_bucket_acl(Bucket="single", ACL="private")
    run = runner.rescan_bucket(bucket)
    assert run.kind == ScanRun.Kind.BUCKET and run.status == ScanRun.Status.SUCCEEDED
    bucket.refresh_from_db()
    assert bucket.is_public is False
    assert bucket.snapshots.count() == 2


# --- Celery tasks ---------------------------------------------------------------------------


def test_schedule_entry(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["scan-all-accounts"]
    assert entry["task"] == "storage.scan_all_accounts"
    assert entry["schedule"] == settings.SCAN_INTERVAL
    assert entry["options"]["expires"] == settings.SCAN_INTERVAL


def test_scan_all_accounts_fans_out_to_verified_accounts_only(
    verified_account: Any,
    personas: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    AwsAccount.objects.create(tenant=personas.tenant_b, name="never-verified")
    AwsAccount.objects.create(
        tenant=personas.tenant_b,
        name="broken",
        verified_account_id="1",
        last_verified_at=timezone.now(),
        last_error="AWS rejected the secret access key",
    )
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(tasks.scan_account, "delay", lambda a, r: sent.append((a, r)))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.scan_all_accounts() == 1
    run = ScanRun.objects.get()
    assert sent == [(verified_account.pk, run.pk)]
    assert run.trigger == ScanRun.Trigger.SCHEDULE and run.status == ScanRun.Status.QUEUED
    # A queued scan is not queued twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.scan_all_accounts() == 0
    assert len(sent) == 1


def test_scan_account_task(verified_account: Any, make_bucket: Any) -> None:
    make_bucket("task-bucket")
    run = runner.create_run(verified_account, trigger="schedule")
    result = tasks.scan_account(verified_account.pk, run.pk)
    assert result == {"account_id": verified_account.pk, "run_id": run.pk, "status": "succeeded"}
    assert Bucket.objects.filter(name="task-bucket").exists()
    # Idempotent: running it again changes nothing.
    tasks.scan_account(verified_account.pk, run.pk)
    assert BucketSnapshot.objects.count() == 1


def test_scan_account_task_exits_cleanly_when_gone(db: Any) -> None:
    assert tasks.scan_account(424242) == {"account_id": 424242, "skipped": "gone"}


def test_scan_account_task_retries_only_transient_errors(
    verified_account: Any, make_bucket: Any, aws_faults: Any
) -> None:
    make_bucket("retry-bucket")
    fault = aws_faults.fail("ListBuckets", "SlowDown")

    original = runner.prepare

    def heal_after_two(*args: Any, **kwargs: Any) -> Any:
        if fault.calls >= 2:
            aws_faults.faults.remove(fault)
        return original(*args, **kwargs)

    import storage.scan.runner as runner_module

    runner_module.prepare = heal_after_two  # type: ignore[assignment]
    try:
        run = runner.create_run(verified_account, trigger="schedule")
        outcome = tasks.scan_account.apply(args=[verified_account.pk, run.pk])
    finally:
        runner_module.prepare = original  # type: ignore[assignment]
    assert outcome.get()["status"] == "succeeded"
    assert fault.calls == 2

    aws_faults.fail("ListBuckets", "AccessDenied")
    run = runner.create_run(verified_account, trigger="schedule")
    outcome = tasks.scan_account.apply(args=[verified_account.pk, run.pk])
    assert outcome.get()["status"] == "failed"  # not retried


def test_scan_all_accounts_is_registered() -> None:
    from s3portal.celery import app

    app.loader.import_default_modules()
    assert "storage.scan_all_accounts" in app.tasks
    assert "storage.scan_account" in app.tasks
