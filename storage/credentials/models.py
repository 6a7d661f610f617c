"""Issued credentials and key rotations. No column ever holds a secret.

What is stored: the policy, the IAM user's name/path/ARN, the access key *id*, the STS session's
expiry; the secret access key and the session token are shown once and forgotten.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import AwsAccount, Tenant
from accounts.scoping import TenantScopedManager

from .policies import AccessLevel


class CredentialSettings(models.Model):
    """Per-tenant switches for credentials (kept here, not on Tenant)."""

    tenant_path = "tenant"

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="credential_settings"
    )
    members_may_issue = models.BooleanField(
        default=False,
        help_text="Members may issue credentials for their own file-space prefix only.",
    )
    member_max_lifetime_days = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Permanent credentials a member issues must expire within this many days.",
    )
    max_key_age_days = models.PositiveIntegerField(
        default=90, help_text="Access keys older than this open an alert."
    )
    unused_after_days = models.PositiveIntegerField(
        default=30, help_text="Access keys unused this long open an alert."
    )
    reminder_days = models.PositiveIntegerField(
        default=7, help_text="E-mail the issuer this many days before a credential expires."
    )

    objects = TenantScopedManager()

    class Meta:
        verbose_name = "credential settings"
        verbose_name_plural = "credential settings"

    def __str__(self) -> str:
        return f"credential settings of {self.tenant.slug}"

    @classmethod
    def for_tenant(cls, tenant: Tenant) -> CredentialSettings:
        found = cls.objects.filter(tenant=tenant).first()
        return found if found is not None else cls(tenant=tenant)


class Kind(models.TextChoices):
    PERMANENT = "permanent", "Permanent (IAM user + access key)"
    TEMPORARY = "temporary", "Temporary (STS session)"


class State(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class Alert(models.TextChoices):
    NONE = "", "None"
    OLD_KEY = "old_key", "Access key older than the tenant's limit"
    UNUSED = "unused", "Access key unused"


class IssuedCredential(models.Model):
    tenant_path = "tenant"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="credentials")
    account = models.ForeignKey(AwsAccount, on_delete=models.RESTRICT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    access = models.CharField(max_length=16, choices=AccessLevel.choices)
    buckets = models.JSONField(default=list)
    prefixes = models.JSONField(default=list, blank=True)
    policy = models.JSONField(help_text="The identity or session policy, as sent to AWS.")
    boundary_arn = models.CharField(max_length=2048, blank=True)
    iam_user_name = models.CharField(max_length=64, blank=True)
    iam_path = models.CharField(max_length=512, blank=True)
    iam_user_arn = models.CharField(max_length=2048, blank=True)
    role_arn = models.CharField(max_length=2048, blank=True)
    session_name = models.CharField(max_length=64, blank=True)
    access_key_id = models.CharField(max_length=128, db_index=True)
    key_created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_service = models.CharField(max_length=64, blank=True)
    last_used_checked_at = models.DateTimeField(null=True, blank=True)
    alert = models.CharField(max_length=16, choices=Alert.choices, default=Alert.NONE, blank=True)
    alert_opened_at = models.DateTimeField(null=True, blank=True)
    issuer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issuer_name = models.CharField(max_length=150, blank=True)
    purpose = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_by_name = models.CharField(max_length=150, blank=True)
    revoke_reason = models.CharField(max_length=300, blank=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "issued credential"

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.access} {','.join(self.buckets)} ({self.tenant.slug})"

    @property
    def display_state(self) -> str:
        """active / expiring / expired / revoked, as the pages show it."""
        return self.state_at(CredentialSettings.for_tenant(self.tenant).reminder_days)

    def state_at(self, reminder_days: int) -> str:
        now = timezone.now()
        if self.state != State.ACTIVE:
            return str(self.state)
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        if self.expires_at is not None and self.expires_at <= now + timedelta(days=reminder_days):
            return "expiring"
        return "active"

    @property
    def is_live(self) -> bool:
        return self.state == State.ACTIVE and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    def audit_dict(self) -> dict[str, Any]:
        """What the audit trail may see: the policy and identifiers, never a secret."""
        return {
            "kind": self.kind,
            "access": self.access,
            "account": self.account.name,
            "buckets": list(self.buckets),
            "prefixes": list(self.prefixes),
            "policy": self.policy,
            "boundary_arn": self.boundary_arn,
            "iam_user_name": self.iam_user_name,
            "iam_user_arn": self.iam_user_arn,
            "role_arn": self.role_arn,
            "access_key_id": self.access_key_id,
            "state": self.state,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "purpose": self.purpose,
        }


class RotationState(models.TextChoices):
    PENDING = "pending", "Old key active until the grace period ends"
    DONE = "done", "Old key deleted"


class KeyRotation(models.Model):
    tenant_path = "credential__tenant"

    credential = models.ForeignKey(
        IssuedCredential, on_delete=models.CASCADE, related_name="rotations"
    )
    old_access_key_id = models.CharField(max_length=128)
    new_access_key_id = models.CharField(max_length=128)
    grace_until = models.DateTimeField(db_index=True)
    state = models.CharField(
        max_length=16, choices=RotationState.choices, default=RotationState.PENDING
    )
    rotated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rotated_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        old, new = self.old_access_key_id, self.new_access_key_id
        return f"rotation of #{self.credential_id}: {old} -> {new}"
