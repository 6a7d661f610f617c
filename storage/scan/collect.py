"""Read one bucket's configuration from S3: one call per setting, each answer kept as is.

Every call ends in a :class:`Fetched`: the answer, "not configured" (the documented NoSuch*
error of that operation), or an error a person can act on (the missing IAM permission, the
throttling, the vanished bucket). Nothing here decides pass or fail; that is
:mod:`storage.scan.checks`. Nothing here touches the database, so it runs in worker threads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accounts import aws
from accounts.errors import AWS_ERRORS, describe_aws_error, error_code, is_transient

if TYPE_CHECKING:
    from accounts.models import AwsAccount

# Operation -> (client method, the IAM action it needs, error codes meaning "not configured").
OPERATIONS: dict[str, tuple[str, str, frozenset[str]]] = {
    "GetBucketAcl": ("get_bucket_acl", "s3:GetBucketAcl", frozenset()),
    "GetBucketPolicy": (
        "get_bucket_policy",
        "s3:GetBucketPolicy",
        frozenset({"NoSuchBucketPolicy"}),
    ),
    "GetBucketPolicyStatus": (
        "get_bucket_policy_status",
        "s3:GetBucketPolicyStatus",
        frozenset({"NoSuchBucketPolicy"}),
    ),
    "GetPublicAccessBlock": (
        "get_public_access_block",
        "s3:GetBucketPublicAccessBlock",
        frozenset({"NoSuchPublicAccessBlockConfiguration"}),
    ),
    "GetBucketOwnershipControls": (
        "get_bucket_ownership_controls",
        "s3:GetBucketOwnershipControls",
        frozenset({"OwnershipControlsNotFoundError"}),
    ),
    "GetBucketLogging": ("get_bucket_logging", "s3:GetBucketLogging", frozenset()),
    "GetBucketVersioning": ("get_bucket_versioning", "s3:GetBucketVersioning", frozenset()),
    "GetBucketEncryption": (
        "get_bucket_encryption",
        "s3:GetEncryptionConfiguration",
        frozenset({"ServerSideEncryptionConfigurationNotFoundError"}),
    ),
    "GetBucketWebsite": (
        "get_bucket_website",
        "s3:GetBucketWebsite",
        frozenset({"NoSuchWebsiteConfiguration"}),
    ),
    "GetBucketLifecycleConfiguration": (
        "get_bucket_lifecycle_configuration",
        "s3:GetLifecycleConfiguration",
        frozenset({"NoSuchLifecycleConfiguration"}),
    ),
    "GetBucketReplication": (
        "get_bucket_replication",
        "s3:GetReplicationConfiguration",
        frozenset({"ReplicationConfigurationNotFoundError"}),
    ),
    "GetObjectLockConfiguration": (
        "get_object_lock_configuration",
        "s3:GetBucketObjectLockConfiguration",
        frozenset({"ObjectLockConfigurationNotFoundError"}),
    ),
    "GetBucketLocation": ("get_bucket_location", "s3:GetBucketLocation", frozenset()),
}
ACCOUNT_PAB_PERMISSION = "s3:GetAccountPublicAccessBlock"
LIST_BUCKETS_PERMISSION = "s3:ListAllMyBuckets"
MISSING_BUCKET_CODES = frozenset({"NoSuchBucket"})

# Fact names (the keys of BucketFacts.calls) -> the operation that reads them.
FACT_OPERATIONS: dict[str, str] = {
    "acl": "GetBucketAcl",
    "policy": "GetBucketPolicy",
    "policy_status": "GetBucketPolicyStatus",
    "bucket_pab": "GetPublicAccessBlock",
    "ownership": "GetBucketOwnershipControls",
    "logging": "GetBucketLogging",
    "versioning": "GetBucketVersioning",
    "encryption": "GetBucketEncryption",
    "website": "GetBucketWebsite",
    "lifecycle": "GetBucketLifecycleConfiguration",
    "replication": "GetBucketReplication",
    "object_lock": "GetObjectLockConfiguration",
}
ALL_FACTS: tuple[str, ...] = tuple(FACT_OPERATIONS)


@dataclass(frozen=True)
class Fetched:
    """The outcome of one read: a value, "not configured", or an error."""

    operation: str
    value: Any = None  # the response without ResponseMetadata
    not_configured: bool = False
    error: str = ""  # a sentence a person can act on; empty when the call worked
    error_code: str = ""
    transient: bool = False  # throttling or network after botocore's own retries
    inferred: str = ""  # set when the call was not made because its answer is certain

    @property
    def ok(self) -> bool:
        return not self.error

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"operation": self.operation}
        if self.error:
            data.update(error=self.error, error_code=self.error_code)
        elif self.not_configured:
            data["not_configured"] = True
        else:
            data["value"] = self.value
        if self.inferred:
            data["inferred"] = self.inferred
        return data


@dataclass
class BucketFacts:
    """Everything read about one bucket (the raw material of a snapshot)."""

    name: str
    region: str
    calls: dict[str, Fetched] = field(default_factory=dict)

    @property
    def vanished(self) -> bool:
        """The bucket was deleted after it was listed (every answer says NoSuchBucket)."""
        made = [f for f in self.calls.values() if not f.inferred]
        return bool(made) and all(f.error_code in MISSING_BUCKET_CODES for f in made)

    def to_dict(self) -> dict[str, Any]:
        return {name: fetched.to_dict() for name, fetched in self.calls.items()}


def call(
    client: Any,
    operation: str,
    *,
    account_name: str,
    resource: str,
    **params: Any,
) -> Fetched:
    """Make one read call and classify its outcome; never raises for AWS errors."""
    method, permission, not_configured_codes = OPERATIONS[operation]
    try:
        response = getattr(client, method)(**params)
    except AWS_ERRORS as exc:
        code = error_code(exc)
        if code in not_configured_codes:
            return Fetched(operation, not_configured=True)
        return Fetched(
            operation,
            error=describe_aws_error(
                exc, account_name=account_name, operation=permission, resource=resource
            ),
            error_code=code,
            transient=is_transient(exc),
        )
    response.pop("ResponseMetadata", None)
    return Fetched(operation, value=response)


def collect_bucket(
    client: Any,
    name: str,
    region: str,
    *,
    account_name: str,
    facts: Iterable[str] = ALL_FACTS,
) -> BucketFacts:
    """Read the requested facts of one bucket, one call each, skipping calls whose answer is
    already certain (documented S3 rules, noted in the snapshot):

    * Object Ownership BucketOwnerEnforced -> the bucket ACL holds only the owner's grant;
    * no bucket policy -> GetBucketPolicyStatus can only answer NoSuchBucketPolicy;
    * a bucket that was never versioned cannot have replication (it requires versioning
      Enabled) or Object Lock (it requires versioning, which can never be turned off again).
    """
    wanted = set(facts)
    result = BucketFacts(name=name, region=region)
    resource = f"bucket {name}"

    def fetch(fact: str, **extra: Any) -> None:
        result.calls[fact] = call(
            client,
            FACT_OPERATIONS[fact],
            account_name=account_name,
            resource=resource,
            Bucket=name,
            **extra,
        )

    # Order: the calls others depend on first.
    for fact in ("ownership", "policy", "bucket_pab", "logging", "versioning"):
        if fact in wanted:
            fetch(fact)
    if "acl" in wanted:
        if _owner_enforced(result.calls.get("ownership")):
            result.calls["acl"] = Fetched(
                "GetBucketAcl",
                value={"Grants": []},
                inferred=(
                    "Object Ownership is BucketOwnerEnforced: ACLs are disabled, and S3 refuses "
                    "that setting while the bucket ACL grants anyone but the owner"
                ),
            )
        else:
            fetch("acl")
    if "policy_status" in wanted:
        policy = result.calls.get("policy")
        if policy is not None and policy.not_configured:
            result.calls["policy_status"] = Fetched(
                "GetBucketPolicyStatus",
                not_configured=True,
                inferred="the bucket has no policy (GetBucketPolicy: NoSuchBucketPolicy)",
            )
        else:
            fetch("policy_status")
    for fact in ("encryption", "website", "lifecycle"):
        if fact in wanted:
            fetch(fact)
    versioning = result.calls.get("versioning")
    never_versioned = (
        versioning is not None and versioning.ok and not (versioning.value or {}).get("Status")
    )
    for fact in ("replication", "object_lock"):
        if fact not in wanted:
            continue
        if never_versioned:
            result.calls[fact] = Fetched(
                FACT_OPERATIONS[fact],
                not_configured=True,
                inferred="the bucket was never versioned, which this feature requires",
            )
        else:
            fetch(fact)
    return result


def _owner_enforced(fetched: Fetched | None) -> bool:
    if fetched is None or not fetched.ok or fetched.not_configured:
        return False
    rules = (fetched.value or {}).get("OwnershipControls", {}).get("Rules") or [{}]
    return rules[0].get("ObjectOwnership") == "BucketOwnerEnforced"


def bucket_region(client: Any, name: str, *, account_name: str) -> tuple[str | None, Fetched]:
    """The bucket's region from GetBucketLocation (None/empty means us-east-1)."""
    fetched = call(
        client,
        "GetBucketLocation",
        account_name=account_name,
        resource=f"bucket {name}",
        Bucket=name,
    )
    if not fetched.ok:
        return None, fetched
    constraint = (fetched.value or {}).get("LocationConstraint")
    # Legacy answers: None/"" is us-east-1, "EU" is eu-west-1.
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(
        constraint, constraint
    ), fetched


# --- s3control (account-level Block Public Access) -----------------------------------------


def fetch_account_pab(account: AwsAccount) -> Fetched:
    """Account-level Block Public Access, read with the account id verification stored."""
    operation = "GetPublicAccessBlock (s3control)"
    account_id = account.verified_account_id
    if not account_id:
        return Fetched(
            operation,
            error=(
                f"Account {account.name!r} has not been verified yet, so its AWS account id "
                "(needed to read the account-level Block Public Access settings) is unknown: "
                "verify the account first."
            ),
            error_code="NotVerified",
        )
    try:
        response = aws.client(account, "s3control").get_public_access_block(AccountId=account_id)
    except AWS_ERRORS as exc:
        code = error_code(exc)
        if code == "NoSuchPublicAccessBlockConfiguration":
            return Fetched(operation, not_configured=True)
        return Fetched(
            operation,
            error=describe_aws_error(
                exc,
                account_name=account.name,
                operation=ACCOUNT_PAB_PERMISSION,
                resource=f"AWS account {account_id}",
            ),
            error_code=code,
            transient=is_transient(exc),
        )
    response.pop("ResponseMetadata", None)
    return Fetched(operation, value=response)
