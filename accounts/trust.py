"""The trust boundary between tenants and the platform's own AWS credentials.

Ambient credentials (the portal's environment, profile or instance role) belong to the platform.
An account uses them when its method is "ambient", or when it assumes a role with no access key
of its own (the platform's identity is then the source of the AssumeRole call). Only platform
superusers and the command line (a platform operator's tool) may grant them to a tenant, and the
tenants named in AWS_AMBIENT_ALLOWED_TENANTS. `require_may_configure` is the one check; the
service layer calls it on every save, and accounts/aws.py refuses at connect time an account
that uses them without a grant.

For a role assumed from the platform's identity, the portal makes the external ID (one per
account, never chosen by the tenant) and shows the trust policy the tenant puts on the role.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied

if TYPE_CHECKING:
    from accounts.models import AwsAccount, Tenant

EXTERNAL_ID_BYTES = 32  # token_urlsafe(32) is 43 characters; AWS allows 2 to 1224
ASSUMED_ROLE_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$")
NO_EXTERNAL_ID_MESSAGE = (
    "Your role trusts the portal without an external ID: any other tenant could use it; add the "
    "condition (the trust policy on this page shows it)."
)


class PlatformCredentialsDenied(PermissionDenied):
    """A person without the right tried to give a tenant the platform's credentials."""


def new_external_id() -> str:
    return secrets.token_urlsafe(EXTERNAL_ID_BYTES)


def uses_platform_credentials(account: AwsAccount) -> bool:
    from accounts.models import AuthMethod

    if account.auth_method == AuthMethod.AMBIENT:
        return True
    return account.auth_method == AuthMethod.ASSUME_ROLE and not (
        account.access_key_id and account.secret_access_key
    )


def tenant_allowed(tenant: Tenant | None) -> bool:
    """The platform setting that lets a tenant's own admins use platform credentials."""
    allowed = {slug.strip() for slug in settings.AWS_AMBIENT_ALLOWED_TENANTS if slug.strip()}
    return tenant is not None and tenant.slug in allowed


def is_platform_actor(actor: Any) -> bool:
    """A platform superuser, or the command line / a system job (no actor)."""
    return actor is None or bool(getattr(actor, "is_superuser", False))


def may_grant_platform_credentials(actor: Any, tenant: Tenant | None) -> bool:
    """Platform superusers and the CLI (actor None) may; tenant admins only where allowed."""
    return is_platform_actor(actor) or tenant_allowed(tenant)


def denial_reason(tenant: Tenant | None) -> str:
    name = tenant.slug if tenant is not None else "this tenant"
    return (
        "Ambient credentials (and assume-role without an access key of the tenant's own) run as "
        f"the platform's own AWS identity; only a platform administrator can give them to "
        f"tenant {name!r}. Use an access key of your own AWS account, or assume a role with one."
    )


def require_may_configure(
    actor: Any, account: AwsAccount, stored: AwsAccount | None = None
) -> None:
    """Refuse (403) creating, changing or switching to/from platform credentials without right.

    `stored` is the row as saved before this change (None for a new account).
    """
    touches = uses_platform_credentials(account) or (
        stored is not None and uses_platform_credentials(stored)
    )
    if touches and not may_grant_platform_credentials(actor, account.tenant):
        raise PlatformCredentialsDenied(denial_reason(account.tenant))


def connect_permitted(account: AwsAccount) -> bool:
    """At connect time: an account on platform credentials needs a grant or the setting."""
    if not uses_platform_credentials(account):
        return True
    return bool(account.platform_credentials_approved) or tenant_allowed(account.tenant)


def principal_from_identity(arn: str) -> str:
    """The IAM principal for a trust policy: an assumed-role session becomes its role's ARN."""
    match = ASSUMED_ROLE_ARN_RE.match(arn)
    if match:
        partition, account_id, role = match.groups()
        return f"arn:{partition}:iam::{account_id}:role/{role}"
    return arn


def trust_policy(principal_arn: str, external_id: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "S3PortalAssumeRole",
                "Effect": "Allow",
                "Principal": {"AWS": principal_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def trust_policy_json(principal_arn: str, external_id: str) -> str:
    return json.dumps(trust_policy(principal_arn, external_id), indent=2)
