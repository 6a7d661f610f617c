"""Fixtures of the lifecycle tests (``pytest_plugins = ["tests.lifecycle_fixtures"]``).

* ``lc_bucket``: a moto bucket of tenant A's account with its Bucket row.
* ``s3_calls``: every S3 call the portal makes, with its parameters (what was really sent).
* ``foreign_rules``: foreign rules of every kind, in S3's shape, as a Get answers them.
* ``read_timeout``: make GetBucketLifecycleConfiguration time out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from tests.lifecycle_helpers import BUCKET, FOREIGN_RULES

pytest_plugins = ["tests.scan_fixtures"]


@dataclass
class S3Calls:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def record(self, params: Any, model: Any, **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [params for op, params in self.calls if op == operation]

    @property
    def writes(self) -> list[str]:
        return [op for op, _ in self.calls if op.startswith(("Put", "Delete"))]


@pytest.fixture
def s3_calls(monkeypatch: pytest.MonkeyPatch, aws_faults: Any) -> S3Calls:
    """Records parameters as the portal passed them (before aws_faults answers any call)."""
    from accounts import aws

    recorder = S3Calls()
    faulty_client = aws.client

    def client(account: Any, service: str, **kwargs: Any) -> Any:
        made = faulty_client(account, service, **kwargs)
        made.meta.events.register_first("before-parameter-build.s3.*", recorder.record)
        return made

    monkeypatch.setattr(aws, "client", client)
    return recorder


@pytest.fixture
def lc_bucket(account_a: Any, s3: Any) -> Any:
    from storage.models import Bucket

    s3.create_bucket(Bucket=BUCKET)
    return Bucket.objects.create(account=account_a, name=BUCKET, region="us-east-1")


@pytest.fixture
def lc_bucket_b(account_b: Any, s3: Any) -> Any:
    from storage.models import Bucket

    s3.create_bucket(Bucket="lc-other-tenant")
    return Bucket.objects.create(account=account_b, name="lc-other-tenant", region="us-east-1")


@pytest.fixture
def foreign_rules() -> list[dict[str, Any]]:
    import copy

    return copy.deepcopy(FOREIGN_RULES)


@pytest.fixture
def read_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    from accounts import aws

    hits: list[int] = []
    real = aws.client

    def raise_timeout(model: Any, **_: Any) -> None:
        if model.name == "GetBucketLifecycleConfiguration":
            hits.append(1)
            raise ReadTimeoutError(endpoint_url="https://s3.amazonaws.com/lc-data")

    def client(account: Any, service: str, **kwargs: Any) -> Any:
        made = real(account, service, **kwargs)
        made.meta.events.register_first("before-call.s3.*", raise_timeout)
        return made

    monkeypatch.setattr(aws, "client", client)
    yield hits
