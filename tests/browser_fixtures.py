"""Fixtures for the object-browser tests (import with `from tests.browser_fixtures import *`).

Buckets live in in-process moto (conftest's `moto` fixture); each has a Bucket row as a scan
would have made it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

__all__ = [
    "AWKWARD_KEYS",
    "JSON",
    "bucket_a",
    "bucket_b",
    "browse",
    "object_page",
    "post",
    "s3",
    "versioned_a",
]

JSON = {"HTTP_ACCEPT": "application/json"}

# Every kind of key the issue names; S3 takes any UTF-8 up to 1,024 bytes
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
AWKWARD_KEYS = [
    "r\u00e9sum\u00e9 \u65e5\u672c\u8a9e \U0001f600.txt",
    "with space/and more spaces.txt",
    "a+b+c.txt",
    "100%/50%25 done.txt",
    "hash#tag.txt",
    "what?.txt",
    "a&b=c.txt",
    "quote'single\".txt",
    "<script>alert(1)</script>.html",
    "/leading/slash.txt",
    "a//b",
    "trailing/",
    "../../etc/passwd",
    "dots/../x.txt",
    "k" * 1024,
    "\u00e9" * 512,  # 1,024 bytes of two-byte characters
]


@pytest.fixture
def s3(account_a: Any) -> Any:
    from accounts import aws

    return aws.client(account_a, "s3")


def _bucket(account: Any, name: str, s3: Any) -> Any:
    from storage.models import Bucket

    s3.create_bucket(Bucket=name)
    return Bucket.objects.create(account=account, name=name, region="us-east-1")


@pytest.fixture
def bucket_a(account_a: Any, s3: Any) -> Any:
    return _bucket(account_a, "data-a", s3)


@pytest.fixture
def versioned_a(account_a: Any, s3: Any) -> Any:
    bucket = _bucket(account_a, "versioned-a", s3)
    s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"})
    return bucket


@pytest.fixture
def bucket_b(account_b: Any) -> Any:
    from accounts import aws

    return _bucket(account_b, "data-b", aws.client(account_b, "s3"))


def browse(client: Client, bucket: Any, **params: Any) -> Any:
    url = reverse("browser:objects", args=[bucket.pk])
    return client.get(f"{url}?{urlencode(params)}" if params else url, **JSON)


def object_page(client: Client, bucket: Any, key: str, version: str = "", json: bool = True) -> Any:
    url = reverse("browser:object", args=[bucket.pk])
    query = urlencode({"key": key, **({"version": version} if version else {})})
    return client.get(f"{url}?{query}", **(JSON if json else {}))


def post(client: Client, name: str, bucket: Any, data: dict[str, Any], json: bool = True) -> Any:
    return client.post(reverse(f"browser:{name}", args=[bucket.pk]), data, **(JSON if json else {}))
