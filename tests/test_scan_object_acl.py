"""Object ACL scan: globs, the listing prefix, pagination, classification, flat memory."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest

from storage.scan import object_acl
from storage.scan.object_acl import (
    AUTHENTICATED_READ,
    CUSTOM,
    ERROR,
    PRIVATE,
    PUBLIC_READ,
    bounded_map,
    classify,
    iter_keys,
    key_matches,
    listing_prefix,
    scan_object_acls,
)
from tests.scan_helpers import ALL_USERS

OWNER = {"Grantee": {"Type": "CanonicalUser", "ID": "owner"}, "Permission": "FULL_CONTROL"}


@pytest.mark.parametrize(
    ("key", "only", "exclude", "expected"),
    [
        ("a.pdf", [], [], True),
        ("docs/a.pdf", ["*.pdf"], [], True),
        ("docs/a.jpg", ["*.pdf"], [], False),
        ("docs/a.pdf", ["docs/*"], ["*.pdf"], False),
        ("docs/A.PDF", ["*.pdf"], [], False),  # keys are case-sensitive
        ("img/a.jpg", ["docs/*", "img/*"], [], True),
    ],
)
def test_key_matches(key: str, only: list[str], exclude: list[str], expected: bool) -> None:
    assert key_matches(key, only, exclude) is expected


def test_listing_prefix() -> None:
    assert listing_prefix([]) == ""
    assert listing_prefix(["reports/2024/*.pdf"]) == "reports/2024/"
    assert listing_prefix(["reports/2024/*", "reports/2023/*"]) == "reports/202"
    assert listing_prefix(["*.pdf", "reports/*"]) == ""
    assert listing_prefix(["logs/a?c"]) == "logs/a"


def test_classify() -> None:
    public_read = {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}
    assert classify([OWNER], "owner") == (PRIVATE, [])
    assert classify([OWNER, public_read], "owner")[0] == PUBLIC_READ
    auth = {
        "Grantee": {"Type": "Group", "URI": ALL_USERS.replace("AllUsers", "AuthenticatedUsers")},
        "Permission": "READ",
    }
    assert classify([OWNER, auth], "owner")[0] == AUTHENTICATED_READ
    other = {"Grantee": {"Type": "CanonicalUser", "ID": "partner"}, "Permission": "READ"}
    assert classify([OWNER, other], "owner") == (CUSTOM, [other])


@pytest.mark.django_db
def test_scan_is_paginated_and_filtered(verified_account: Any, s3: Any, aws_faults: Any) -> None:
    from accounts import aws

    s3.create_bucket(Bucket="many-objects")
    for i in range(25):
        s3.put_object(
            Bucket="many-objects",
            Key=f"data/{i:02d}.csv",
            Body=b"x",
            ACL="public-read" if i % 5 == 0 else "private",
        )
    s3.put_object(Bucket="many-objects", Key="other/x.csv", Body=b"x", ACL="public-read")
    client = aws.client(verified_account, "s3")
    keys = list(iter_keys(client, "many-objects", only=["data/*"], page_size=10))
    assert len(keys) == 25
    assert aws_faults.count("ListObjectsV2") == 3  # pages of 10
    results = list(
        scan_object_acls(client, "many-objects", only=["data/*"], exclude=["*/1?.csv"], pool_size=4)
    )
    assert len(results) == 15
    assert sorted(r.key for r in results if r.mode == PUBLIC_READ) == [
        "data/00.csv",
        "data/05.csv",
        "data/20.csv",
    ]
    assert all(r.is_public for r in results if r.mode == PUBLIC_READ)


@pytest.mark.django_db
def test_unreadable_object_acl_is_an_error_not_private(
    verified_account: Any, s3: Any, aws_faults: Any
) -> None:
    from accounts import aws

    s3.create_bucket(Bucket="denied-objects")
    s3.put_object(Bucket="denied-objects", Key="secret", Body=b"x")
    aws_faults.fail("GetObjectAcl", "AccessDenied")
    (result,) = scan_object_acls(
        aws.client(verified_account, "s3"), "denied-objects", account_name="prod"
    )
    assert result.mode == ERROR
    assert "s3:GetObjectAcl" in result.error


@pytest.mark.django_db
def test_listing_denied_raises(verified_account: Any, s3: Any, aws_faults: Any) -> None:
    from accounts import aws

    s3.create_bucket(Bucket="no-list")
    aws_faults.fail("ListObjectsV2", "AccessDenied")
    with pytest.raises(object_acl.ObjectAclError, match="s3:ListBucket"):
        list(scan_object_acls(aws.client(verified_account, "s3"), "no-list"))


def test_bounded_map_keeps_memory_flat() -> None:
    """However many keys there are, at most 4 x pool size are pulled ahead of the results."""
    pulled = itertools.count()
    lock = threading.Lock()
    state = {"pulled": 0, "yielded": 0, "max_ahead": 0}

    def keys() -> Any:
        for i in range(10_000):
            with lock:
                state["pulled"] = next(pulled) + 1
                state["max_ahead"] = max(state["max_ahead"], state["pulled"] - state["yielded"])
            yield str(i)

    total = 0
    for _ in bounded_map(lambda key: key, keys(), pool_size=8):
        state["yielded"] += 1
        total += 1
    assert total == 10_000
    assert state["max_ahead"] <= 8 * 4 + 1


def test_bounded_map_limit() -> None:
    assert (
        len(list(bounded_map(lambda k: k, (str(i) for i in range(100)), pool_size=4, limit=7))) == 7
    )
