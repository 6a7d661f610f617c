"""Helpers of the scan tests (plain functions and constants; the fixtures are in
tests/scan_fixtures.py, loaded for every module by tests/conftest.py)."""

from __future__ import annotations

import json
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
ALL_FLAGS = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def public_policy(
    bucket: str, *, sid: str = "Public", condition: Any = None, principal: Any = "*"
) -> str:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    if condition is not None:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def scan_one(account: Any, name: str, **options: Any) -> Any:
    """Scan one bucket without saving; returns its BucketResult."""
    from storage.scan.runner import ScanOptions, scan_account_results

    results = list(scan_account_results(account, ScanOptions(patterns=(name,), **options)))
    assert len(results) == 1, [r.name for r in results]
    return results[0]


def full_scan(account: Any, **run_kwargs: Any) -> Any:
    """A saved scan of the whole account; returns the finished ScanRun."""
    from storage.scan.runner import create_run, execute

    run = create_run(account, trigger="cli", **run_kwargs)
    execute(run)
    run.refresh_from_db()
    return run
