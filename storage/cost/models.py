"""Storage cost rows: measured usage, daily rollups, tenant price overrides, listing jobs.

Every row reaches its tenant through a declared FK path (accounts.scoping): BucketUsage and
SizingJob through ``bucket__account__tenant``, CostRollup and TenantPricing through ``tenant``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import AwsAccount, Tenant
from accounts.scoping import TenantScopedManager
from storage.models import Bucket


class Source(models.TextChoices):
    CLOUDWATCH = "cloudwatch", "CloudWatch storage metrics"
    LISTING = "listing", "Listing (ListObjectVersions + ListMultipartUploads)"


class BucketUsage(models.Model):
    """Bytes and objects of one storage class in one bucket, measured on one day.

    Listing source: `bytes`/`object_count` are current versions; noncurrent versions, unfinished
    uploads and the billed overheads are in their own fields. CloudWatch source: `bytes` is
    BucketSizeBytes of the class's storage type, which already includes noncurrent versions and
    upload parts (CloudWatch does not split them out); the overheads are AWS's own overhead
    storage types; per-class object counts are unknown (`object_count` None, `bucket_objects` set).
    """

    tenant_path = "bucket__account__tenant"

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="usages")
    day = models.DateField(db_index=True)
    storage_class = models.CharField(max_length=32)
    bytes = models.BigIntegerField(default=0)
    object_count = models.BigIntegerField(null=True, blank=True)
    noncurrent_bytes = models.BigIntegerField(default=0)
    noncurrent_objects = models.BigIntegerField(default=0)
    delete_markers = models.BigIntegerField(default=0)
    incomplete_upload_bytes = models.BigIntegerField(default=0)
    incomplete_uploads = models.BigIntegerField(default=0)
    # Billed overheads: at the class's own rate (128 KB minimum, Glacier's 32 KB) and at
    # Standard's rate (Glacier's and Deep Archive's 8 KB per object).
    class_overhead_bytes = models.BigIntegerField(default=0)
    standard_overhead_bytes = models.BigIntegerField(default=0)
    monitored_objects = models.BigIntegerField(
        null=True, blank=True, help_text="Intelligent-Tiering objects of 128 KB or more."
    )
    bucket_objects = models.BigIntegerField(
        null=True, blank=True, help_text="CloudWatch NumberOfObjects (all storage types)."
    )
    # Waste, from listing only.
    noncurrent_expirable_bytes = models.BigIntegerField(
        default=0, help_text="Noncurrent bytes 'keep 3 newer, expire after 90 days' removes."
    )
    expired_delete_markers = models.BigIntegerField(default=0)
    stale_upload_bytes = models.BigIntegerField(default=0, help_text="Uploads older than 7 days.")
    stale_uploads = models.BigIntegerField(default=0)
    old_current_bytes = models.BigIntegerField(
        default=0, help_text="Current objects >= 128 KB not modified for 90 days."
    )
    old_current_objects = models.BigIntegerField(default=0)
    source = models.CharField(max_length=12, choices=Source.choices)
    measured_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["bucket_id", "day", "storage_class"]
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "day", "storage_class"], name="one_usage_per_bucket_day_class"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bucket_id} {self.day} {self.storage_class}"


class CostRollup(models.Model):
    """The estimated monthly cost of one storage class of one bucket, as of one day."""

    tenant_path = "tenant"

    day = models.DateField(db_index=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="cost_rollups")
    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="+")
    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="cost_rollups")
    region = models.CharField(max_length=32)
    storage_class = models.CharField(max_length=32)
    bytes = models.BigIntegerField(
        default=0, help_text="Billed bytes (versions, uploads, overhead)."
    )
    object_count = models.BigIntegerField(null=True, blank=True)
    monthly_cost_usd = models.DecimalField(
        max_digits=30, decimal_places=18, null=True, blank=True, help_text="None: no price."
    )
    daily_cost_usd = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    price_verified = models.BooleanField(default=True)
    usage_day = models.DateField(help_text="The day of the sizing this estimate comes from.")
    table_date = models.CharField(max_length=16)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["day", "bucket_id", "storage_class"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "bucket", "storage_class"], name="one_rollup_per_day_bucket_class"
            )
        ]
        indexes = [models.Index(fields=["tenant", "day"], name="cost_rollup_tenant_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.bucket_id} {self.storage_class}"


class TenantPricing(models.Model):
    """Tenant price overrides: a discount on AWS list prices; prices for S3-compatible stores."""

    tenant_path = "tenant"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="pricing")
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Taken off AWS list prices (e.g. an EDP or private pricing agreement).",
    )
    compatible_usd_per_gb = models.DecimalField(
        max_digits=12,
        decimal_places=8,
        null=True,
        blank=True,
        help_text="Per GB-month for accounts with an endpoint URL (S3-compatible); empty: none.",
    )
    compatible_class_prices = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per storage class for S3-compatible accounts, e.g. {"STANDARD": "0.0059"}.',
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedManager()

    class Meta:
        verbose_name = "tenant price override"

    def __str__(self) -> str:
        return f"prices of {self.tenant}"

    def audit_dict(self) -> dict[str, Any]:
        return {
            "discount_percent": str(self.discount_percent),
            "compatible_usd_per_gb": (
                None if self.compatible_usd_per_gb is None else str(self.compatible_usd_per_gb)
            ),
            "compatible_class_prices": self.compatible_class_prices,
        }


class SizingJob(models.Model):
    """A resumable listing of one bucket: markers and partial sums are saved as it goes."""

    tenant_path = "bucket__account__tenant"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="sizing_jobs")
    day = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(
        max_length=12, default="versions"
    )  # (versions|objects) -> uploads -> done
    key_marker = models.TextField(blank=True, help_text="KeyMarker, or a ListObjectsV2 token")
    version_id_marker = models.TextField(blank=True)
    state = models.JSONField(default=dict, blank=True)
    pages = models.PositiveIntegerField(default=0)
    entries = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["bucket", "day"], name="one_sizing_job_per_bucket_day")
        ]

    def __str__(self) -> str:
        return f"sizing {self.bucket_id} {self.day} ({self.status})"
