"""The shape every fix shares: read, plan (the dry run), apply, audit, rescan.

A plan holds the exact requests that will be sent (operation + parameters, as boto3 takes
them) and the document before and after. Applying a plan sends exactly those requests. Reads
that fail for any reason but "not configured" stop the fix: the portal never writes over a
configuration it could not read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore import xform_name

from accounts import aws
from accounts.errors import AWS_ERRORS, describe_aws_error
from storage.scan.collect import Fetched, call

if TYPE_CHECKING:
    from accounts.models import AwsAccount
    from storage.models import Bucket

# Write operations -> the IAM action they need (for error messages).
WRITE_PERMISSIONS: dict[str, str] = {
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "PutBucketVersioning": "s3:PutBucketVersioning",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "PutBucketLogging": "s3:PutBucketLogging",
    "PutBucketPolicy": "s3:PutBucketPolicy",
    "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
    "PutObjectAcl": "s3:PutObjectAcl",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    # AWS documents DeleteBucketLifecycle as needing s3:PutLifecycleConfiguration.
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
}


class FixError(Exception):
    """The fix cannot be planned or applied; the message says why and what to do."""


class FixConflict(FixError):
    """The bucket changed between the dry run and the apply."""


@dataclass(frozen=True)
class Request:
    operation: str  # the S3 API name, e.g. "PutPublicAccessBlock"
    params: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"operation": self.operation, "params": self.params}

    def send(self, client: Any, *, account_name: str, resource: str) -> Any:
        try:
            return getattr(client, xform_name(self.operation))(**self.params)
        except AWS_ERRORS as exc:
            raise FixError(
                describe_aws_error(
                    exc,
                    account_name=account_name,
                    operation=WRITE_PERMISSIONS.get(self.operation, self.operation),
                    resource=resource,
                )
            ) from exc


@dataclass
class FixPlan:
    """A dry run: what would be sent, and the document before and after."""

    action: str
    bucket: str
    summary: str
    requests: list[Request] = field(default_factory=list)
    before: Any = None
    after: Any = None
    notes: list[str] = field(default_factory=list)
    noop: bool = False
    # For plans over many objects: how many requests in all, and whether `requests` is a sample.
    request_count: int | None = None
    truncated: bool = False
    # Fingerprint of the configuration read when planning (the "expected configuration"):
    # an apply re-reads and refuses when it differs. Empty for fixes that do not set it.
    fingerprint: str = ""
    # Fix-specific detail for pages and reports (e.g. which lifecycle rules change).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total_requests(self) -> int:
        return self.request_count if self.request_count is not None else len(self.requests)

    def digest(self) -> str:
        """Fingerprint of the state the plan was made from (to detect changes before apply)."""
        payload = json.dumps(
            {"before": self.before, "requests": [r.to_dict() for r in self.requests]}
            | ({"fingerprint": self.fingerprint} if self.fingerprint else {}),
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "bucket": self.bucket,
            "summary": self.summary,
            "noop": self.noop,
            "requests": [r.to_dict() for r in self.requests],
            "request_count": self.total_requests,
            "truncated": self.truncated,
            "before": self.before,
            "after": self.after,
            "notes": list(self.notes),
            "digest": self.digest(),
        } | ({"fingerprint": self.fingerprint, **self.extra} if self.fingerprint else {})


@dataclass
class FixContext:
    """Where a fix acts: the account, the bucket, and a client for the bucket's region."""

    account: AwsAccount
    bucket_name: str
    region: str
    client: Any
    bucket: Bucket | None = None  # the Bucket row, when there is one

    @classmethod
    def for_bucket(cls, bucket: Bucket) -> FixContext:
        account = bucket.account
        region = bucket.region or account.default_region
        return cls(
            account=account,
            bucket_name=bucket.name,
            region=region,
            client=aws.client(account, "s3", region=region),
            bucket=bucket,
        )

    @property
    def resource(self) -> str:
        return f"bucket {self.bucket_name}"

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket_name}"

    def read(self, operation: str, **params: Any) -> Fetched:
        """Read a setting; "not configured" is fine, any other error stops the fix."""
        fetched = call(
            self.client,
            operation,
            account_name=self.account.name,
            resource=self.resource,
            Bucket=self.bucket_name,
            **params,
        )
        if not fetched.ok:
            raise FixError(f"{fetched.error} The portal changes nothing it could not read first.")
        return fetched

    def send(self, request: Request) -> Any:
        return request.send(self.client, account_name=self.account.name, resource=self.resource)


class Fix:
    """One remediation. Subclasses set the names and implement plan()."""

    name: str = ""
    label: str = ""
    description: str = ""
    fixes_check: str = ""  # the check whose failure this fix addresses
    streaming = False  # True: applied object by object, not from a precomputed plan

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {}

    def plan(self, ctx: FixContext, params: dict[str, Any], *, limit: int | None = None) -> FixPlan:
        raise NotImplementedError

    def apply(self, ctx: FixContext, plan: FixPlan) -> int:
        for request in plan.requests:
            ctx.send(request)
        return len(plan.requests)

    def audit_action(self, plan: FixPlan) -> str:
        """The audit event's dotted action name."""
        return f"storage.fix.{self.name}"

    def conflict_message(self, plan: FixPlan) -> str:
        return (
            "The bucket changed since the dry run you reviewed; review the new dry run and "
            "apply again."
        )

    def after_apply(self, ctx: FixContext, plan: FixPlan, *, actor: Any, event: Any) -> None:
        """Record the applied plan in the fix's own tables (same transaction as the audit)."""

    def audit_documents(self, plan: FixPlan) -> tuple[dict[str, Any], dict[str, Any]]:
        before = {"bucket": plan.bucket, "document": plan.before}
        after = {
            "bucket": plan.bucket,
            "document": plan.after,
            "requests": [r.to_dict() for r in plan.requests],
        }
        return before, after
