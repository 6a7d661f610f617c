"""IAM policy documents for scoped credentials, and their validation before any AWS call.

Parity with s3-credentials' ``policies.py`` (same actions per access level), then more: several
buckets, several prefixes per bucket, ``s3:AbortMultipartUpload`` and
``s3:ListMultipartUploadParts`` wherever writing is allowed (so a large upload can clean up
after itself), custom documents in which ``$!BUCKET_NAME!$`` expands to every bucket, and extra
statements. Nothing here talks to AWS.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import models

BUCKET_PLACEHOLDER = "$!BUCKET_NAME!$"
POLICY_VERSION = "2012-10-17"

# IAM quotas (IAM User Guide, "IAM and AWS STS quotas"): the aggregate size of all inline
# policies of a user is at most 2,048 characters, white space not counted; an STS session policy's
# plain text is at most 2,048 characters (AssumeRole API reference, "Policy" parameter).
INLINE_USER_POLICY_LIMIT = 2048
SESSION_POLICY_LIMIT = 2048

BUCKET_ACTIONS_READ = ["s3:ListBucket", "s3:GetBucketLocation"]
OBJECT_ACTIONS_READ = [
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectLegalHold",
    "s3:GetObjectRetention",
    "s3:GetObjectTagging",
]
# s3-credentials grants PutObject (write-only) and PutObject + DeleteObject (read-write); the
# portal adds the two multipart actions wherever writing is allowed.
MULTIPART_CLEANUP_ACTIONS = ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
OBJECT_ACTIONS_WRITE_ONLY = ["s3:PutObject", *MULTIPART_CLEANUP_ACTIONS]
OBJECT_ACTIONS_READ_WRITE = ["s3:PutObject", "s3:DeleteObject", *MULTIPART_CLEANUP_ACTIONS]

# Amazon S3 actions (Service Authorization Reference, "Actions defined by Amazon S3"). Custom
# policies may use only these, or wildcards that match at least one of them.
KNOWN_S3_ACTIONS: frozenset[str] = frozenset(
    f"s3:{name}"
    for name in [
        "AbortMultipartUpload",
        "BypassGovernanceRetention",
        "CreateAccessPoint",
        "CreateBucket",
        "CreateJob",
        "CreateMultiRegionAccessPoint",
        "DeleteAccessPoint",
        "DeleteAccessPointPolicy",
        "DeleteBucket",
        "DeleteBucketOwnershipControls",
        "DeleteBucketPolicy",
        "DeleteBucketWebsite",
        "DeleteJobTagging",
        "DeleteObject",
        "DeleteObjectTagging",
        "DeleteObjectVersion",
        "DeleteObjectVersionTagging",
        "DeleteStorageLensConfiguration",
        "DescribeJob",
        "GetAccelerateConfiguration",
        "GetAccessPoint",
        "GetAccessPointPolicy",
        "GetAccessPointPolicyStatus",
        "GetAccountPublicAccessBlock",
        "GetAnalyticsConfiguration",
        "GetBucketAcl",
        "GetBucketCORS",
        "GetBucketLocation",
        "GetBucketLogging",
        "GetBucketNotification",
        "GetBucketObjectLockConfiguration",
        "GetBucketOwnershipControls",
        "GetBucketPolicy",
        "GetBucketPolicyStatus",
        "GetBucketPublicAccessBlock",
        "GetBucketRequestPayment",
        "GetBucketTagging",
        "GetBucketVersioning",
        "GetBucketWebsite",
        "GetEncryptionConfiguration",
        "GetIntelligentTieringConfiguration",
        "GetInventoryConfiguration",
        "GetLifecycleConfiguration",
        "GetMetricsConfiguration",
        "GetObject",
        "GetObjectAcl",
        "GetObjectAttributes",
        "GetObjectLegalHold",
        "GetObjectRetention",
        "GetObjectTagging",
        "GetObjectTorrent",
        "GetObjectVersion",
        "GetObjectVersionAcl",
        "GetObjectVersionAttributes",
        "GetObjectVersionForReplication",
        "GetObjectVersionTagging",
        "GetObjectVersionTorrent",
        "GetReplicationConfiguration",
        "GetStorageLensConfiguration",
        "ListAccessPoints",
        "ListAllMyBuckets",
        "ListBucket",
        "ListBucketMultipartUploads",
        "ListBucketVersions",
        "ListJobs",
        "ListMultipartUploadParts",
        "ListStorageLensConfigurations",
        "ObjectOwnerOverrideToBucketOwner",
        "PutAccelerateConfiguration",
        "PutAccessPointPolicy",
        "PutAccountPublicAccessBlock",
        "PutAnalyticsConfiguration",
        "PutBucketAcl",
        "PutBucketCORS",
        "PutBucketLogging",
        "PutBucketNotification",
        "PutBucketObjectLockConfiguration",
        "PutBucketOwnershipControls",
        "PutBucketPolicy",
        "PutBucketPublicAccessBlock",
        "PutBucketRequestPayment",
        "PutBucketTagging",
        "PutBucketVersioning",
        "PutBucketWebsite",
        "PutEncryptionConfiguration",
        "PutIntelligentTieringConfiguration",
        "PutInventoryConfiguration",
        "PutLifecycleConfiguration",
        "PutMetricsConfiguration",
        "PutObject",
        "PutObjectAcl",
        "PutObjectLegalHold",
        "PutObjectRetention",
        "PutObjectTagging",
        "PutObjectVersionAcl",
        "PutObjectVersionTagging",
        "PutReplicationConfiguration",
        "PutStorageLensConfiguration",
        "ReplicateDelete",
        "ReplicateObject",
        "ReplicateTags",
        "RestoreObject",
        "UpdateJobPriority",
        "UpdateJobStatus",
    ]
)
_KNOWN_LOWER = {a.lower(): a for a in KNOWN_S3_ACTIONS}
_S3_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):s3:::(?P<bucket>[^/]+)(?P<rest>/.*)?$"
)
_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}


class AccessLevel(models.TextChoices):
    READ_WRITE = "read_write", "Read and write"
    READ_ONLY = "read_only", "Read only"
    WRITE_ONLY = "write_only", "Write only"
    CUSTOM = "custom", "Custom policy"


class PolicyError(ValueError):
    """One or more problems with a policy; `problems` holds one clear message each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class BucketScope:
    """One bucket, optionally limited to key prefixes (each ending in "/")."""

    bucket: str
    prefixes: tuple[str, ...] = ()


@dataclass
class PolicyRequest:
    scopes: list[BucketScope]
    access: str = AccessLevel.READ_WRITE
    custom_policy: str = ""  # JSON text, for AccessLevel.CUSTOM
    extra_statements: list[str] = field(default_factory=list)  # JSON texts


def normalize_prefix(prefix: str) -> str:
    """ "reports" -> "reports/": a prefix names a folder, so "rep" never also grants "reports"."""
    cleaned = prefix.strip().lstrip("/")
    if not cleaned:
        raise PolicyError(["An empty prefix would grant the whole bucket: leave prefixes out."])
    if "*" in cleaned or "?" in cleaned or "$" in cleaned:
        raise PolicyError([f"Prefix {prefix!r}: wildcards and '$' are not allowed in a prefix."])
    if "//" in cleaned or len(cleaned.encode()) > 1000:
        raise PolicyError([f"Prefix {prefix!r}: empty segments or more than 1,000 bytes."])
    return cleaned if cleaned.endswith("/") else cleaned + "/"


def scopes_for(buckets: list[str], prefixes: list[str]) -> list[BucketScope]:
    """The same prefixes on every bucket (what the CLI and the issue form ask for)."""
    if not buckets:
        raise PolicyError(["Name at least one bucket."])
    normalized = tuple(dict.fromkeys(normalize_prefix(p) for p in prefixes))
    return [BucketScope(b, normalized) for b in dict.fromkeys(buckets)]


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def _object_arns(scopes: list[BucketScope]) -> list[str]:
    arns: list[str] = []
    for scope in scopes:
        for prefix in scope.prefixes or ("",):
            arns.append(f"{bucket_arn(scope.bucket)}/{prefix}*")
    return arns


def _read_bucket_statements(scopes: list[BucketScope]) -> list[dict[str, Any]]:
    whole = [s for s in scopes if not s.prefixes]
    statements: list[dict[str, Any]] = []
    if whole:
        statements.append(
            {
                "Effect": "Allow",
                "Action": list(BUCKET_ACTIONS_READ),
                "Resource": [bucket_arn(s.bucket) for s in whole],
            }
        )
    limited = [s for s in scopes if s.prefixes]
    if limited:
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation"],
                "Resource": [bucket_arn(s.bucket) for s in limited],
            }
        )
        # ListBucket's condition is per statement: group buckets that share their prefixes.
        groups: dict[tuple[str, ...], list[str]] = {}
        for scope in limited:
            groups.setdefault(scope.prefixes, []).append(scope.bucket)
        for prefixes, buckets in groups.items():
            statements.append(
                {
                    "Effect": "Allow",
                    "Action": ["s3:ListBucket"],
                    "Resource": [bucket_arn(b) for b in buckets],
                    "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}},
                }
            )
    return statements


def level_statements(access: str, scopes: list[BucketScope]) -> list[dict[str, Any]]:
    objects = _object_arns(scopes)
    if access == AccessLevel.WRITE_ONLY:
        return [{"Effect": "Allow", "Action": list(OBJECT_ACTIONS_WRITE_ONLY), "Resource": objects}]
    statements = _read_bucket_statements(scopes)
    statements.append({"Effect": "Allow", "Action": list(OBJECT_ACTIONS_READ), "Resource": objects})
    if access == AccessLevel.READ_WRITE:
        statements.append(
            {"Effect": "Allow", "Action": list(OBJECT_ACTIONS_READ_WRITE), "Resource": objects}
        )
    return statements


def wrap_policy(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": statements}


def _parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            [f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."]
        ) from exc


def _expand_placeholder(value: Any, buckets: list[str]) -> Any:
    """Every string with $!BUCKET_NAME!$ becomes one string per bucket (s3-credentials only
    substitutes the last bucket)."""
    if isinstance(value, str) and BUCKET_PLACEHOLDER in value:
        return [value.replace(BUCKET_PLACEHOLDER, b) for b in buckets]
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            if isinstance(item, str) and BUCKET_PLACEHOLDER in item:
                out.extend(item.replace(BUCKET_PLACEHOLDER, b) for b in buckets)
            else:
                out.append(_expand_placeholder(item, buckets))
        return out
    if isinstance(value, dict):
        return {k: _expand_placeholder(v, buckets) for k, v in value.items()}
    return value


def custom_statements(text: str, buckets: list[str]) -> list[dict[str, Any]]:
    document = _parse_json(text, "The custom policy")
    if not isinstance(document, dict) or "Statement" not in document:
        raise PolicyError(['The custom policy must be an object with a "Statement" list.'])
    statements = document["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise PolicyError(['The custom policy\'s "Statement" must be a list of statements.'])
    return [_expand_placeholder(s, buckets) for s in statements]


def extra_statements(texts: list[str], buckets: list[str]) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for number, text in enumerate(texts, start=1):
        parsed = _parse_json(text, f"Extra statement {number}")
        for item in parsed if isinstance(parsed, list) else [parsed]:
            statements.append(_expand_placeholder(item, buckets))
    return statements


def build_policy(request: PolicyRequest) -> dict[str, Any]:
    """The identity (or session) policy for `request`; structure errors raise PolicyError."""
    buckets = [s.bucket for s in request.scopes]
    if not buckets:
        raise PolicyError(["Name at least one bucket."])
    if request.access == AccessLevel.CUSTOM:
        if not request.custom_policy.strip():
            raise PolicyError(["A custom policy needs a policy document."])
        statements = custom_statements(request.custom_policy, buckets)
    elif request.access in AccessLevel.values:
        statements = level_statements(request.access, request.scopes)
    else:
        raise PolicyError([f"Unknown access level {request.access!r}."])
    statements.extend(extra_statements(request.extra_statements, buckets))
    return wrap_policy(statements)


def public_read_bucket_policy(bucket: str) -> dict[str, Any]:
    """s3-credentials' public-read bucket policy. Applied only through the fixes' plan/apply."""
    return wrap_policy(
        [
            {
                "Sid": "AllowAllGetObject",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": [f"{bucket_arn(bucket)}/*"],
            }
        ]
    )


# --- validation ---


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _action_problem(action: Any, where: str) -> str | None:
    if not isinstance(action, str) or ":" not in action:
        return f"{where}: {action!r} is not an action (expected e.g. s3:GetObject)."
    service, _, name = action.partition(":")
    if service.lower() != "s3":
        return f"{where}: {action!r} is not an S3 action; these credentials are for S3 only."
    if "*" in name or "?" in name:
        pattern = re.compile(
            "^" + re.escape(action.lower()).replace(r"\*", ".*").replace(r"\?", ".") + "$"
        )
        if not any(pattern.match(known) for known in _KNOWN_LOWER):
            return f"{where}: {action!r} matches no known S3 action."
        return None
    if action.lower() not in _KNOWN_LOWER:
        return f"{where}: {action!r} is not a known S3 action."
    return None


def _resource_problem(resource: Any, where: str, own_buckets: set[str]) -> str | None:
    if not isinstance(resource, str):
        return f"{where}: resource {resource!r} must be a string ARN."
    match = _S3_ARN.match(resource)
    if match is None:
        return (
            f"{where}: {resource!r} is not an S3 bucket or object ARN "
            "(arn:aws:s3:::BUCKET or arn:aws:s3:::BUCKET/KEY)."
        )
    bucket = match.group("bucket")
    if any(c in bucket for c in "*?$"):
        return f"{where}: {resource!r} names buckets by wildcard; name each bucket."
    if bucket not in own_buckets:
        return f"{where}: bucket {bucket!r} is not one of this tenant's buckets."
    return None


def validate_policy(
    policy: dict[str, Any], own_buckets: set[str], *, limit: int, limit_name: str
) -> None:
    """Raise PolicyError listing every problem: shape, actions, resources, size."""
    problems: list[str] = []
    if policy.get("Version") != POLICY_VERSION:
        problems.append(f'The policy Version must be "{POLICY_VERSION}".')
    statements = policy.get("Statement")
    if not isinstance(statements, list) or not statements:
        raise PolicyError([*problems, "The policy has no statements."])
    for index, statement in enumerate(statements, start=1):
        where = f"Statement {index}"
        if not isinstance(statement, dict):
            problems.append(f"{where} must be a JSON object.")
            continue
        unknown = set(statement) - _STATEMENT_KEYS
        if "Principal" in unknown or "NotPrincipal" in unknown:
            problems.append(f"{where}: an identity policy has no Principal.")
            unknown -= {"Principal", "NotPrincipal"}
        if unknown:
            problems.append(f"{where}: unknown element(s) {', '.join(sorted(unknown))}.")
        if statement.get("Effect") not in ("Allow", "Deny"):
            problems.append(f'{where}: Effect must be "Allow" or "Deny".')
        action_key = "Action" if "Action" in statement else "NotAction"
        if ("Action" in statement) == ("NotAction" in statement):
            problems.append(f"{where}: give exactly one of Action or NotAction.")
        elif action_key == "NotAction" and statement.get("Effect") == "Allow":
            problems.append(f"{where}: Allow with NotAction would grant every other service.")
        else:
            for action in _as_list(statement[action_key]):
                problem = _action_problem(action, where)
                if problem:
                    problems.append(problem)
        if ("Resource" in statement) == ("NotResource" in statement):
            problems.append(f"{where}: give exactly one of Resource or NotResource.")
        elif "NotResource" in statement and statement.get("Effect") == "Allow":
            problems.append(f"{where}: Allow with NotResource would reach other tenants' buckets.")
        else:
            key = "Resource" if "Resource" in statement else "NotResource"
            for resource in _as_list(statement[key]):
                problem = _resource_problem(resource, where, own_buckets)
                if problem:
                    problems.append(problem)
        if "Condition" in statement and not isinstance(statement["Condition"], dict):
            problems.append(f"{where}: Condition must be a JSON object.")
    size = policy_size(policy)
    if size > limit:
        problems.append(
            f"The {limit_name} is {size:,} characters; AWS allows {limit:,} "
            f"({size - limit:,} too many). Use fewer buckets, prefixes or statements."
        )
    if problems:
        raise PolicyError(problems)


def compact_json(policy: dict[str, Any]) -> str:
    return json.dumps(policy, separators=(",", ":"))


def policy_size(policy: dict[str, Any]) -> int:
    """Characters as IAM counts them: the compact document without white space."""
    return sum(1 for c in compact_json(policy) if not c.isspace())


def pretty_json(policy: dict[str, Any]) -> str:
    return json.dumps(policy, indent=2)
