"""A tenant's file space (where files live) and the files its people stored there."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import AwsAccount, Tenant
from accounts.references import ForeignReference, require_tenant_account, require_tenant_bucket
from accounts.scoping import TenantScopedManager, TenantScopedQuerySet
from accounts.validators import validate_region

GiB = 1024**3
# S3 holds objects up to 5 TiB; above 1 TiB the part size needed to stay within 10,000 parts
# (>100 MiB) would make the per-upload memory bound meaningless.
MAX_FILE_SIZE_LIMIT = 1024 * GiB
DEFAULT_MAX_FILE_SIZE = 5 * GiB
# Room kept for "/users/<user id>/<32 hex>/<name>" inside S3's 1,024-byte key limit.
MAX_PREFIX_BYTES = 512

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_SEGMENT_RE = re.compile(r"^[A-Za-z0-9!_.*'()-]+$")


def validate_bucket_name(value: str) -> None:
    """S3's bucket naming rules (3-63 chars, lower case, digits, dots, dashes; no IP form)."""
    if (
        not _BUCKET_RE.match(value)
        or ".." in value
        or ".-" in value
        or "-." in value
        or re.match(r"^\d+\.\d+\.\d+\.\d+$", value)
    ):
        raise ValidationError(
            "%(value)s is not a valid S3 bucket name (3-63 characters: lower-case letters, "
            "digits, dots and dashes, starting and ending with a letter or digit).",
            params={"value": value[:80]},
            code="invalid_bucket",
        )


def validate_key_prefix(value: str) -> None:
    """Optional key prefix: "/"-separated segments of S3's safe characters, no "." or ".."."""
    if not value:
        return
    if len(value.encode("utf-8")) > MAX_PREFIX_BYTES:
        raise ValidationError(
            "The key prefix may be at most %(max)d bytes.",
            params={"max": MAX_PREFIX_BYTES},
            code="prefix_too_long",
        )
    segments = value.split("/")
    if any(s in {"", ".", ".."} or not _PREFIX_SEGMENT_RE.match(s) for s in segments):
        raise ValidationError(
            "The key prefix must be segments of letters, digits and !_.*'()- separated by single "
            "slashes, without a leading or trailing slash and without '.' or '..' segments "
            "(e.g. portal/files).",
            code="invalid_prefix",
        )


def validate_optional_region(value: str) -> None:
    if value:
        validate_region(value)


class FileSpace(models.Model):
    """Where a tenant's files live: one per tenant, set by tenant admins.

    AWS accounts are referenced with RESTRICT: an account in use cannot be deleted on its own
    (the admin lists what uses it), but deleting the whole tenant removes everything together.
    """

    tenant_path = "tenant"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="file_space")
    account = models.ForeignKey(
        AwsAccount,
        on_delete=models.RESTRICT,
        related_name="+",
        help_text="The AWS account whose credentials read and write the primary bucket.",
    )
    bucket = models.CharField(max_length=63, validators=[validate_bucket_name])
    prefix = models.CharField(
        max_length=MAX_PREFIX_BYTES,
        blank=True,
        validators=[validate_key_prefix],
        help_text="Optional; files are stored under <prefix>/users/<user id>/...",
    )
    region = models.CharField(
        max_length=32,
        blank=True,
        validators=[validate_optional_region],
        help_text="Region of the primary bucket; empty: the account's default region.",
    )
    backup_account = models.ForeignKey(
        AwsAccount,
        on_delete=models.RESTRICT,
        related_name="+",
        help_text="The account that writes backups; it needs read access to the primary bucket "
        "(server-side copy).",
    )
    backup_bucket = models.CharField(max_length=63, validators=[validate_bucket_name])
    backup_region = models.CharField(
        max_length=32,
        blank=True,
        validators=[validate_optional_region],
        help_text="Region of the backup bucket; empty: the backup account's default region.",
    )
    max_file_size = models.PositiveBigIntegerField(
        default=DEFAULT_MAX_FILE_SIZE,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_FILE_SIZE_LIMIT)],
        help_text="Largest file a person may upload, in bytes.",
    )
    viewers_may_download = models.BooleanField(
        default=False, help_text="Viewers may download files (they can always list them)."
    )
    browser_can_reach_s3 = models.BooleanField(
        default=True,
        help_text="Downloads redirect to a short-lived presigned S3 URL. Turn off when browsers "
        "cannot reach S3 (private endpoints): downloads then stream through the portal.",
    )
    delete_retention_days = models.PositiveIntegerField(
        default=30,
        validators=[MaxValueValidator(3650)],
        help_text="Days a deleted file's backup is kept, so an admin can restore it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["tenant__name"]
        verbose_name = "file space"

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix} ({self.tenant.slug})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        tenant_id = self.tenant_id
        if tenant_id is not None:
            # accounts/references.py: the one check that a name stays inside the tenant.
            for field, account_field, bucket in (
                ("account", "account_id", self.bucket),
                ("backup_account", "backup_account_id", self.backup_bucket),
            ):
                if not getattr(self, account_field):
                    continue
                account = getattr(self, field)
                try:
                    require_tenant_account(tenant_id, account)
                except ForeignReference as exc:
                    errors[field] = exc.messages[0]
                    continue
                if bucket:
                    try:
                        require_tenant_bucket(
                            tenant_id, bucket, account=account, allow_unlisted=True
                        )
                    except ForeignReference as exc:
                        errors["bucket" if field == "account" else "backup_bucket"] = exc.messages[
                            0
                        ]
        if self.account_id and self.backup_account_id and not errors:
            if (self.account.endpoint_url or "") != (self.backup_account.endpoint_url or ""):
                errors["backup_account"] = (
                    "Backups are server-side copies: the backup account must use the same S3 "
                    "endpoint as the primary account."
                )
            elif self.bucket and self.bucket == self.backup_bucket:
                errors["backup_bucket"] = "The backup bucket must differ from the primary bucket."
        if errors:
            raise ValidationError(errors)

    @property
    def primary_region(self) -> str:
        return self.region or self.account.default_region

    @property
    def backup_bucket_region(self) -> str:
        return self.backup_region or self.backup_account.default_region

    def audit_dict(self) -> dict[str, Any]:
        return {
            "account": self.account.name,
            "bucket": self.bucket,
            "prefix": self.prefix,
            "region": self.region,
            "backup_account": self.backup_account.name,
            "backup_bucket": self.backup_bucket,
            "backup_region": self.backup_region,
            "max_file_size": self.max_file_size,
            "viewers_may_download": self.viewers_may_download,
            "browser_can_reach_s3": self.browser_can_reach_s3,
            "delete_retention_days": self.delete_retention_days,
        }


class BackupState(models.TextChoices):
    PENDING = "pending", "Pending"
    COPIED = "copied", "Copied"
    FAILED = "failed", "Failed"


class DeleteReason(models.TextChoices):
    USER = "user", "Deleted by a person"
    EXPIRED = "expired", "Expired"


class StoredFileQuerySet(TenantScopedQuerySet["StoredFile"]):
    def active(self) -> StoredFileQuerySet:
        return self.filter(deleted_at__isnull=True)


class StoredFile(models.Model):
    """One uploaded file. Where it lives is recorded on the row (account, bucket, region), so a
    later change of the tenant's file space never loses track of earlier files."""

    tenant_path = "tenant"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="stored_files")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="stored_files",
    )
    original_name = models.CharField(max_length=1024)
    # --- primary object ---
    account = models.ForeignKey(AwsAccount, on_delete=models.RESTRICT, related_name="+")
    region = models.CharField(max_length=32)
    bucket = models.CharField(max_length=63)
    key = models.CharField(max_length=1024)
    version_id = models.CharField(max_length=1024, blank=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, help_text="Hex SHA-256 of the content.")
    etag = models.CharField(max_length=128, blank=True)
    part_size = models.PositiveBigIntegerField(
        default=0, help_text="Multipart part size of the upload (0: stored in one request)."
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    expires_on = models.DateField(null=True, blank=True)
    # --- deletion (the primary at once; the backup after the tenant's retention period) ---
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    delete_reason = models.CharField(max_length=16, choices=DeleteReason.choices, blank=True)
    purge_backup_after = models.DateTimeField(null=True, blank=True)
    # --- backup ---
    backup_state = models.CharField(
        max_length=16, choices=BackupState.choices, default=BackupState.PENDING
    )
    backup_attempts = models.PositiveIntegerField(default=0)
    backup_last_error = models.TextField(blank=True)
    backup_last_attempt_at = models.DateTimeField(null=True, blank=True)
    backup_claimed_at = models.DateTimeField(null=True, blank=True)
    backup_account = models.ForeignKey(
        AwsAccount, on_delete=models.RESTRICT, related_name="+", null=True, blank=True
    )
    backup_region = models.CharField(max_length=32, blank=True)
    backup_bucket = models.CharField(max_length=63, blank=True)
    backup_key = models.CharField(max_length=1024, blank=True)
    backup_version_id = models.CharField(max_length=1024, blank=True)
    backup_checksum = models.CharField(max_length=128, blank=True)
    backup_copied_at = models.DateTimeField(null=True, blank=True)
    backup_deleted_at = models.DateTimeField(null=True, blank=True)

    objects = StoredFileQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = "stored file"
        indexes = [
            models.Index(fields=["tenant", "owner", "deleted_at"], name="files_tenant_owner"),
            models.Index(fields=["backup_state", "uploaded_at"], name="files_backup_state"),
            models.Index(fields=["expires_on"], name="files_expires_on"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} (#{self.pk})"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def restorable(self) -> bool:
        """A backup exists and has not been purged."""
        return (
            self.backup_state == BackupState.COPIED
            and bool(self.backup_key)
            and self.backup_deleted_at is None
        )

    def audit_dict(self) -> dict[str, Any]:
        """What the audit trail may see: never content, never a presigned URL."""
        return {
            "name": self.original_name,
            "owner": self.owner.get_username() if self.owner else None,
            "bucket": self.bucket,
            "key": self.key,
            "version_id": self.version_id,
            "size": self.size,
            "sha256": self.sha256,
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "backup_state": self.backup_state,
            "deleted": self.deleted_at is not None,
        }


def file_space_for(tenant: Tenant | int) -> FileSpace | None:
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return (
        FileSpace.objects.select_related("account", "backup_account", "tenant")
        .filter(tenant_id=tenant_id)
        .first()
    )
