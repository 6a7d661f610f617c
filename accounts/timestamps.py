"""A fast path for the timestamps botocore parses in every S3 listing.

botocore hands every timestamp to dateutil's general parser (~100 us each): a 100,000-object
listing spent more client time parsing LastModified than everything else together. S3 and the
other services we call send ISO 8601 in UTC ("2026-12-01T13:40:29.000Z"); those are parsed with
`datetime.fromisoformat`, to the same instant botocore gives, in UTC. Anything else (offsets,
RFC 822 headers, epoch numbers) goes to botocore's own parser.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.utils import parse_timestamp

if TYPE_CHECKING:
    import boto3


def parse_aws_timestamp(value: Any) -> datetime:
    """botocore's `parse_timestamp`, with a fast path for "YYYY-MM-DDTHH:MM:SS[.fff]Z"."""
    if isinstance(value, str) and len(value) >= 20 and value[10] == "T" and value[-1] == "Z":
        try:
            return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
        except ValueError:
            pass
    return parse_timestamp(value)


def use_fast_timestamps(session: boto3.Session) -> boto3.Session:
    """Make every client of `session` parse response timestamps with `parse_aws_timestamp`."""
    factory = session._session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=parse_aws_timestamp)
    return session
