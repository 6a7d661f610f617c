"""Fixtures of the scan tests (a plugin of the whole suite: `pytest_plugins` in conftest.py).

* ``verified_account``: tenant A's AWS account, verified (moto's account id).
* ``s3``/``s3control``: boto3 clients on the in-process moto.
* ``aws_faults``: make one API call answer an error (or a canned response) for every client
  the portal builds, optionally for one bucket only, without touching moto.
* ``make_bucket``: create a bucket with a posture in one call.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from django.utils import timezone

from tests.scan_helpers import ACCOUNT_ID

# HTTP status of the injected errors, as AWS answers them.
STATUS_FOR_CODE = {
    "AccessDenied": 403,
    "SlowDown": 503,
    "ThrottlingException": 400,
    "NoSuchBucket": 404,
    "InternalError": 500,
}


@pytest.fixture
def verified_account(account_a: Any) -> Any:
    account_a.verified_account_id = ACCOUNT_ID
    account_a.verified_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/portal"
    account_a.last_verified_at = timezone.now()
    account_a.save()
    return account_a


@pytest.fixture
def verified_account_b(account_b: Any) -> Any:
    account_b.verified_account_id = ACCOUNT_ID
    account_b.last_verified_at = timezone.now()
    account_b.save()
    return account_b


@pytest.fixture
def s3(moto: None) -> Any:
    return boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def s3control(moto: None) -> Any:
    return boto3.client("s3control", region_name="us-east-1")


@pytest.fixture
def make_bucket(s3: Any) -> Callable[..., str]:
    def make(
        name: str,
        *,
        region: str = "us-east-1",
        acl: str | None = None,
        policy: str | dict[str, Any] | None = None,
        pab: dict[str, bool] | None = None,
        ownership: str | None = None,
        versioning: bool = False,
        encryption: dict[str, Any] | None = None,
        object_lock: bool = False,
    ) -> str:
        params: dict[str, Any] = {"Bucket": name}
        if region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        if object_lock:
            params["ObjectLockEnabledForBucket"] = True
        s3.create_bucket(**params)
        if acl:
            s3.put_bucket_acl(Bucket=name, ACL=acl)
        if policy is not None:
            text = policy if isinstance(policy, str) else json.dumps(policy)
            s3.put_bucket_policy(Bucket=name, Policy=text)
        if pab is not None:
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=pab)
        if ownership:
            s3.put_bucket_ownership_controls(
                Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]}
            )
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if encryption is not None:
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=encryption)
        return name

    return make


@dataclass
class _Fault:
    operation: str
    bucket: str | None
    code: str = ""
    message: str = ""
    response: dict[str, Any] | None = None
    calls: int = 0


@dataclass
class AwsFaults:
    """Answer chosen calls with an error or a canned response, for every client the portal
    builds through accounts.aws.client (registered on each client's event system)."""

    faults: list[_Fault] = field(default_factory=list)
    seen: list[tuple[str, str | None]] = field(default_factory=list)

    def fail(
        self, operation: str, code: str, *, bucket: str | None = None, message: str = ""
    ) -> _Fault:
        fault = _Fault(operation, bucket, code=code, message=message or f"injected {code}")
        self.faults.append(fault)
        return fault

    def respond(
        self, operation: str, response: dict[str, Any], *, bucket: str | None = None
    ) -> _Fault:
        fault = _Fault(operation, bucket, response=response)
        self.faults.append(fault)
        return fault

    def count(self, operation: str, bucket: str | None = None) -> int:
        return sum(1 for op, b in self.seen if op == operation and (bucket is None or b == bucket))

    def remember_bucket(self, params: Any, context: Any = None, **_: Any) -> None:
        # before-call sees the serialised request; the API parameters are seen here.
        if isinstance(context, dict) and isinstance(params, dict):
            context["fault_bucket"] = params.get("Bucket")

    def handler(self, model: Any, context: Any = None, **_: Any) -> Any:
        bucket = context.get("fault_bucket") if isinstance(context, dict) else None
        self.seen.append((model.name, bucket))
        for fault in self.faults:
            if fault.operation != model.name or (fault.bucket and fault.bucket != bucket):
                continue
            fault.calls += 1
            if fault.response is not None:
                return SimpleNamespace(status_code=200, headers={}), {
                    **fault.response,
                    "ResponseMetadata": {"HTTPStatusCode": 200},
                }
            status = STATUS_FOR_CODE.get(fault.code, 400)
            return SimpleNamespace(status_code=status, headers={}), {
                "Error": {"Code": fault.code, "Message": fault.message},
                "ResponseMetadata": {"HTTPStatusCode": status},
            }
        return None


@pytest.fixture
def aws_faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsFaults]:
    from accounts import aws

    faults = AwsFaults()
    real_client = aws.client

    def client(account: Any, service: str, **kwargs: Any) -> Any:
        made = real_client(account, service, **kwargs)
        made.meta.events.register_first("before-parameter-build.*.*", faults.remember_bucket)
        made.meta.events.register_first("before-call.*.*", faults.handler)
        return made

    monkeypatch.setattr(aws, "client", client)
    yield faults
