"""Constants of the lifecycle tests: the bucket name and foreign rules of every kind."""

from __future__ import annotations

from typing import Any

BUCKET = "lc-data"

FOREIGN_RULES: list[dict[str, Any]] = [
    {
        "ID": "team-archive",
        "Filter": {
            "And": {
                "Prefix": "archive/",
                "Tags": [{"Key": "keep", "Value": "long"}, {"Key": "team", "Value": "x"}],
                "ObjectSizeGreaterThan": 131072,
                "ObjectSizeLessThan": 1073741824,
            }
        },
        "Status": "Enabled",
        "Transitions": [
            {"Days": 30, "StorageClass": "STANDARD_IA"},
            {"Days": 120, "StorageClass": "DEEP_ARCHIVE"},
        ],
        "NoncurrentVersionTransitions": [
            {"NoncurrentDays": 30, "StorageClass": "GLACIER", "NewerNoncurrentVersions": 2}
        ],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 400, "NewerNoncurrentVersions": 5},
    },
    {
        "Expiration": {"Date": "2031-01-01T00:00:00+00:00"},
        "ID": "legacy-prefix",
        "Prefix": "old/",
        "Status": "Disabled",
    },
    {
        "ID": "markers",
        "Filter": {},
        "Status": "Enabled",
        "Expiration": {"ExpiredObjectDeleteMarker": True},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3},
    },
    {
        "ID": "tagged",
        "Filter": {"Tag": {"Key": "tmp", "Value": "yes"}},
        "Status": "Enabled",
        "Transitions": [{"Date": "2032-06-01T00:00:00+00:00", "StorageClass": "GLACIER_IR"}],
    },
    {
        "ID": "big",
        "Filter": {"ObjectSizeGreaterThan": 1048576},
        "Status": "Enabled",
        "Transitions": [{"Days": 0, "StorageClass": "INTELLIGENT_TIERING"}],
    },
    {
        "ID": "small",
        "Filter": {"ObjectSizeLessThan": 1024},
        "Status": "Enabled",
        "Expiration": {"Days": 3},
    },
]
