"""Pages cost a constant number of queries, whatever the number of buckets and findings."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AwsAccount
from storage.models import Bucket, Finding

pytestmark = pytest.mark.django_db

PAGES = ["/", "/buckets/", "/buckets/findings/", "/admin/storage/finding/", "/admin/"]


def _add_buckets(account: AwsAccount, start: int, stop: int) -> None:
    buckets = Bucket.objects.bulk_create(
        Bucket(account=account, name=f"b-{i:04d}", checks={"acl": {"status": "fail"}})
        for i in range(start, stop)
    )
    Finding.objects.bulk_create(
        Finding(bucket=b, check_name=f"c{n}", severity="high", detail="x")
        for b in buckets
        for n in range(3)
    )


def _counts(client: Any) -> dict[str, int]:
    counts = {}
    for page in PAGES:
        client.get(page)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(page)
        assert response.status_code == 200, page
        counts[page] = len(ctx.captured_queries)
    return counts


def test_query_counts_do_not_grow_with_buckets(personas: Any) -> None:
    account = AwsAccount.objects.create(tenant=personas.tenant_a, name="acct")
    client = personas.client_for("alice")
    _add_buckets(account, 0, 5)
    few = _counts(client)
    _add_buckets(account, 5, 120)
    many = _counts(client)
    assert few == many
    # The admin index asks each model admin for permissions: roles are read once per request.
    assert many["/admin/"] <= 8, many  # was 72 (one query per model per permission check)
