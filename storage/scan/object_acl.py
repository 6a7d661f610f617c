"""Object ACL scan of one bucket (s3tk's scan-object-acl, done right).

Keys come from ListObjectsV2 page by page; GetObjectAcl calls run in a bounded pool with a
bounded number in flight, and results are yielded as they arrive, so memory stays flat however
many objects the bucket holds. ``--only``/``--except`` globs filter keys; the literal part of
an ``--only`` pattern before its first wildcard narrows the listing with a Prefix.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TypeVar

from accounts.errors import AWS_ERRORS, describe_aws_error, error_code
from storage.scan.acl import ALL_USERS_URI, AUTHENTICATED_USERS_URI, analyze_acl

PRIVATE = "private"
PUBLIC_READ = "public-read"
PUBLIC_READ_WRITE = "public-read-write"
AUTHENTICATED_READ = "authenticated-read"
CUSTOM = "custom"
ERROR = "error"
ACLS_DISABLED_CODES = frozenset({"AccessControlListNotSupported"})
T = TypeVar("T")


class ObjectAclError(Exception):
    """The listing itself failed: nothing more can be scanned."""


@dataclass(frozen=True)
class ObjectAcl:
    key: str
    mode: str  # private / public-read / public-read-write / authenticated-read / custom / error
    grants: tuple[dict[str, Any], ...] = ()  # the grants other than the owner's FULL_CONTROL
    public_reasons: tuple[str, ...] = ()
    error: str = ""

    @property
    def is_public(self) -> bool:
        return bool(self.public_reasons)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "acl": self.mode, "public": self.is_public}
        if self.public_reasons:
            data["public_reasons"] = list(self.public_reasons)
        if self.grants:
            data["grants"] = list(self.grants)
        if self.error:
            data["error"] = self.error
        return data


def key_matches(key: str, only: Iterable[str] = (), exclude: Iterable[str] = ()) -> bool:
    only, exclude = list(only), list(exclude)
    if only and not any(fnmatch.fnmatchcase(key, p) for p in only):
        return False
    return not any(fnmatch.fnmatchcase(key, p) for p in exclude)


def listing_prefix(only: Iterable[str]) -> str:
    """The longest literal prefix shared by every --only pattern ('' when there is none)."""
    prefixes = []
    for pattern in only:
        literal = pattern
        for index, char in enumerate(pattern):
            if char in "*?[":
                literal = pattern[:index]
                break
        prefixes.append(literal)
    if not prefixes:
        return ""
    shared = prefixes[0]
    for prefix in prefixes[1:]:
        while not prefix.startswith(shared):
            shared = shared[:-1]
    return shared


def iter_keys(
    client: Any,
    bucket: str,
    *,
    only: Iterable[str] = (),
    exclude: Iterable[str] = (),
    account_name: str = "",
    page_size: int = 1000,
) -> Iterator[str]:
    only, exclude = list(only), list(exclude)
    params: dict[str, Any] = {"Bucket": bucket, "PaginationConfig": {"PageSize": page_size}}
    prefix = listing_prefix(only)
    if prefix:
        params["Prefix"] = prefix
    try:
        for page in client.get_paginator("list_objects_v2").paginate(**params):
            for item in page.get("Contents", []):
                if key_matches(item["Key"], only, exclude):
                    yield item["Key"]
    except AWS_ERRORS as exc:
        raise ObjectAclError(
            describe_aws_error(
                exc,
                account_name=account_name,
                operation="s3:ListBucket",
                resource=f"bucket {bucket}",
            )
        ) from exc


def classify(
    grants: list[dict[str, Any]], owner_id: str | None
) -> tuple[str, list[dict[str, Any]]]:
    """The canned ACL a grant list amounts to, and the grants beyond the owner's."""
    others = [
        g
        for g in grants
        if not (
            (g.get("Grantee") or {}).get("ID") == owner_id and g.get("Permission") == "FULL_CONTROL"
        )
    ]
    if not others:
        return PRIVATE, others
    shape = sorted(((g.get("Grantee") or {}).get("URI"), g.get("Permission")) for g in others)
    if shape == [(ALL_USERS_URI, "READ")]:
        return PUBLIC_READ, others
    if shape == [(ALL_USERS_URI, "READ"), (ALL_USERS_URI, "WRITE")]:
        return PUBLIC_READ_WRITE, others
    if shape == [(AUTHENTICATED_USERS_URI, "READ")]:
        return AUTHENTICATED_READ, others
    return CUSTOM, others


def read_object_acl(client: Any, bucket: str, key: str, account_name: str = "") -> ObjectAcl:
    try:
        response = client.get_object_acl(Bucket=bucket, Key=key)
    except AWS_ERRORS as exc:
        return ObjectAcl(
            key=key,
            mode=ERROR,
            error=describe_aws_error(
                exc,
                account_name=account_name,
                operation="s3:GetObjectAcl",
                resource=f"s3://{bucket}/{key}",
            ),
        )
    grants = response.get("Grants", [])
    mode, others = classify(grants, (response.get("Owner") or {}).get("ID"))
    public = tuple(g.reason for g in analyze_acl(grants, resource_kind="object"))
    return ObjectAcl(key=key, mode=mode, grants=tuple(others), public_reasons=public)


def bounded_map(
    fn: Callable[[str], T], keys: Iterable[str], *, pool_size: int, limit: int | None = None
) -> Iterator[T]:
    """fn(key) for every key, concurrently, yielded as results arrive (order not kept).

    At most ``4 x pool_size`` keys are in flight, so memory does not grow with the number of
    keys; ``limit`` stops after that many keys."""
    window = pool_size * 4
    submitted = 0
    with ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="object-acl") as pool:
        pending: set[Future[T]] = set()
        for key in keys:
            if limit is not None and submitted >= limit:
                break
            if len(pending) >= window:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
            pending.add(pool.submit(fn, key))
            submitted += 1
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in done)


def scan_object_acls(
    client: Any,
    bucket: str,
    *,
    only: Iterable[str] = (),
    exclude: Iterable[str] = (),
    pool_size: int = 16,
    account_name: str = "",
    limit: int | None = None,
) -> Iterator[ObjectAcl]:
    """Every matching object's ACL, as results arrive (order not kept)."""
    keys = iter_keys(client, bucket, only=only, exclude=exclude, account_name=account_name)
    yield from bounded_map(
        lambda key: read_object_acl(client, bucket, key, account_name),
        keys,
        pool_size=pool_size,
        limit=limit,
    )


def acls_disabled(exc: BaseException) -> bool:
    return error_code(exc) in ACLS_DISABLED_CODES
