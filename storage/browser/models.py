"""What the object browser keeps: tenant settings, per-object expiry dates, issued share links.

Objects themselves are never copied into the database; a row names one exact object by bucket,
key and version id. Share links are recorded without their URL (a bearer secret).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Tenant
from accounts.scoping import TenantScopedManager
from storage.models import Bucket

#: S3's key limit, in bytes of UTF-8.
MAX_KEY_BYTES = 1024
MIN_SHARE_SECONDS = 60
#: SigV4 presigned URLs live at most 7 days.
MAX_SHARE_SECONDS = 7 * 24 * 3600


class BrowserSettings(models.Model):
    """A tenant's object-browser settings (one row per tenant; defaults when there is none)."""

    tenant_path = "tenant"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="browser_settings")
    members_may_browse = models.BooleanField(
        default=False,
        help_text="Members and viewers may browse read-only (folders, object pages, downloads). "
        "Operators and tenant admins always may.",
    )
    max_share_seconds = models.PositiveIntegerField(
        default=MAX_SHARE_SECONDS,
        validators=[MinValueValidator(MIN_SHARE_SECONDS), MaxValueValidator(MAX_SHARE_SECONDS)],
        help_text="Longest share link the tenant allows, in seconds (60 to 604800 = 7 days).",
    )
    browser_can_reach_s3 = models.BooleanField(
        default=True,
        help_text="Downloads redirect to a short-lived presigned S3 URL. Turn off when browsers "
        "cannot reach S3 (private endpoints): downloads then stream through the portal.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedManager()

    class Meta:
        verbose_name = "browser settings"
        verbose_name_plural = "browser settings"

    def __str__(self) -> str:
        return f"Browser settings of {self.tenant}"

    def audit_dict(self) -> dict[str, Any]:
        return {
            "members_may_browse": self.members_may_browse,
            "max_share_seconds": self.max_share_seconds,
            "browser_can_reach_s3": self.browser_can_reach_s3,
        }


def target_digest(bucket_id: int, key: str, version_id: str) -> str:
    """One fixed-size value naming bucket + key + version (keys are too long to index)."""
    raw = f"{bucket_id}\x00{version_id}\x00{key}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()


class ObjectExpiry(models.Model):
    """Delete exactly one object (one version in versioned buckets) on a date (midnight UTC)."""

    tenant_path = "bucket__account__tenant"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Deleted"
        SKIPPED = "skipped", "Skipped: the object changed"
        CLEARED = "cleared", "Cleared"

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="object_expiries")
    key = models.CharField(max_length=MAX_KEY_BYTES)
    version_id = models.CharField(
        max_length=1024, blank=True, help_text="Empty: the bucket was not versioned."
    )
    expected_etag = models.CharField(max_length=128)
    was_current = models.BooleanField(
        default=True,
        help_text="The version was the current one when the date was set: a newer version "
        "written since means the object changed, and the sweep keeps it.",
    )
    expires_on = models.DateField(help_text="Deleted from 00:00 UTC of this date.")
    state = models.CharField(
        max_length=8, choices=State.choices, default=State.PENDING, db_index=True
    )
    digest = models.CharField(max_length=64, editable=False)
    note = models.TextField(blank=True, help_text="What the sweep found (skips, errors).")
    attempts = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["expires_on", "id"]
        verbose_name = "object expiry"
        verbose_name_plural = "object expiries"
        constraints = [
            models.UniqueConstraint(
                fields=["digest"],
                condition=Q(state="pending"),
                name="browser_one_pending_expiry_per_object",
            )
        ]
        indexes = [models.Index(fields=["state", "expires_on"], name="browser_expiry_due")]

    def __str__(self) -> str:
        return f"{self.key} ({self.expires_on})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.digest = target_digest(self.bucket_id, self.key, self.version_id)
        super().save(*args, **kwargs)

    def audit_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket.name,
            "key": self.key,
            "version_id": self.version_id,
            "etag": self.expected_etag,
            "expires_on": self.expires_on.isoformat(),
            "state": self.state,
        }


class ShareLink(models.Model):
    """A presigned GET that was issued. The URL itself is never stored (it is a secret)."""

    tenant_path = "bucket__account__tenant"

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="share_links")
    key = models.CharField(max_length=MAX_KEY_BYTES)
    version_id = models.CharField(max_length=1024, blank=True)
    digest = models.CharField(max_length=64, editable=False, db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    lifetime_seconds = models.PositiveIntegerField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = "share link"

    def __str__(self) -> str:
        return f"{self.key} until {self.expires_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.digest = target_digest(self.bucket_id, self.key, self.version_id)
        super().save(*args, **kwargs)

    def audit_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket.name,
            "key": self.key,
            "version_id": self.version_id,
            "expires_at": self.expires_at.isoformat(),
            "lifetime_seconds": self.lifetime_seconds,
        }
