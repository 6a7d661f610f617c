"""Fixes of bucket settings: Block Public Access, versioning, default encryption, logging.

Each one reads the current configuration and changes only what it must, keeping every other
field as it was (merge, never replace).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from storage.remediation.base import Fix, FixContext, FixError, FixPlan, Request
from storage.remediation.targets import check_kms_key, check_log_target
from storage.scan.verdict import PAB_FLAGS

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_KMS_KEY = re.compile(r"^[A-Za-z0-9:/_+=,.@-]{1,2048}$")


class BlockPublicAccess(Fix):
    name = "block_public_access"
    label = "Block public access"
    description = "Turn on all four Block Public Access settings at bucket level."
    fixes_check = "public_access_block"

    def plan(self, ctx: FixContext, params: dict[str, Any], *, limit: int | None = None) -> FixPlan:
        fetched = ctx.read("GetPublicAccessBlock")
        before = None
        if not fetched.not_configured:
            before = dict((fetched.value or {}).get("PublicAccessBlockConfiguration") or {})
        after = {**(before or {}), **{flag: True for flag in PAB_FLAGS}}
        if before is not None and all(before.get(f) is True for f in PAB_FLAGS):
            return FixPlan(
                self.name,
                ctx.bucket_name,
                "All four Block Public Access settings are already on; nothing to do.",
                before=before,
                after=before,
                noop=True,
            )
        off = [f for f in PAB_FLAGS if not (before or {}).get(f)]
        return FixPlan(
            self.name,
            ctx.bucket_name,
            f"Turn on {', '.join(off)} at bucket level (the settings already on stay on).",
            requests=[
                Request(
                    "PutPublicAccessBlock",
                    {"Bucket": ctx.bucket_name, "PublicAccessBlockConfiguration": after},
                )
            ],
            before=before,
            after=after,
            notes=[
                "Public ACLs are then ignored and a public bucket policy stops applying: "
                "anything meant to be public (a static website, public downloads) stops "
                "being reachable by anonymous users."
            ],
        )


class EnableVersioning(Fix):
    name = "enable_versioning"
    label = "Enable versioning"
    description = "Keep every version of every object (overwrites and deletes can be undone)."
    fixes_check = "versioning"

    def plan(self, ctx: FixContext, params: dict[str, Any], *, limit: int | None = None) -> FixPlan:
        before = dict(ctx.read("GetBucketVersioning").value or {})
        if before.get("Status") == "Enabled":
            return FixPlan(
                self.name,
                ctx.bucket_name,
                "Versioning is already enabled; nothing to do.",
                before=before,
                after=before,
                noop=True,
            )
        if before.get("MFADelete") == "Enabled":
            raise FixError(
                "MFA delete is on for this bucket, so changing its versioning needs the root "
                "user's MFA code: use the AWS CLI with --mfa."
            )
        after = {**before, "Status": "Enabled"}
        return FixPlan(
            self.name,
            ctx.bucket_name,
            f"Enable versioning (now {before.get('Status') or 'never enabled'}).",
            requests=[
                Request(
                    "PutBucketVersioning",
                    {"Bucket": ctx.bucket_name, "VersioningConfiguration": {"Status": "Enabled"}},
                )
            ],
            before=before,
            after=after,
            notes=[
                "Versioning cannot be turned off again, only suspended. Old versions are "
                "billed: add a lifecycle rule that expires noncurrent versions."
            ],
        )


_ALGORITHM_NAMES = {"AES256": "SSE-S3", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}


class DefaultEncryption(Fix):
    name = "default_encryption"
    label = "Enable default encryption"
    description = "Encrypt new objects by default with SSE-S3, or SSE-KMS with a given key."
    fixes_check = "encryption"

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (params.get("kms_key_id") or "").strip()
        if key and not _KMS_KEY.match(key):
            raise FixError(f"{key!r} is not a KMS key id, alias or ARN.")
        bucket_key = params.get("bucket_key")
        return {"kms_key_id": key, "bucket_key": None if bucket_key is None else bool(bucket_key)}

    def plan(self, ctx: FixContext, params: dict[str, Any], *, limit: int | None = None) -> FixPlan:
        fetched = ctx.read("GetBucketEncryption")
        before = None
        if not fetched.not_configured:
            before = copy.deepcopy(
                (fetched.value or {}).get("ServerSideEncryptionConfiguration") or {}
            )
        key = params.get("kms_key_id") or ""
        desired: dict[str, Any] = (
            {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
            if key
            else {"SSEAlgorithm": "AES256"}
        )
        rules = list((before or {}).get("Rules") or [])
        first = dict(rules[0]) if rules else {}
        current = first.get("ApplyServerSideEncryptionByDefault") or {}
        current_algorithm = current.get("SSEAlgorithm")
        if not key and current_algorithm in ("aws:kms", "aws:kms:dsse"):
            raise FixError(
                f"The bucket already encrypts with {_ALGORITHM_NAMES[current_algorithm]}, "
                "which is stronger than SSE-S3; the portal does not downgrade it. Give a KMS "
                "key id to change the key instead."
            )
        new_rule = {**first, "ApplyServerSideEncryptionByDefault": desired}
        if key:
            wanted_bucket_key = params.get("bucket_key")
            if wanted_bucket_key is None:
                wanted_bucket_key = first.get("BucketKeyEnabled", True)
            new_rule["BucketKeyEnabled"] = wanted_bucket_key
        if current == desired and new_rule == first:
            return FixPlan(
                self.name,
                ctx.bucket_name,
                "Default encryption is already configured this way; nothing to do.",
                before=before,
                after=before,
                noop=True,
            )
        key_notes = check_kms_key(ctx, key) if key else []  # before Apply: is the key usable?
        after = {**(before or {}), "Rules": [new_rule, *rules[1:]]}
        wanted = f"SSE-KMS with key {key}" if key else "SSE-S3 (AES256)"
        now = _ALGORITHM_NAMES.get(current_algorithm or "", "none")
        return FixPlan(
            self.name,
            ctx.bucket_name,
            f"Set default encryption to {wanted} (now: {now}).",
            requests=[
                Request(
                    "PutBucketEncryption",
                    {"Bucket": ctx.bucket_name, "ServerSideEncryptionConfiguration": after},
                )
            ],
            before=before,
            after=after,
            notes=[
                *key_notes,
                "Only objects written from now on are encrypted this way; existing objects "
                "keep the encryption they were written with.",
            ]
            + (
                ["The key policy must let S3 (and everyone who reads the objects) use the key."]
                if key
                else []
            ),
        )


class AccessLogging(Fix):
    name = "access_logging"
    label = "Enable access logging"
    description = "Deliver server access logs to a target bucket and prefix."
    fixes_check = "logging"

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        target = (params.get("target_bucket") or "").strip()
        if not target:
            raise FixError("Give the target bucket the logs are delivered to.")
        if not _BUCKET_NAME.match(target):
            raise FixError(f"{target!r} is not a valid bucket name.")
        prefix = params.get("target_prefix")
        prefix = "{bucket}/" if prefix is None else str(prefix).strip()
        if len(prefix) > 900:
            raise FixError("The log prefix is too long.")
        return {"target_bucket": target, "target_prefix": prefix}

    def plan(self, ctx: FixContext, params: dict[str, Any], *, limit: int | None = None) -> FixPlan:
        target = params["target_bucket"]
        prefix = params["target_prefix"].replace("{bucket}", ctx.bucket_name)
        # The tenant's own bucket, same AWS account and region, existing, able to receive logs.
        target_notes = check_log_target(ctx, target, prefix)
        value = ctx.read("GetBucketLogging").value or {}
        before = copy.deepcopy(value.get("LoggingEnabled")) if value.get("LoggingEnabled") else None
        if before and before.get("TargetBucket") == target and before.get("TargetPrefix") == prefix:
            return FixPlan(
                self.name,
                ctx.bucket_name,
                f"Logs already go to s3://{target}/{prefix}; nothing to do.",
                before=before,
                after=before,
                noop=True,
            )
        after = {**(before or {}), "TargetBucket": target, "TargetPrefix": prefix}
        notes = [
            *target_notes,
            "Logs can take hours to appear in the log bucket.",
        ]
        if target == ctx.bucket_name:
            notes.append(
                "The bucket logs into itself: every delivery writes new objects that are "
                "logged again. A separate log bucket is better."
            )
        return FixPlan(
            self.name,
            ctx.bucket_name,
            f"Deliver server access logs to s3://{target}/{prefix}"
            + (
                f" (now s3://{before.get('TargetBucket')}/{before.get('TargetPrefix', '')})."
                if before
                else "."
            ),
            requests=[
                Request(
                    "PutBucketLogging",
                    {"Bucket": ctx.bucket_name, "BucketLoggingStatus": {"LoggingEnabled": after}},
                )
            ],
            before=before,
            after=after,
            notes=notes,
        )
