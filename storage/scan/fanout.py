"""The AWS side of a scan: list, locate, and fan the per-bucket checks out to a bounded pool.

Threads only talk to AWS: clients are made up front, one per region, and shared (botocore
clients are thread-safe, sessions are not). Nothing here touches the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from accounts import aws
from accounts.errors import describe_failure
from storage.scan.checks import (
    ERROR,
    CheckResult,
    Evaluation,
    evaluate,
    facts_needed,
    selected_checks,
)
from storage.scan.collect import BucketFacts, Fetched, collect_bucket, fetch_account_pab
from storage.scan.inventory import BucketRef, clients_by_region, fill_regions, list_buckets

if TYPE_CHECKING:
    from accounts.models import AwsAccount

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanOptions:
    patterns: tuple[str, ...] = ()
    skip: frozenset[str] = frozenset()
    pool_size: int = 0  # 0: settings.SCAN_POOL_SIZE

    @property
    def checks(self) -> list[str]:
        return selected_checks(self.skip)

    def workers(self) -> int:
        return max(1, self.pool_size or settings.SCAN_POOL_SIZE)


@dataclass
class BucketResult:
    """One bucket's scan: what was read and what it means."""

    account: AwsAccount
    name: str
    region: str
    created: datetime | None
    facts: BucketFacts
    evaluation: Evaluation
    scanned_at: datetime = field(default_factory=timezone.now)

    @property
    def checks(self) -> dict[str, dict[str, Any]]:
        return {n: r.to_dict() for n, r in self.evaluation.checks.items()}

    def snapshot_data(self, account_pab: Fetched | None) -> dict[str, Any]:
        data = self.facts.to_dict()
        if account_pab is not None:
            data["account_pab"] = account_pab.to_dict()
        return data


# --- the AWS part (no database) ------------------------------------------------------------


def _scan_one(
    client: Any,
    ref: BucketRef,
    account: AwsAccount,
    account_pab: Fetched,
    options: ScanOptions,
    account_name: str,
) -> BucketResult:
    checks = options.checks
    try:
        facts = collect_bucket(
            client,
            ref.name,
            ref.region or "",
            account_name=account_name,
            facts=facts_needed(checks),
        )
        if ref.region_error:
            facts.calls["location"] = Fetched("GetBucketLocation", error=ref.region_error)
        evaluation = evaluate(facts, account_pab, checks)
    except Exception as exc:  # a bug in one bucket must never stop the scan
        logger.exception("scanning bucket %s failed", ref.name)
        facts = BucketFacts(name=ref.name, region=ref.region or "")
        detail = describe_failure(exc, account_name=account_name)
        message = f"Internal error while checking this bucket ({detail})."
        evaluation = Evaluation(
            checks={c: CheckResult(ERROR, message, None) for c in checks},
            verdict=None,
            public=None,
            public_reasons=[f"unknown: {message}"],
        )
    return BucketResult(
        account=account,
        name=ref.name,
        region=ref.region or "",
        created=ref.created,
        facts=facts,
        evaluation=evaluation,
    )


@dataclass
class AccountScan:
    """The inputs of a fan-out, prepared on the calling thread."""

    account: AwsAccount
    refs: list[BucketRef]
    account_pab: Fetched
    clients: dict[str, Any]
    options: ScanOptions

    def results(self) -> Iterator[BucketResult]:
        """Per-bucket results, as they complete; at most 2 x pool size in flight."""
        workers = self.options.workers()
        window = workers * 2
        default_region = self.account.default_region
        name = self.account.name
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan") as pool:
            pending: set[Future[BucketResult]] = set()
            for ref in self.refs:
                if len(pending) >= window:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (f.result() for f in done)
                client = self.clients[ref.region or default_region]
                pending.add(
                    pool.submit(
                        _scan_one, client, ref, self.account, self.account_pab, self.options, name
                    )
                )
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)


def prepare(
    account: AwsAccount,
    options: ScanOptions,
    refs: list[BucketRef] | None = None,
    known_regions: dict[str, tuple[str, datetime | None]] | None = None,
) -> AccountScan:
    """List (unless `refs` is given), locate, read the account-level settings, make clients.

    `known_regions` (name -> (region, creation date)) saves GetBucketLocation for buckets seen
    before: a bucket never changes region, and the same creation date proves it is the same
    bucket, not a new one of the same name. Raises :class:`ListingError` when ListBuckets fails.
    """
    default_client = aws.client(account, "s3", region=account.default_region)
    if refs is None:
        refs = list_buckets(account, options.patterns, client=default_client)
    for ref in refs:
        known = (known_regions or {}).get(ref.name)
        if not ref.region and known and known[1] is not None and known[1] == ref.created:
            ref.region = known[0]
    fill_regions(account, refs, options.workers(), client=default_client)
    regions = {r.region for r in refs if r.region}
    if any(not r.region for r in refs):
        regions.add(account.default_region)
    return AccountScan(
        account=account,
        refs=refs,
        account_pab=fetch_account_pab(account),
        clients=clients_by_region(account, regions, known={account.default_region: default_client}),
        options=options,
    )


def scan_account_results(account: AwsAccount, options: ScanOptions) -> Iterator[BucketResult]:
    """Scan without saving anything (``manage.py scan --no-save``)."""
    yield from prepare(account, options).results()
