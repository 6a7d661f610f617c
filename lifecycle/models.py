"""Lifecycle rules the portal manages, every configuration it wrote or saw, tenant templates.

``LifecycleRule`` rows are the portal's own rules of a bucket (the desired state; what the last
apply wrote). Rules in the bucket that are not rows here (and whose ID lacks the portal's
prefix) are "foreign": kept byte for byte on every write. ``LifecycleVersion`` keeps whole
configurations (foreign rules included) for history, drift detection and rollback.
Every row reaches its tenant through ``bucket.account.tenant`` (templates: ``tenant``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from accounts.models import Tenant
from accounts.scoping import TenantScopedManager
from storage.models import Bucket


class FilterKind(models.TextChoices):
    ALL = "all", "All objects (empty Filter)"
    PREFIX = "prefix", "Prefix"
    TAG = "tag", "One tag"
    SIZE_GREATER = "size_gt", "Object size greater than"
    SIZE_LESS = "size_lt", "Object size less than"
    AND = "and", "And (prefix + tags + sizes)"
    LEGACY_PREFIX = "legacy", "Legacy top-level Prefix (no Filter)"


class LifecycleRule(models.Model):
    """One portal-owned rule of one bucket, field by field as S3 models it."""

    tenant_path = "bucket__account__tenant"

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="lifecycle_rules")
    rule_id = models.CharField("rule ID", max_length=255)
    position = models.PositiveIntegerField(default=0, help_text="order in the configuration")
    enabled = models.BooleanField(default=True)
    # Filter
    filter_kind = models.CharField(max_length=8, choices=FilterKind.choices, default="all")
    prefix = models.CharField(max_length=1024, blank=True)
    tags = models.JSONField(default=list, blank=True, help_text='[{"Key": ..., "Value": ...}]')
    size_greater_than = models.BigIntegerField(null=True, blank=True, help_text="bytes")
    size_less_than = models.BigIntegerField(null=True, blank=True, help_text="bytes")
    # Expiration (one of days / date / expired-object-delete-marker)
    expiration_days = models.PositiveIntegerField(null=True, blank=True)
    expiration_date = models.CharField(
        max_length=40, blank=True, help_text="ISO 8601, midnight UTC"
    )
    expired_object_delete_marker = models.BooleanField(null=True, blank=True)
    transitions = models.JSONField(
        default=list, blank=True, help_text='[{"Days"|"Date": ..., "StorageClass": ...}]'
    )
    noncurrent_expiration_days = models.PositiveIntegerField(null=True, blank=True)
    newer_noncurrent_versions = models.PositiveIntegerField(null=True, blank=True)
    noncurrent_transitions = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"NoncurrentDays": ..., "StorageClass": ..., "NewerNoncurrentVersions"?}]',
    )
    abort_multipart_days = models.PositiveIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["bucket", "position", "rule_id"]
        constraints = [
            models.UniqueConstraint(fields=["bucket", "rule_id"], name="one_rule_id_per_bucket")
        ]

    def __str__(self) -> str:
        return f"{self.bucket.name}: {self.rule_id}"

    def to_s3(self) -> dict[str, Any]:
        from lifecycle.s3shape import rule_to_s3

        return rule_to_s3(self)


class LifecycleVersion(models.Model):
    """A whole lifecycle configuration of a bucket, as the portal wrote or observed it."""

    tenant_path = "bucket__account__tenant"

    class Reason(models.TextChoices):
        APPLY = "apply", "Applied from the portal"
        ROLLBACK = "rollback", "Rollback"
        TEMPLATE = "template", "Template applied"
        ADOPTED = "adopted", "Adopted"
        OBSERVED = "observed", "Observed in the bucket"

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="lifecycle_versions")
    number = models.PositiveIntegerField()
    # {"Rules": [...], "TransitionDefaultMinimumObjectSize": ...}; {"Rules": []} = none.
    configuration = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    owned_ids = models.JSONField(default=list, help_text="IDs of the portal's rules then")
    fingerprint = models.CharField(max_length=64)
    reason = models.CharField(max_length=10, choices=Reason.choices)
    detail = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["bucket", "-number"]
        get_latest_by = "number"
        constraints = [
            models.UniqueConstraint(fields=["bucket", "number"], name="one_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.bucket.name} v{self.number} ({self.reason})"

    @property
    def rules(self) -> list[dict[str, Any]]:
        return list(self.configuration.get("Rules") or [])


class LifecycleTemplate(models.Model):
    """A named set of rules (S3's shape) that tenant admins and operators apply to buckets."""

    tenant_path = "tenant"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="lifecycle_templates")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    rules = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    builtin = models.CharField(
        max_length=40, blank=True, help_text="key of the shipped starting point it came from"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["tenant", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="one_template_name_per_tenant")
        ]

    def __str__(self) -> str:
        return self.name


class TemplateApplication(models.Model):
    """One template applied to one bucket (one Celery task), with its result."""

    tenant_path = "bucket__account__tenant"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        APPLIED = "applied", "Applied"
        NOOP = "noop", "Nothing to change"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "AWS failed"

    template = models.ForeignKey(
        LifecycleTemplate, on_delete=models.CASCADE, related_name="applications"
    )
    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="+")
    batch = models.CharField(max_length=32, db_index=True, help_text="one 'apply to buckets'")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    message = models.TextField(blank=True)
    expected_digest = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["-created_at", "bucket__name"]

    def __str__(self) -> str:
        return f"{self.template.name} -> {self.bucket.name} ({self.status})"
