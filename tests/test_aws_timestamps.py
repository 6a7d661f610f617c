"""Response timestamps: the fast ISO 8601 path gives exactly what botocore's parser gives."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.utils import parse_timestamp

from accounts import aws
from accounts.timestamps import parse_aws_timestamp


def _random_instants(count: int) -> list[datetime]:
    rng = random.Random(20261201)
    start = datetime(1970, 1, 1, tzinfo=UTC)
    span = int((datetime(2100, 1, 1, tzinfo=UTC) - start).total_seconds())
    return [
        start + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(1_000_000))
        for _ in range(count)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-01T13:40:29.000Z",  # S3's LastModified in listings
        "2026-12-01T13:40:29Z",
        "2026-12-01T13:40:29.123456Z",
        "2026-12-01T13:40:29.1234567Z",  # more digits than Python keeps
        "2024-02-29T23:59:59.999Z",
        "Tue, 01 Dec 2026 13:40:29 GMT",  # RFC 822: HTTP headers (HeadObject's LastModified)
        "2026-12-01T13:40:29+02:00",  # an offset: botocore's parser
        "2026-12-01T13:40:29.000-05:00",
        "1700000000",  # epoch as text
    ],
)
def test_same_instant_as_botocore(text: str) -> None:
    assert parse_aws_timestamp(text) == parse_timestamp(text)
    assert parse_aws_timestamp(text).utcoffset() == parse_timestamp(text).utcoffset()


def test_same_instant_as_botocore_for_many_timestamps() -> None:
    for instant in _random_instants(2000):
        for text in (
            instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03}Z",
            instant.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ):
            fast = parse_aws_timestamp(text)
            assert fast == parse_timestamp(text), text
            assert fast.utcoffset() == timedelta(0)


def test_epoch_numbers_and_bad_text_go_to_botocore() -> None:
    assert parse_aws_timestamp(1700000000) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    with pytest.raises(ValueError, match="Invalid timestamp"):
        parse_aws_timestamp("2026-13-45T99:00:00Z")  # not a date: botocore's error, unchanged


def test_portal_clients_parse_listings_with_the_fast_path(account_a: Any) -> None:
    """A listing through accounts.aws gives the same LastModified as a plain boto3 client, and
    the parser behind it (built per response from the session's factory) is the fast one."""
    import boto3

    s3 = aws.client(account_a, "s3")
    s3.create_bucket(Bucket="stamps")
    for i in range(3):
        s3.put_object(Bucket="stamps", Key=f"k{i}", Body=b"x")
    ours = s3.list_objects_v2(Bucket="stamps")["Contents"]
    plain = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket="stamps")
    assert [o["LastModified"] for o in ours] == [o["LastModified"] for o in plain["Contents"]]
    assert all(o["LastModified"].utcoffset() == timedelta(0) for o in ours)
    factory = s3._endpoint._response_parser_factory
    assert factory.create_parser("rest-xml")._timestamp_parser is parse_aws_timestamp
