"""The check registry: each check registers itself with its name, label and severity.

A check is a function ``(inputs, verdict) -> CheckResult``. :func:`register` records it with
the facts it reads and the inputs that, when unreadable, make it "error" without running it:
that opening ("could not read X -> error naming X") is written here once, not in every check.
Registration order is the order of every report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.scan.checks.inputs import CheckInputs
from storage.scan.verdict import Verdict

PASS, FAIL, ERROR = "pass", "fail", "error"
HIGH, MEDIUM, LOW, INFO = "high", "medium", "low", "info"


@dataclass(frozen=True)
class CheckResult:
    status: str
    detail: str
    severity: str | None = None  # set for "fail" (and "error": what it would be if it failed)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "detail": self.detail, "severity": self.severity}


CheckFunction = Callable[[CheckInputs, Verdict], CheckResult]


@dataclass(frozen=True)
class Check:
    name: str
    label: str
    severity: str  # when it fails (a failing check may lower it, e.g. a neutralised grant)
    facts: frozenset[str]  # collect.FACT_OPERATIONS keys it reads
    unreadable: tuple[str, ...]  # inputs that, unreadable, make it "error" (CheckInputs names)
    function: CheckFunction

    def run(self, inputs: CheckInputs, verdict: Verdict) -> CheckResult:
        errors = [inputs.unreadable(source) for source in self.unreadable]
        if any(errors):
            return error(self.name, *errors)
        return self.function(inputs, verdict)


REGISTRY: dict[str, Check] = {}
# name -> (label, severity when it fails), in report order; filled by register().
CHECKS: dict[str, tuple[str, str]] = {}
# The facts (collect.FACT_OPERATIONS keys) each check reads.
FACTS_FOR_CHECK: dict[str, frozenset[str]] = {}


def register(
    name: str,
    label: str,
    severity: str,
    *,
    facts: set[str],
    unreadable: tuple[str, ...] = (),
) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator: add the function to the registry as check `name`."""

    def decorator(function: CheckFunction) -> CheckFunction:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} is registered twice")
        REGISTRY[name] = Check(name, label, severity, frozenset(facts), unreadable, function)
        CHECKS[name] = (label, severity)
        FACTS_FOR_CHECK[name] = frozenset(facts)
        return function

    return decorator


def error(check: str, *messages: str) -> CheckResult:
    unique = list(dict.fromkeys(m for m in messages if m))
    return CheckResult(ERROR, " ".join(unique), CHECKS[check][1])


def fail(check: str, detail: str, severity: str | None = None) -> CheckResult:
    return CheckResult(FAIL, detail, severity or CHECKS[check][1])


def passed(detail: str) -> CheckResult:
    return CheckResult(PASS, detail)
