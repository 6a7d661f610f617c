"""Bucket inventory and security scans: Bucket, BucketSnapshot, Finding, ScanRun (and the
BucketChangeLock that serialises changes to one bucket).

Every row reaches its tenant through one FK chain: ``bucket.account.tenant`` (Bucket,
ScanRun: ``account__tenant``; BucketSnapshot, Finding: ``bucket__account__tenant``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import AwsAccount, Tenant
from accounts.scoping import TenantScopedManager, TenantScopedQuerySet


class Severity(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    INFO = "info", "Info"


# Higher number = more serious.
SEVERITY_RANK: dict[str, int] = {
    Severity.INFO: 1,
    Severity.LOW: 2,
    Severity.MEDIUM: 3,
    Severity.HIGH: 4,
}


def severity_at_least(severity: str | None, minimum: str) -> bool:
    return severity is not None and SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK[minimum]


class Bucket(models.Model):
    """One bucket of one AWS account, as last seen by a scan. Never deleted: gone_at marks it."""

    tenant_path = "account__tenant"

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="buckets")
    name = models.CharField(max_length=255)
    region = models.CharField(max_length=32, blank=True)
    created_on_aws = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    gone_at = models.DateTimeField(null=True, blank=True, db_index=True)

    # The latest verdict (copied from the newest snapshot so lists and filters need no join).
    is_public = models.BooleanField(
        null=True, blank=True, help_text="None: not scanned yet, or exposure could not be read."
    )
    public_reasons = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    verdict = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    checks = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="check -> status/detail"
    )
    fail_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    worst_severity = models.CharField(max_length=8, choices=Severity.choices, blank=True)
    last_scanned_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="one_bucket_per_account")
        ]
        indexes = [models.Index(fields=["is_public"], name="storage_bucket_public")]

    def __str__(self) -> str:
        return self.name

    @property
    def tenant(self) -> Tenant:
        return self.account.tenant

    def failing_checks(self) -> list[str]:
        return sorted(n for n, c in self.checks.items() if c.get("status") == "fail")

    def audit_dict(self) -> dict[str, Any]:
        return {"bucket": self.name, "region": self.region, "account": self.account.name}


class ScanRun(models.Model):
    """One scan of one AWS account (or of one bucket, after a fix)."""

    tenant_path = "account__tenant"

    class Kind(models.TextChoices):
        ACCOUNT = "account", "Account"
        BUCKET = "bucket", "Single bucket"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Portal"
        CLI = "cli", "Command line"
        FIX = "fix", "After a fix"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.SKIPPED)

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="scan_runs")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.ACCOUNT)
    trigger = models.CharField(max_length=8, choices=Trigger.choices, default=Trigger.MANUAL)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    patterns = models.JSONField(default=list, blank=True, help_text="bucket names or globs")
    skipped_checks = models.JSONField(default=list, blank=True)
    buckets_total = models.PositiveIntegerField(default=0)
    buckets_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="check errors (first ones)")
    error_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, help_text="why the run failed or was skipped")
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The lock: the database refuses a second running account scan of one account.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="running", kind="account"),
                name="one_running_scan_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"scan #{self.pk} of {self.account.name} ({self.status})"

    @property
    def tenant(self) -> Tenant:
        return self.account.tenant

    @property
    def is_finished(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def started_by(self) -> str:
        if self.actor_name:
            return self.actor_name
        return self.get_trigger_display()

    def progress_dict(self) -> dict[str, Any]:
        duration = self.duration
        return {
            "id": self.pk,
            "status": self.status,
            "status_label": self.get_status_display(),
            "finished": self.is_finished,
            "done": self.buckets_done,
            "total": self.buckets_total,
            "counts": self.counts,
            "error_count": self.error_count,
            "message": self.message,
            "duration_seconds": round(duration.total_seconds(), 1) if duration else None,
        }


class BucketChangeLock(models.Model):
    """Held while a change to one bucket's configuration is re-read, checked and written
    (storage/remediation/locks.py): two operators' applies never interleave. A row outlives a
    crashed worker only until `expires_at`, then the next change takes it over."""

    tenant_path = "bucket__account__tenant"

    bucket = models.OneToOneField(
        Bucket, on_delete=models.CASCADE, primary_key=True, related_name="change_lock"
    )
    token = models.CharField(max_length=32)
    taken_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    what = models.CharField(max_length=100, blank=True, help_text="the change being applied")

    objects = TenantScopedManager()

    def __str__(self) -> str:
        return f"{self.bucket.name}: {self.what or 'a change'} until {self.expires_at:%H:%M:%S}"


class BucketSnapshot(models.Model):
    """Everything one scan saw about one bucket, so history can be shown and compared."""

    tenant_path = "bucket__account__tenant"

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="snapshots")
    run = models.ForeignKey(
        ScanRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    taken_at = models.DateTimeField(default=timezone.now, db_index=True)
    region = models.CharField(max_length=32, blank=True)
    is_public = models.BooleanField(null=True, blank=True)
    checks = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    verdict = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    data = models.JSONField(
        default=dict, encoder=DjangoJSONEncoder, help_text="raw answers of every API call"
    )

    objects = TenantScopedManager()

    class Meta:
        ordering = ["-taken_at", "-id"]
        get_latest_by = "taken_at"

    def __str__(self) -> str:
        return f"{self.bucket.name} @ {self.taken_at:%Y-%m-%d %H:%M:%S}"


class FindingQuerySet(TenantScopedQuerySet["Finding"]):
    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Finding]:
        objs = list(objs)
        for finding in objs:
            finding.fill_denormalized()
        return super().bulk_create(objs, *args, **kwargs)


class Suppression(models.TextChoices):
    ACCEPTED = "accepted", "risk accepted"
    SUPPRESSED = "suppressed", "suppressed (not a problem here)"


class Finding(models.Model):
    """A failing check of one bucket over time: opened, refreshed by each scan, resolved.

    `tenant` and `severity_rank` repeat what `bucket` and `severity` say, so that lists of one
    tenant's findings sorted by severity or age are read from one index, without a join or a
    sort of every open finding. They are filled on save and bulk_create, never edited.
    """

    tenant_path = "tenant"

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="findings")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False)
    check_name = models.CharField("check", max_length=32, db_index=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, db_index=True)
    severity_rank = models.PositiveSmallIntegerField(default=0, editable=False)
    detail = models.TextField()
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolution = models.CharField(max_length=200, blank=True)
    opened_by = models.ForeignKey(
        ScanRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="opened_findings"
    )
    alerted_at = models.DateTimeField(null=True, blank=True)
    # Accepted (a known, tolerated risk) or suppressed (not a real problem here), with a
    # reason, until a date: hidden from the open list and the banner until then; audited.
    suppression = models.CharField(
        max_length=10, choices=Suppression.choices, blank=True, default=""
    )
    suppression_reason = models.TextField(blank=True)
    suppressed_until = models.DateTimeField(null=True, blank=True, db_index=True)
    suppressed_at = models.DateTimeField(null=True, blank=True)
    suppressed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["resolved_at", "-first_seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "check_name"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_finding_per_bucket_check",
            )
        ]
        indexes = [
            # the admin's and the findings page's default order, within one tenant
            models.Index(
                fields=["tenant", "resolved_at", "-first_seen_at", "-id"], name="finding_by_age"
            ),
            # most severe, then oldest first: the findings page's default order
            models.Index(
                fields=["tenant", "resolved_at", "-severity_rank", "first_seen_at", "id"],
                name="finding_by_severity",
            ),
            # the open list's count: tenant, open, and not suppressed, from the index alone
            models.Index(
                fields=["tenant", "resolved_at", "suppression", "suppressed_until"],
                name="finding_open_unsuppressed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bucket.name}: {self.check_name} ({self.severity})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.fill_denormalized()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "severity" in update_fields:
            kwargs["update_fields"] = {*update_fields, "severity_rank"}
        super().save(*args, **kwargs)

    def fill_denormalized(self) -> None:
        if self.tenant_id is None:
            self.tenant_id = self.bucket.account.tenant_id
        self.severity_rank = SEVERITY_RANK.get(self.severity, 0)

    def is_suppressed(self, now: datetime | None = None) -> bool:
        until = self.suppressed_until
        return bool(self.suppression) and until is not None and until > (now or timezone.now())
