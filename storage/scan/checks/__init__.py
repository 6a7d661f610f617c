"""Turn what was read about a bucket (:mod:`storage.scan.collect`) into checks.

Each check is "pass", "fail" or "error", with a detail a person can act on and, when it fails,
a severity. Rules that keep the results honest:

* "not configured" (NoSuch*Configuration) is an answer, not an error;
* an error is never "pass": a check that depends on an unreadable setting is "error" unless
  the answer cannot depend on it (e.g. the bucket's own Block Public Access already blocks
  everything, so an unreadable account-level setting does not matter);
* the public verdict is the pure engine in :mod:`storage.scan.verdict`; unreadable blocks are
  treated as "off" (fail safe), unreadable grants make the verdict "unknown" unless a known
  block neutralises them anyway.

Pure: no AWS calls, no database.

Each check lives in :mod:`.exposure` or :mod:`.configuration` and registers itself
(:func:`.registry.register`) with its name, label, severity, the facts it reads and the inputs
whose unreadability makes it "error"; :func:`evaluate` runs the registered checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Importing the check modules registers their checks; their order is the report order
# (tests/test_check_registry.py), so the import sorter must leave it alone.
# isort: off
from storage.scan.checks import exposure  # noqa: F401
from storage.scan.checks import configuration  # noqa: F401

# isort: on
from storage.scan.checks.inputs import read_inputs
from storage.scan.checks.registry import (
    CHECKS,
    ERROR,
    FACTS_FOR_CHECK,
    FAIL,
    HIGH,
    INFO,
    LOW,
    MEDIUM,
    PASS,
    REGISTRY,
    CheckResult,
    error,
)
from storage.scan.collect import BucketFacts, Fetched
from storage.scan.verdict import Verdict, compute_verdict

__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "ERROR",
    "FACTS_FOR_CHECK",
    "FAIL",
    "HIGH",
    "INFO",
    "LOW",
    "MEDIUM",
    "PASS",
    "CheckResult",
    "Evaluation",
    "evaluate",
    "facts_needed",
    "label",
    "selected_checks",
]

CHECK_NAMES: tuple[str, ...] = tuple(CHECKS)


def label(check: str) -> str:
    return CHECKS.get(check, (check, ""))[0]


def selected_checks(skip: Iterable[str] = ()) -> list[str]:
    skipped = set(skip)
    return [c for c in CHECK_NAMES if c not in skipped]


def facts_needed(checks: Iterable[str]) -> set[str]:
    needed: set[str] = set()
    for check in checks:
        needed |= FACTS_FOR_CHECK[check]
    # The verdict (the `public` field of every report) always needs its inputs.
    return needed | FACTS_FOR_CHECK["public"]


@dataclass
class Evaluation:
    """All checks of one bucket, and the effective verdict."""

    checks: dict[str, CheckResult]
    verdict: Verdict | None
    public: bool | None  # None: could not be determined
    public_reasons: list[str] = field(default_factory=list)

    def failing(self) -> dict[str, CheckResult]:
        return {n: r for n, r in self.checks.items() if r.status == FAIL}

    def verdict_dict(self) -> dict[str, Any]:
        data = self.verdict.to_dict() if self.verdict else {}
        data["determined"] = self.public is not None
        return data


_PUBLIC_BY_STATUS: dict[str, bool | None] = {FAIL: True, ERROR: None, PASS: False}


def evaluate(
    facts: BucketFacts, account_pab: Fetched | None, checks: Iterable[str] = CHECK_NAMES
) -> Evaluation:
    wanted = list(checks)
    if facts.vanished:
        gone = next(iter(facts.calls.values())).error
        return Evaluation(checks={c: error(c, gone) for c in wanted}, verdict=None, public=None)
    inputs = read_inputs(facts, account_pab)
    verdict = compute_verdict(
        acl_grants=inputs.acl_grants,
        policy=inputs.policy_text if inputs.analysis is not None else None,
        bucket_pab=inputs.bucket_pab,
        account_pab=inputs.account_pab,
        object_ownership=inputs.ownership,
        aws_policy_status_is_public=inputs.aws_is_public if inputs.analysis else None,
    )
    # The public check always runs: every report carries the verdict.
    public_result = REGISTRY["public"].run(inputs, verdict)
    public = _PUBLIC_BY_STATUS[public_result.status]
    results: dict[str, CheckResult] = {}
    for check in wanted:
        if check == "public":
            results[check] = public_result
        else:
            results[check] = REGISTRY[check].run(inputs, verdict)
    reasons = list(verdict.reasons)
    if public is None:
        reasons = [f"unknown: {public_result.detail}"]
    return Evaluation(checks=results, verdict=verdict, public=public, public_reasons=reasons)
