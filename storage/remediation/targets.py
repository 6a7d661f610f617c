"""Checks a fix's dry run makes on the things it names (before Apply, so the page can say what
will fail): the log target bucket of access logging, the KMS key of default encryption.

Ownership goes through accounts/references.py (the one tenant check); what AWS would refuse is
read from AWS (HeadBucket, the target's policy and ACL, DescribeKey) where the credentials allow.
"""

from __future__ import annotations

import json
from typing import Any

from accounts import aws
from accounts.errors import AWS_ERRORS, describe_aws_error, error_code
from accounts.references import ForeignReference, require_tenant_bucket, require_tenant_kms_key
from storage.remediation.base import FixContext, FixError

LOGGING_SERVICE = "logging.s3.amazonaws.com"
LOG_DELIVERY_URI = "http://acs.amazonaws.com/groups/s3/LogDelivery"
_NOT_FOUND = {"404", "NoSuchBucket", "NotFound"}
_DENIED = {"403", "AccessDenied", "Forbidden"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_lets_logging_write(policy: dict[str, Any], bucket: str, prefix: str) -> bool:
    """A statement allowing the S3 logging service s3:PutObject on the target prefix."""
    for statement in _as_list(policy.get("Statement") or []):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal") or {}
        services = _as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        if LOGGING_SERVICE not in services:
            continue
        actions = {str(a) for a in _as_list(statement.get("Action") or [])}
        if not actions & {"s3:PutObject", "s3:*", "*"}:
            continue
        for resource in _as_list(statement.get("Resource") or []):
            resource = str(resource)
            base = resource.split(":::", 1)[-1]
            if base in (f"{bucket}/*", "*") or (
                base.endswith("*") and f"{bucket}/{prefix}".startswith(base[:-1])
            ):
                return True
    return False


def log_delivery_permissions(acl: dict[str, Any]) -> set[str]:
    """What the log-delivery group holds on the target (S3 needs WRITE and READ_ACP)."""
    held: set[str] = set()
    for grant in acl.get("Grants") or []:
        if (grant.get("Grantee") or {}).get("URI") == LOG_DELIVERY_URI:
            held.add(grant.get("Permission", ""))
    if "FULL_CONTROL" in held:
        held |= {"WRITE", "READ_ACP"}
    return held


def check_log_target(ctx: FixContext, target: str, prefix: str) -> list[str]:
    """Refuse (FixError) what S3 would refuse; return notes for what could not be checked."""
    account = ctx.account
    try:
        target_row = require_tenant_bucket(account.tenant_id, target, account=account)
    except ForeignReference as exc:
        raise FixError(exc.messages[0]) from exc
    if target_row.account_id != account.pk and (
        not account.verified_account_id
        or target_row.account.verified_account_id != account.verified_account_id
    ):
        raise FixError(
            f"The log bucket {target} belongs to another AWS account than {ctx.bucket_name}: S3 "
            "delivers access logs only to a bucket of the same AWS account."
        )
    if target_row.region and target_row.region != ctx.region:
        raise FixError(
            f"The log bucket {target} is in {target_row.region} but {ctx.bucket_name} is in "
            f"{ctx.region}: S3 delivers access logs only to a bucket in the same region."
        )
    notes: list[str] = []
    resource = f"bucket {target}"
    try:
        ctx.client.head_bucket(Bucket=target)
    except AWS_ERRORS as exc:
        code = error_code(exc)
        if code in _NOT_FOUND:
            raise FixError(
                f"The log bucket {target} does not exist (any more): choose another one, or "
                "scan the account again."
            ) from exc
        if code not in _DENIED:
            raise FixError(
                describe_aws_error(
                    exc, account_name=account.name, operation="s3:ListBucket", resource=resource
                )
            ) from exc
        notes.append(f"Could not check that {target} exists (HeadBucket was refused).")
    notes += _check_log_delivery_allowed(ctx, target, prefix)
    return notes


def _read(ctx: FixContext, method: str, target: str, *, missing: set[str]) -> Any:
    """A read of the target; None when it is "not configured", raises AWS errors otherwise."""
    try:
        return getattr(ctx.client, method)(Bucket=target)
    except AWS_ERRORS as exc:
        if error_code(exc) in missing:
            return None
        raise


def _check_log_delivery_allowed(ctx: FixContext, target: str, prefix: str) -> list[str]:
    try:
        ownership = _read(
            ctx, "get_bucket_ownership_controls", target, missing={"OwnershipControlsNotFoundError"}
        )
        policy_doc = _read(ctx, "get_bucket_policy", target, missing={"NoSuchBucketPolicy"})
        acl = _read(ctx, "get_bucket_acl", target, missing=set())
    except AWS_ERRORS as exc:
        detail = describe_aws_error(exc, account_name=ctx.account.name, resource=f"bucket {target}")
        return [f"Could not check that {target} can receive logs: {detail}"]
    rules = ((ownership or {}).get("OwnershipControls") or {}).get("Rules") or []
    acls_disabled = any(r.get("ObjectOwnership") == "BucketOwnerEnforced" for r in rules)
    try:
        policy = json.loads((policy_doc or {}).get("Policy") or "{}")
    except ValueError:
        policy = {}
    if policy_lets_logging_write(policy, target, prefix):
        return []
    held = set() if acls_disabled else log_delivery_permissions(acl or {})
    if {"WRITE", "READ_ACP"} <= held:
        return []
    if held:
        # The ACL grants the log-delivery group something, but not both permissions seen (moto's
        # GetBucketAcl shows only one permission of a canned ACL): S3 answers on Apply.
        missing = " and ".join(sorted({"WRITE", "READ_ACP"} - held))
        return [
            f"The log-delivery group's ACL grant on {target} lacks {missing} as read; S3 refuses "
            "the change if it is really missing."
        ]
    how = (
        f"a bucket policy allowing {LOGGING_SERVICE} s3:PutObject on "
        f"arn:aws:s3:::{target}/{prefix}*"
    )
    if not acls_disabled:
        how += ", or WRITE and READ_ACP for the log-delivery group in its ACL"
    raise FixError(
        f"The log bucket {target} does not let the S3 logging service write to it, so S3 would "
        f"refuse this change: give it {how}."
    )


def check_kms_key(ctx: FixContext, key: str) -> list[str]:
    """The key must be the tenant's; DescribeKey (where permitted) says if it exists and works."""
    try:
        require_tenant_kms_key(ctx.account, key)
    except ForeignReference as exc:
        raise FixError(exc.messages[0]) from exc
    try:
        kms = aws.client(ctx.account, "kms", region=ctx.region)
        meta = kms.describe_key(KeyId=key)["KeyMetadata"]
    except AWS_ERRORS as exc:
        code = error_code(exc)
        if code == "NotFoundException":
            raise FixError(
                f"There is no KMS key {key} in {ctx.region} for this account: check the id or "
                "alias (aliases start with alias/)."
            ) from exc
        detail = describe_aws_error(exc, account_name=ctx.account.name, operation="kms:DescribeKey")
        return [f"Could not check the KMS key: {detail}"]
    if meta.get("KeyState") not in (None, "Enabled"):
        raise FixError(f"The KMS key {key} is {meta.get('KeyState')}: S3 cannot encrypt with it.")
    if meta.get("KeyUsage") not in (None, "ENCRYPT_DECRYPT") or meta.get("KeySpec") not in (
        None,
        "SYMMETRIC_DEFAULT",
    ):
        raise FixError(
            f"The KMS key {key} is not a symmetric encryption key: S3 default encryption needs "
            "one (KeySpec SYMMETRIC_DEFAULT)."
        )
    return []
