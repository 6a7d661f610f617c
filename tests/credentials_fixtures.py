"""Fixtures for the credentials tests: tenant A's buckets (as a scan would have recorded them)."""

from __future__ import annotations

from typing import Any

import pytest

OWN_BUCKETS = ["alpha-data", "beta-logs", "gamma-other"]


@pytest.fixture
def cred_buckets(account_a: Any, account_b: Any) -> list[str]:
    from storage.models import Bucket

    for name in OWN_BUCKETS:
        Bucket.objects.create(account=account_a, name=name)
    Bucket.objects.create(account=account_b, name="tenant-b-bucket")
    return OWN_BUCKETS
