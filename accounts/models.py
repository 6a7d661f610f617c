"""Tenants, memberships (roles) and the AWS accounts a tenant connects."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from fernet_fields import EncryptedTextField

from accounts.roles import Role
from accounts.scoping import TenantScopedManager, TenantScopedQuerySet
from accounts.validators import (
    validate_access_key_id,
    validate_endpoint_url,
    validate_region,
    validate_role_arn,
)


class Tenant(models.Model):
    tenant_path = ""  # a tenant is its own tenant
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    require_2fa = models.BooleanField(
        "require two-factor authentication",
        default=False,
        help_text="Tenant admins and operators must use a TOTP code to log in.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def audit_dict(self) -> dict[str, Any]:
        return {"name": self.name, "slug": self.slug, "require_2fa": self.require_2fa}


class Membership(models.Model):
    tenant_path = "tenant"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["tenant__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="one_membership_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} @ {self.tenant.slug} ({self.role})"

    def audit_dict(self) -> dict[str, Any]:
        return {"user": self.user.get_username(), "tenant": self.tenant.slug, "role": self.role}


class InvitationQuerySet(TenantScopedQuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        """Neither accepted, revoked nor marked expired (may be past expiry, not yet swept)."""
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expired_at__isnull=True
        )


class Invitation(models.Model):
    """An invitation by e-mail to join a tenant with a role; nobody joins without accepting.

    Only the SHA-256 of the link's token is stored: the link itself exists only in the e-mail.
    """

    tenant_path = "tenant"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "email"])]

    def __str__(self) -> str:
        return f"{self.email} → {self.tenant.slug} ({self.role})"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expired_at or self.expires_at <= timezone.now():
            return "expired"
        return "pending"

    def audit_dict(self) -> dict[str, Any]:
        """Never the token or its hash."""
        return {
            "email": self.email,
            "tenant": self.tenant.slug,
            "role": self.role,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }


class AuthMethod(models.TextChoices):
    ACCESS_KEY = "access_key", "Access key"
    ASSUME_ROLE = "assume_role", "Assume role"
    AMBIENT = "ambient", "Ambient (default credential chain)"


account_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$",
    "Use letters, digits, spaces, dots, dashes and underscores (start with a letter or digit).",
)


class AwsAccount(models.Model):
    tenant_path = "tenant"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="aws_accounts")
    name = models.CharField(max_length=100, validators=[account_name_validator])
    auth_method = models.CharField(
        max_length=16, choices=AuthMethod.choices, default=AuthMethod.ACCESS_KEY
    )
    access_key_id = models.CharField(
        max_length=128,
        blank=True,
        validators=[validate_access_key_id],
        help_text="For access-key accounts, or as the source credentials for assume-role.",
    )
    # Encrypted at rest with FERNET_KEYS; write-only in every form, never displayed or logged.
    secret_access_key = EncryptedTextField(blank=True, default="")
    role_arn = models.CharField(max_length=2048, blank=True, validators=[validate_role_arn])
    # Made by the portal for every assume-role account (accounts/trust.py), never by the tenant:
    # not editable in any form, shown in the trust policy the tenant puts on its role.
    external_id = models.CharField(max_length=1224, blank=True, editable=False)
    role_session_name = models.CharField(max_length=64, blank=True, default="s3portal")
    default_region = models.CharField(
        max_length=32, default="us-east-1", validators=[validate_region]
    )
    endpoint_url = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_endpoint_url],
        help_text="Only for S3-compatible storage or a local emulator; empty for AWS.",
    )
    # Set when a platform superuser or the CLI gives this account the platform's own (ambient)
    # credentials; accounts/aws.py refuses such an account at connect time without it.
    platform_credentials_approved = models.BooleanField(default=False, editable=False)
    verified_account_id = models.CharField(max_length=32, blank=True)
    verified_arn = models.CharField(max_length=2048, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["tenant__name", "name"]
        verbose_name = "AWS account"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"], name="unique_account_name_per_tenant"
            ),
            # One role belongs to one tenant: otherwise a second tenant saving the same ARN would
            # read the first one's buckets (confused deputy).
            models.UniqueConstraint(
                fields=["role_arn"],
                condition=~Q(role_arn=""),
                name="unique_role_arn",
                violation_error_message=(
                    "This role ARN is already connected to the portal: a role can belong to one "
                    "account of one tenant only. Create a separate role for this account."
                ),
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tenant.slug})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.auth_method == AuthMethod.ASSUME_ROLE and not self.external_id:
            from accounts.trust import new_external_id

            self.external_id = new_external_id()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "external_id"}
        super().save(*args, **kwargs)

    @property
    def uses_platform_credentials(self) -> bool:
        from accounts.trust import uses_platform_credentials

        return uses_platform_credentials(self)

    @property
    def is_verified(self) -> bool:
        return self.last_verified_at is not None and not self.last_error

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_access_key)

    def audit_dict(self) -> dict[str, Any]:
        """What the audit trail may see: never the secret, only whether one is set."""
        return {
            "name": self.name,
            "tenant": self.tenant.slug,
            "auth_method": self.auth_method,
            "access_key_id": self.access_key_id,
            "secret_set": self.has_secret,
            "role_arn": self.role_arn,
            "external_id_set": bool(self.external_id),
            "platform_credentials": self.uses_platform_credentials,
            "platform_credentials_approved": self.platform_credentials_approved,
            "role_session_name": self.role_session_name,
            "default_region": self.default_region,
            "endpoint_url": self.endpoint_url,
        }


class Preferences(models.Model):
    """One person's settings that are not about a tenant (their time zone)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text="IANA name such as Europe/Berlin; empty: the portal's TIME_ZONE.",
    )

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"{self.user.get_username()}: {self.time_zone or 'portal time zone'}"
