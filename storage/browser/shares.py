"""Share links: presigned GETs with a chosen lifetime, capped, recorded without their URL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from botocore.credentials import RefreshableCredentials
from django.db import transaction
from django.utils import timezone

import audit
from accounts import aws
from accounts.models import AuthMethod, AwsAccount
from storage.files.download import content_disposition

from .access import BrowseAccess
from .keys import BadInput, download_name
from .models import MAX_SHARE_SECONDS, MIN_SHARE_SECONDS, ShareLink
from .s3ops import aws_errors, s3_client

_LIFETIME_RE = re.compile(r"^\s*(\d{1,9})\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
#: Ambient temporary credentials whose expiry botocore does not tell: stay well inside them.
UNKNOWN_TEMPORARY_LIFETIME = 3600


def parse_lifetime(value: str | None) -> int:
    """'90' / '90s' seconds, '15m', '12h', '7d' -> seconds; anything else BadInput."""
    match = _LIFETIME_RE.match(value or "")
    if not match:
        raise BadInput(
            "Send the link's lifetime as 'lifetime': seconds, or a number with m, h or d "
            "(e.g. 15m, 12h, 7d)."
        )
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def credential_lifetime(account: AwsAccount, now: datetime | None = None) -> tuple[int, str]:
    """How long a URL signed now with the account's credentials can work, and why.

    A presigned URL dies with the credentials that signed it (S3 UG, using-presigned-url):
    assumed-role sessions last AWS_ASSUME_ROLE_DURATION and are refreshed before expiry.
    """
    now = now or timezone.now()
    if account.auth_method == AuthMethod.ACCESS_KEY:
        return MAX_SHARE_SECONDS, "the 7-day limit of presigned URLs"
    credentials = aws.session_for(account).get_credentials()
    if credentials is None:
        return 0, f"account {account.name!r} has no credentials"
    if isinstance(credentials, RefreshableCredentials):
        expiry = credentials._expiry_time  # when the current temporary credentials end
        if expiry is not None:
            left = int((expiry - now).total_seconds())
            return max(0, min(left, MAX_SHARE_SECONDS)), (
                f"the temporary credentials of account {account.name!r}, which end at "
                f"{expiry:%Y-%m-%d %H:%M} UTC"
            )
    if credentials.get_frozen_credentials().token:
        return UNKNOWN_TEMPORARY_LIFETIME, (
            f"account {account.name!r} signs with temporary credentials of unknown expiry"
        )
    return MAX_SHARE_SECONDS, "the 7-day limit of presigned URLs"


def lifetime_cap(access: BrowseAccess) -> tuple[int, str]:
    with aws_errors(access.bucket, "sts:AssumeRole"):
        cap, why = credential_lifetime(access.bucket.account)
    tenant_max = access.settings.max_share_seconds
    if tenant_max < cap:
        return tenant_max, f"the maximum of {access.tenant.name} ({tenant_max} seconds)"
    return cap, why


def issue(access: BrowseAccess, key: str, version_id: str, lifetime: int) -> tuple[str, ShareLink]:
    """A presigned GET of exactly key (+ version) for `lifetime` seconds; recorded and audited."""
    if lifetime < MIN_SHARE_SECONDS:
        raise BadInput(f"A share link lives at least 1 minute; {lifetime} seconds is too short.")
    cap, why = lifetime_cap(access)
    if lifetime > cap:
        raise BadInput(
            f"A share link may live at most {cap} seconds ({timedelta(seconds=cap)}) here: "
            f"that is {why}. Choose a shorter lifetime."
        )
    bucket = access.bucket
    params: dict[str, Any] = {
        "Bucket": bucket.name,
        "Key": key,
        "ResponseContentDisposition": content_disposition(download_name(key)),
    }
    if version_id:
        params["VersionId"] = version_id
    with aws_errors(bucket, "s3:GetObject", key):
        url = s3_client(bucket).generate_presigned_url(
            "get_object", Params=params, ExpiresIn=lifetime
        )
    now = timezone.now()
    with transaction.atomic():
        link = ShareLink.objects.create(
            bucket=bucket,
            key=key,
            version_id=version_id,
            expires_at=now + timedelta(seconds=lifetime),
            lifetime_seconds=lifetime,
            issued_by=access.user,
            issued_at=now,
        )
        # Never the URL: it is a bearer credential for the object.
        audit.record(
            access.user, access.tenant, "browser.share.issue", link, after=link.audit_dict()
        )
    return url, link


def live_links(access: BrowseAccess, key: str) -> list[ShareLink]:
    return list(
        ShareLink.objects.filter(bucket=access.bucket, key=key, expires_at__gt=timezone.now())
        .select_related("issued_by")
        .order_by("expires_at")
    )
