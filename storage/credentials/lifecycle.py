"""After issue: revoke, rotate (two-key limit, grace period), expire, remind, last used, alerts.

Every function takes ids or rows, is idempotent (a key or user already gone is not an error) and
audits what it changed, never a secret. The periodic sweeps catch up after downtime: they pick
everything that is due, however late.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts import aws
from accounts.errors import error_code
from audit import record

from .issuing import (
    ROLE_PATH,
    CredentialError,
    Secret,
    _actor_name,
    _aws_message,
    delete_iam_user,
)
from .models import (
    Alert,
    CredentialSettings,
    IssuedCredential,
    KeyRotation,
    Kind,
    RotationState,
    State,
)
from .policies import compact_json

logger = logging.getLogger(__name__)
IAM_KEYS_PER_USER = 2  # IAM quota: access keys per user
REVOKED_SESSIONS_POLICY = "s3portal-revoked-sessions"


def _delete_key(iam: Any, user_name: str, key_id: str) -> None:
    try:
        iam.update_access_key(UserName=user_name, AccessKeyId=key_id, Status="Inactive")
        iam.delete_access_key(UserName=user_name, AccessKeyId=key_id)
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise


def revoke(credential: IssuedCredential, *, actor: Any, reason: str) -> list[str]:
    """Permanent: keys, inline policies and the user are deleted. Temporary on the portal's role:
    the role denies that session from now on (IAM User Guide, "Revoking IAM role temporary
    security credentials", narrowed to the one session by aws:userid). On a tenant's own role the
    portal changes nothing and says the session lasts until it expires."""
    if credential.state == State.REVOKED:
        return []
    done: list[str] = []
    if credential.kind == Kind.PERMANENT:
        try:
            done = delete_iam_user(aws.client(credential.account, "iam"), credential.iam_user_name)
        except (ClientError, BotoCoreError) as exc:
            raise CredentialError(
                _aws_message(exc, credential.account, "deleting the IAM user")
            ) from exc
    elif is_portal_role(credential.role_arn):
        done = [_deny_revoked_sessions(credential)]
    else:
        done = [
            f"marked revoked; the session on the tenant's own role {credential.role_arn} lasts "
            f"until {credential.expires_at:%Y-%m-%d %H:%M} UTC (the portal does not edit that role)"
        ]
    with transaction.atomic():
        before = credential.audit_dict()
        credential.state = State.REVOKED
        credential.ended_at = timezone.now()
        credential.revoked_by = actor if getattr(actor, "pk", None) else None
        credential.revoked_by_name = _actor_name(actor)
        credential.revoke_reason = reason[:300]
        credential.save()
        KeyRotation.objects.filter(credential=credential, state=RotationState.PENDING).update(
            state=RotationState.DONE, finished_at=timezone.now()
        )
        record(
            actor,
            credential.tenant,
            "credentials.revoke",
            credential,
            before=before,
            after={**credential.audit_dict(), "reason": reason, "done": done},
        )
    return done


def is_portal_role(role_arn: str) -> bool:
    return role_arn.endswith(f":role{ROLE_PATH}{settings.CREDENTIALS_ROLE_NAME}")


def _deny_revoked_sessions(credential: IssuedCredential) -> str:
    """End a session early: the portal role's inline Deny for revoked sessions' aws:userid
    ("ROLEID:session-name"), rebuilt from the records (sessions that expired drop out)."""
    sessions = list(
        IssuedCredential.objects.filter(
            account=credential.account,
            kind=Kind.TEMPORARY,
            role_arn=credential.role_arn,
            state=State.REVOKED,
            expires_at__gt=timezone.now(),
        )
        .exclude(pk=credential.pk)
        .values_list("session_name", flat=True)
    )
    sessions.append(credential.session_name)
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyRevokedSessions",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringLike": {"aws:userid": [f"*:{s}" for s in sorted(sessions)]}},
            }
        ],
    }
    role_name = credential.role_arn.rsplit("/", 1)[-1]
    try:
        aws.client(credential.account, "iam").put_role_policy(
            RoleName=role_name,
            PolicyName=REVOKED_SESSIONS_POLICY,
            PolicyDocument=compact_json(document),
        )
    except (ClientError, BotoCoreError) as exc:
        raise CredentialError(_aws_message(exc, credential.account, "PutRolePolicy")) from exc
    return (
        f"session {credential.session_name} denied by the role's {REVOKED_SESSIONS_POLICY} policy"
    )


def rotate(
    credential: IssuedCredential, *, actor: Any, grace: timedelta
) -> tuple[KeyRotation, Secret]:
    """A second key now; the old one stays active until `grace` has passed (then a task)."""
    if credential.kind != Kind.PERMANENT or not credential.is_live:
        raise CredentialError("Only active permanent credentials can be rotated.")
    if grace < timedelta(0) or grace > timedelta(days=90):
        raise CredentialError("The grace period must be between 0 and 90 days.")
    iam = aws.client(credential.account, "iam")
    user = credential.iam_user_name
    try:
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        if len(keys) >= IAM_KEYS_PER_USER:
            raise CredentialError(
                f"IAM user {user} already has {len(keys)} access keys, IAM's limit: wait for the "
                "pending rotation to finish (or revoke) before rotating again."
            )
        key = iam.create_access_key(UserName=user)["AccessKey"]
    except (ClientError, BotoCoreError) as exc:
        raise CredentialError(_aws_message(exc, credential.account, "CreateAccessKey")) from exc
    with transaction.atomic():
        before = credential.audit_dict()
        rotation = KeyRotation.objects.create(
            credential=credential,
            old_access_key_id=credential.access_key_id,
            new_access_key_id=key["AccessKeyId"],
            grace_until=timezone.now() + grace,
            rotated_by=actor if getattr(actor, "pk", None) else None,
            rotated_by_name=_actor_name(actor),
        )
        credential.access_key_id = key["AccessKeyId"]
        credential.key_created_at = key.get("CreateDate") or timezone.now()
        credential.alert = Alert.NONE
        credential.alert_opened_at = None
        credential.save()
        record(
            actor,
            credential.tenant,
            "credentials.rotate",
            credential,
            before=before,
            after={**credential.audit_dict(), "grace_until": rotation.grace_until.isoformat()},
        )
    return rotation, Secret(
        access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"], user_name=user
    )


def finish_rotation(rotation_id: int) -> bool:
    """Deactivate and delete the old key once the grace period is over (idempotent)."""
    rotation = (
        KeyRotation.objects.select_related("credential__account", "credential__tenant")
        .filter(pk=rotation_id, state=RotationState.PENDING, grace_until__lte=timezone.now())
        .first()
    )
    if rotation is None:
        return False
    credential = rotation.credential
    _delete_key(
        aws.client(credential.account, "iam"), credential.iam_user_name, rotation.old_access_key_id
    )
    with transaction.atomic():
        claimed = KeyRotation.objects.filter(pk=rotation.pk, state=RotationState.PENDING).update(
            state=RotationState.DONE, finished_at=timezone.now()
        )
        if claimed:
            record(
                None,
                credential.tenant,
                "credentials.rotation.finish",
                credential,
                after={"deleted_access_key_id": rotation.old_access_key_id},
            )
    return bool(claimed)


def finish_due_rotations() -> int:
    due = KeyRotation.objects.filter(
        state=RotationState.PENDING, grace_until__lte=timezone.now()
    ).values_list("pk", flat=True)
    return sum(1 for pk in list(due) if finish_rotation(pk))


def expire(credential_id: int) -> bool:
    """Deactivate and delete the keys of a permanent credential whose date has come."""
    credential = (
        IssuedCredential.objects.select_related("account", "tenant")
        .filter(pk=credential_id, state=State.ACTIVE, expires_at__lte=timezone.now())
        .first()
    )
    if credential is None:
        return False
    deleted: list[str] = []
    if credential.kind == Kind.PERMANENT:
        iam = aws.client(credential.account, "iam")
        try:
            keys = iam.list_access_keys(UserName=credential.iam_user_name)["AccessKeyMetadata"]
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            keys = []
        for key in keys:
            _delete_key(iam, credential.iam_user_name, key["AccessKeyId"])
            deleted.append(key["AccessKeyId"])
    with transaction.atomic():
        claimed = IssuedCredential.objects.filter(pk=credential.pk, state=State.ACTIVE).update(
            state=State.EXPIRED, ended_at=timezone.now()
        )
        KeyRotation.objects.filter(credential=credential, state=RotationState.PENDING).update(
            state=RotationState.DONE, finished_at=timezone.now()
        )
        if claimed:
            record(
                None,
                credential.tenant,
                "credentials.expire",
                credential,
                after={"deleted_access_key_ids": deleted, "expires_at": str(credential.expires_at)},
            )
    return bool(claimed)


def send_reminder(credential_id: int) -> bool:
    credential = (
        IssuedCredential.objects.select_related("tenant", "issuer")
        .filter(pk=credential_id, state=State.ACTIVE, reminded_at__isnull=True)
        .first()
    )
    if credential is None or credential.expires_at is None:
        return False
    with transaction.atomic():
        claimed = IssuedCredential.objects.filter(
            pk=credential.pk, reminded_at__isnull=True
        ).update(reminded_at=timezone.now())
        if not claimed:
            return False
        email = getattr(credential.issuer, "email", "")
        if email:
            send_mail(
                f"[s3portal] Credential #{credential.pk} expires on "
                f"{credential.expires_at:%Y-%m-%d}",
                f"The {credential.get_kind_display()} credential #{credential.pk} "
                f"({credential.access} on {', '.join(credential.buckets)}; key "
                f"{credential.access_key_id}; purpose: {credential.purpose or '-'}) of tenant "
                f"{credential.tenant.name} expires on {credential.expires_at:%Y-%m-%d %H:%M} UTC. "
                "Issue a new one before then if it is still needed.",
                settings.DEFAULT_FROM_EMAIL,
                [email],
            )
        record(
            None,
            credential.tenant,
            "credentials.remind",
            credential,
            after={
                "to": email or "(issuer has no e-mail)",
                "expires_at": str(credential.expires_at),
            },
        )
    return True


def expire_due() -> dict[str, int]:
    """The periodic sweep: expire what is due (however late), remind what is close."""
    now = timezone.now()
    due = list(
        IssuedCredential.objects.filter(state=State.ACTIVE, expires_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    expired = sum(1 for pk in due if expire(pk))
    reminded = 0
    candidates = IssuedCredential.objects.filter(
        state=State.ACTIVE,
        kind=Kind.PERMANENT,
        reminded_at__isnull=True,
        expires_at__gt=now,
    ).select_related("tenant")
    for credential in candidates:
        days = CredentialSettings.for_tenant(credential.tenant).reminder_days
        if credential.expires_at and credential.expires_at <= now + timedelta(days=days):
            reminded += int(send_reminder(credential.pk))
    return {"expired": expired, "reminded": reminded}


def refresh_last_used(credential_id: int) -> bool:
    """GetAccessKeyLastUsed, then open or clear the key-age / unused alert."""
    credential = (
        IssuedCredential.objects.select_related("account", "tenant")
        .filter(pk=credential_id, kind=Kind.PERMANENT, state=State.ACTIVE)
        .first()
    )
    if credential is None:
        return False
    iam = aws.client(credential.account, "iam")
    try:
        used = iam.get_access_key_last_used(AccessKeyId=credential.access_key_id)[
            "AccessKeyLastUsed"
        ]
    except (ClientError, BotoCoreError) as exc:
        logger.warning("last used of credential %s: %s", credential.pk, error_code(exc))
        return False
    now = timezone.now()
    credential.last_used_at = used.get("LastUsedDate")
    service = used.get("ServiceName", "")
    credential.last_used_service = "" if service == "N/A" else service
    credential.last_used_checked_at = now
    rules = CredentialSettings.for_tenant(credential.tenant)
    alert = Alert.NONE
    if credential.key_created_at <= now - timedelta(days=rules.max_key_age_days):
        alert = Alert.OLD_KEY
    elif (credential.last_used_at or credential.key_created_at) <= now - timedelta(
        days=rules.unused_after_days
    ):
        alert = Alert.UNUSED
    with transaction.atomic():
        if alert != credential.alert:
            record(
                None,
                credential.tenant,
                "credentials.alert.open" if alert else "credentials.alert.resolve",
                credential,
                before={"alert": credential.alert},
                after={"alert": alert, "access_key_id": credential.access_key_id},
            )
            credential.alert = alert
            credential.alert_opened_at = now if alert else None
        credential.save()
    return True


def refresh_all_last_used() -> int:
    ids = list(
        IssuedCredential.objects.filter(kind=Kind.PERMANENT, state=State.ACTIVE).values_list(
            "pk", flat=True
        )
    )
    return sum(1 for pk in ids if refresh_last_used(pk))
