"""Discover an account's buckets: paginated ListBuckets, each bucket's region, one client per
region.

ListBuckets is asked for pages (MaxBuckets), which also makes AWS include each bucket's
region (``BucketRegion``); where an endpoint leaves it out (older S3-compatible stores, moto),
GetBucketLocation fills it in, concurrently.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from accounts import aws
from accounts.errors import AWS_ERRORS, describe_aws_error, is_transient
from storage.scan.collect import LIST_BUCKETS_PERMISSION, Fetched, bucket_region

if TYPE_CHECKING:
    from accounts.models import AwsAccount

LIST_PAGE_SIZE = 10_000  # the largest page ListBuckets returns


class ListingError(Exception):
    """ListBuckets failed: the account cannot be scanned at all."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass
class BucketRef:
    name: str
    region: str | None
    created: datetime | None
    region_error: str = ""


def matches(name: str, patterns: Iterable[str]) -> bool:
    """A bucket name against names or globs (no pattern: everything matches)."""
    patterns = list(patterns)
    return not patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns)


def iter_buckets(client: Any, *, account_name: str) -> Iterator[BucketRef]:
    """Every bucket of the account, page by page."""
    try:
        paginator = client.get_paginator("list_buckets")
        for page in paginator.paginate(PaginationConfig={"PageSize": LIST_PAGE_SIZE}):
            for item in page.get("Buckets", []):
                yield BucketRef(
                    name=item["Name"],
                    region=item.get("BucketRegion") or None,
                    created=item.get("CreationDate"),
                )
    except AWS_ERRORS as exc:
        raise ListingError(
            describe_aws_error(exc, account_name=account_name, operation=LIST_BUCKETS_PERMISSION),
            transient=is_transient(exc),
        ) from exc


def list_buckets(
    account: AwsAccount, patterns: Iterable[str] = (), *, client: Any = None
) -> list[BucketRef]:
    """The account's buckets whose names match `patterns` (all when none)."""
    patterns = list(patterns)
    client = client or aws.client(account, "s3")
    return [b for b in iter_buckets(client, account_name=account.name) if matches(b.name, patterns)]


def fill_regions(
    account: AwsAccount, buckets: list[BucketRef], pool_size: int, *, client: Any = None
) -> list[Fetched]:
    """GetBucketLocation for the buckets ListBuckets gave no region for (concurrently)."""
    missing = [b for b in buckets if not b.region]
    if not missing:
        return []
    client = client or aws.client(account, "s3")  # made before the threads; shared by them

    def locate(ref: BucketRef) -> Fetched:
        region, fetched = bucket_region(client, ref.name, account_name=account.name)
        if region:
            ref.region = region
        else:
            ref.region_error = fetched.error
        return fetched

    with ThreadPoolExecutor(max_workers=max(1, min(pool_size, len(missing)))) as pool:
        return list(pool.map(locate, missing))


def clients_by_region(
    account: AwsAccount, regions: Iterable[str], *, known: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One S3 client per region, made before any thread starts (sessions are not thread-safe;
    clients are). `known` holds clients already made (reused, not rebuilt)."""
    clients = dict(known or {})
    for region in sorted(set(regions)):
        if region not in clients:
            clients[region] = aws.client(account, "s3", region=region)
    return clients
