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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from storage.scan.collect import BucketFacts, Fetched
from storage.scan.policy import PolicyAnalysis, PolicyParseError, analyze_policy
from storage.scan.verdict import (
    BUCKET_OWNER_ENFORCED,
    IGNORE_PUBLIC_ACLS,
    PAB_FLAGS,
    RESTRICT_PUBLIC_BUCKETS,
    Verdict,
    compute_verdict,
    flag_levels,
)

PASS, FAIL, ERROR = "pass", "fail", "error"
HIGH, MEDIUM, LOW, INFO = "high", "medium", "low", "info"

# name -> (label, severity when it fails). The order is the order of every report.
CHECKS: dict[str, tuple[str, str]] = {
    "public": ("Public exposure (effective verdict)", HIGH),
    "acl": ("Bucket ACL", HIGH),
    "policy": ("Bucket policy", HIGH),
    "policy_status": ("AWS policy status (second opinion)", MEDIUM),
    "public_access_block": ("Block Public Access (account + bucket)", MEDIUM),
    "ownership": ("Object Ownership (ACLs disabled)", LOW),
    "logging": ("Server access logging", MEDIUM),
    "versioning": ("Versioning and MFA delete", MEDIUM),
    "encryption": ("Default encryption", MEDIUM),
    "website": ("Static website hosting", LOW),
    "tls_only": ("TLS-only bucket policy", MEDIUM),
    "lifecycle": ("Lifecycle configuration", LOW),
    "replication": ("Replication", INFO),
    "object_lock": ("Object Lock", INFO),
}
CHECK_NAMES: tuple[str, ...] = tuple(CHECKS)

# The facts (collect.FACT_OPERATIONS keys) each check reads.
FACTS_FOR_CHECK: dict[str, frozenset[str]] = {
    "public": frozenset({"acl", "policy", "policy_status", "bucket_pab", "ownership"}),
    "acl": frozenset({"acl", "bucket_pab", "ownership"}),
    "policy": frozenset({"policy", "bucket_pab"}),
    "policy_status": frozenset({"policy", "policy_status"}),
    "public_access_block": frozenset({"bucket_pab"}),
    "ownership": frozenset({"ownership"}),
    "logging": frozenset({"logging"}),
    "versioning": frozenset({"versioning"}),
    "encryption": frozenset({"encryption"}),
    "website": frozenset({"website"}),
    "tls_only": frozenset({"policy"}),
    "lifecycle": frozenset({"lifecycle"}),
    "replication": frozenset({"replication", "versioning"}),
    "object_lock": frozenset({"object_lock", "versioning"}),
}


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


@dataclass(frozen=True)
class CheckResult:
    status: str
    detail: str
    severity: str | None = None  # set for "fail" (and "error": what it would be if it failed)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "detail": self.detail, "severity": self.severity}


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


# --- helpers -------------------------------------------------------------------------------


def _error(check: str, *messages: str) -> CheckResult:
    unique = list(dict.fromkeys(m for m in messages if m))
    return CheckResult(ERROR, " ".join(unique), CHECKS[check][1])


def _fail(check: str, detail: str, severity: str | None = None) -> CheckResult:
    return CheckResult(FAIL, detail, severity or CHECKS[check][1])


def _pass(detail: str) -> CheckResult:
    return CheckResult(PASS, detail)


def _value(fetched: Fetched | None) -> Any:
    if fetched is None or not fetched.ok or fetched.not_configured:
        return None
    return fetched.value


def _unreadable(fetched: Fetched | None) -> str:
    """The error of a fact that could not be read ('' when it was read or not configured)."""
    if fetched is None:
        return "not read"
    return fetched.error


@dataclass
class _Inputs:
    acl_grants: list[dict[str, Any]] | None
    policy_text: str | None
    analysis: PolicyAnalysis | None
    policy_parse_error: str
    bucket_pab: dict[str, Any] | None
    account_pab: dict[str, Any] | None
    ownership: str | None
    aws_is_public: bool | None


def _inputs(facts: BucketFacts, account_pab: Fetched | None) -> _Inputs:
    calls = facts.calls
    acl = _value(calls.get("acl"))
    policy_value = _value(calls.get("policy"))
    policy_text = policy_value.get("Policy") if policy_value else None
    analysis: PolicyAnalysis | None = None
    parse_error = ""
    if calls.get("policy") is not None and calls["policy"].ok:
        try:
            analysis = analyze_policy(policy_text, bucket=facts.name)
        except PolicyParseError as exc:
            parse_error = f"The bucket policy is not a valid policy document ({exc})."
    ownership_value = _value(calls.get("ownership"))
    ownership = None
    if ownership_value:
        rules = ownership_value.get("OwnershipControls", {}).get("Rules") or [{}]
        ownership = rules[0].get("ObjectOwnership")
    status_value = _value(calls.get("policy_status"))
    aws_is_public = None
    if status_value:
        aws_is_public = bool(status_value.get("PolicyStatus", {}).get("IsPublic"))
    bucket_pab = _value(calls.get("bucket_pab"))
    account_value = _value(account_pab)
    return _Inputs(
        acl_grants=acl.get("Grants", []) if acl else None,
        policy_text=policy_text,
        analysis=analysis,
        policy_parse_error=parse_error,
        bucket_pab=bucket_pab.get("PublicAccessBlockConfiguration") if bucket_pab else None,
        account_pab=(
            account_value.get("PublicAccessBlockConfiguration") if account_value else None
        ),
        ownership=ownership,
        aws_is_public=aws_is_public,
    )


# --- evaluation ----------------------------------------------------------------------------


def evaluate(
    facts: BucketFacts, account_pab: Fetched | None, checks: Iterable[str] = CHECK_NAMES
) -> Evaluation:
    wanted = list(checks)
    if facts.vanished:
        gone = next(iter(facts.calls.values())).error
        return Evaluation(checks={c: _error(c, gone) for c in wanted}, verdict=None, public=None)
    inputs = _inputs(facts, account_pab)
    verdict = compute_verdict(
        acl_grants=inputs.acl_grants,
        policy=inputs.policy_text if inputs.analysis is not None else None,
        bucket_pab=inputs.bucket_pab,
        account_pab=inputs.account_pab,
        object_ownership=inputs.ownership,
        aws_policy_status_is_public=inputs.aws_is_public if inputs.analysis else None,
    )
    public_result, public = _check_public(facts, account_pab, inputs, verdict)
    results: dict[str, CheckResult] = {}
    for check in wanted:
        if check == "public":
            results[check] = public_result
        else:
            results[check] = _CHECKERS[check](facts, account_pab, inputs, verdict)
    reasons = list(verdict.reasons)
    if public is None:
        reasons = [f"unknown: {public_result.detail}"]
    return Evaluation(checks=results, verdict=verdict, public=public, public_reasons=reasons)


def _acl_neutralisers(verdict: Verdict, ownership: str | None) -> list[str]:
    blockers = []
    if ownership == BUCKET_OWNER_ENFORCED:
        blockers.append(f"Object Ownership is {BUCKET_OWNER_ENFORCED} (ACLs are disabled)")
    if verdict.block_public_access.get(IGNORE_PUBLIC_ACLS):
        levels = " and ".join(verdict.block_public_access[IGNORE_PUBLIC_ACLS])
        blockers.append(f"{IGNORE_PUBLIC_ACLS} is on ({levels} level)")
    return blockers


def _policy_neutralisers(verdict: Verdict) -> list[str]:
    levels = verdict.block_public_access.get(RESTRICT_PUBLIC_BUCKETS)
    if not levels:
        return []
    return [f"{RESTRICT_PUBLIC_BUCKETS} is on ({' and '.join(levels)} level)"]


def _block_errors(facts: BucketFacts, account_pab: Fetched | None) -> list[str]:
    errors = []
    for name in ("bucket_pab", "ownership"):
        fetched = facts.calls.get(name)
        if fetched is not None and fetched.error:
            errors.append(fetched.error)
    if account_pab is not None and account_pab.error:
        errors.append(account_pab.error)
    return errors


def _check_public(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> tuple[CheckResult, bool | None]:
    block_errors = _block_errors(facts, account_pab)
    if verdict.public:
        detail = "Public: " + "; ".join(verdict.reasons) + "."
        if block_errors:
            detail += (
                " Some blocking settings could not be read and are treated as off, so the "
                "bucket may be less exposed than shown: " + " ".join(block_errors)
            )
        return _fail("public", detail), True

    # Not public on what was read. Sources of exposure that could not be read make it unknown,
    # unless a block that was read neutralises that source anyway.
    unknown: list[str] = []
    acl_error = _unreadable(facts.calls.get("acl"))
    if acl_error and not _acl_neutralisers(verdict, inputs.ownership):
        unknown.append(acl_error)
    policy_error = _unreadable(facts.calls.get("policy")) or inputs.policy_parse_error
    if policy_error and not _policy_neutralisers(verdict):
        unknown.append(policy_error)
    if unknown:
        return (
            _error("public", "Cannot tell whether the bucket is public:", *unknown),
            None,
        )

    parts = ["Not public: no ACL grant or policy statement gives access to the public"]
    if verdict.neutralised:
        parts = ["Not public: " + "; ".join(verdict.neutralised)]
    detail = ". ".join(parts) + "."
    status_error = _unreadable(facts.calls.get("policy_status"))
    if status_error and inputs.analysis is not None and inputs.analysis.has_policy:
        detail += f" AWS's second opinion (GetBucketPolicyStatus) is unavailable: {status_error}"
    return _pass(detail), False


def _check_acl(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> CheckResult:
    error = _unreadable(facts.calls.get("acl"))
    if error:
        return _error("acl", error)
    if not verdict.public_grants:
        if inputs.ownership == BUCKET_OWNER_ENFORCED:
            return _pass(
                f"ACLs are disabled (Object Ownership is {BUCKET_OWNER_ENFORCED}): no ACL can "
                "grant access."
            )
        return _pass("No grant to AllUsers (anyone) or AuthenticatedUsers (any AWS user).")
    grants = "; ".join(g.reason for g in verdict.public_grants)
    blockers = _acl_neutralisers(verdict, inputs.ownership)
    if blockers:
        return _fail(
            "acl",
            f"{grants}. Neutralised because {' and '.join(blockers)}; the grants take effect "
            "again if that setting is removed. Remove the grants to be safe.",
            LOW,
        )
    detail = f"{grants}. Fix: block public access (IgnorePublicAcls), or remove the grants."
    errors = _block_errors(facts, account_pab)
    if errors:
        detail += " (Blocking settings that could not be read count as off: " + " ".join(errors)
        detail += ")"
    return _fail("acl", detail)


def _check_policy(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> CheckResult:
    error = _unreadable(facts.calls.get("policy")) or inputs.policy_parse_error
    if error:
        return _error("policy", error)
    analysis = inputs.analysis
    if analysis is None or not analysis.has_policy:
        return _pass("No bucket policy.")
    restricted = [s.reason for s in analysis.restricted_statements]
    if not analysis.public_statements:
        detail = "No statement gives access to anonymous principals."
        if restricted:
            detail += " Not public: " + "; ".join(restricted) + "."
        return _pass(detail)
    statements = "; ".join(s.reason for s in analysis.public_statements)
    blockers = _policy_neutralisers(verdict)
    if blockers:
        return _fail(
            "policy",
            f"{statements}. Neutralised because {blockers[0]}; it takes effect again if that "
            "setting is removed. Remove the public statement to be safe.",
            LOW,
        )
    detail = (
        f"{statements}. Fix: remove the public statement, or block public access "
        "(RestrictPublicBuckets)."
    )
    if restricted:
        detail += " Not public: " + "; ".join(restricted) + "."
    return _fail("policy", detail)


def _check_policy_status(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> CheckResult:
    policy_error = _unreadable(facts.calls.get("policy")) or inputs.policy_parse_error
    status = facts.calls.get("policy_status")
    status_error = _unreadable(status)
    if policy_error or status_error:
        return _error("policy_status", status_error, policy_error)
    analysis = inputs.analysis
    no_policy = analysis is None or not analysis.has_policy
    if no_policy or (status is not None and status.not_configured):
        return _pass("No bucket policy, so there is nothing for AWS to evaluate.")
    aws_public = bool(inputs.aws_is_public)
    if aws_public == analysis.is_public:
        if aws_public:
            return _pass(
                "AWS and the portal agree that the policy is public (GetBucketPolicyStatus "
                "IsPublic=true): the second opinion matches; the policy check says what to fix."
            )
        return _pass(
            "AWS and the portal agree that the policy is not public (GetBucketPolicyStatus "
            "IsPublic=false)."
        )
    if aws_public:
        return _fail(
            "policy_status",
            "AWS GetBucketPolicyStatus reports the bucket policy as public (IsPublic=true) but "
            "the portal found no public statement; the verdict follows AWS. Review the policy.",
        )
    labels = ", ".join(s.label for s in analysis.public_statements)
    return _fail(
        "policy_status",
        f"The portal finds the bucket policy public ({labels}) but AWS GetBucketPolicyStatus "
        "reports it as not public (IsPublic=false); the portal keeps the stricter verdict. "
        "Review the statement.",
    )


def _check_public_access_block(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> CheckResult:
    bucket_error = _unreadable(facts.calls.get("bucket_pab"))
    account_error = _unreadable(account_pab) if account_pab is not None else ""

    def all_on(config: dict[str, Any] | None) -> bool:
        return all(flag_levels(f, config, None) for f in PAB_FLAGS)

    if bucket_error or account_error:
        # Either level alone being fully on settles the answer.
        if not bucket_error and all_on(inputs.bucket_pab):
            return _pass("All four Block Public Access settings are on at bucket level.")
        if not account_error and all_on(inputs.account_pab):
            return _pass("All four Block Public Access settings are on at account level.")
        return _error("public_access_block", bucket_error, account_error)
    levels = verdict.block_public_access
    off = [f for f in PAB_FLAGS if not levels.get(f)]
    described = ", ".join(f"{f}: {' and '.join(levels[f])}" for f in PAB_FLAGS if levels.get(f))
    if not off:
        return _pass(f"All four Block Public Access settings are on ({described}).")
    detail = f"Off at both account and bucket level: {', '.join(off)}."
    if described:
        detail += f" On: {described}."
    detail += " Fix: block public access (all four settings at bucket level)."
    return _fail("public_access_block", detail)


def _check_ownership(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> CheckResult:
    fetched = facts.calls.get("ownership")
    if _unreadable(fetched):
        return _error("ownership", _unreadable(fetched))
    if inputs.ownership == BUCKET_OWNER_ENFORCED:
        return _pass(f"ACLs are disabled (Object Ownership is {BUCKET_OWNER_ENFORCED}).")
    setting = inputs.ownership or "not set, so ObjectWriter"
    return _fail(
        "ownership",
        f"ACLs are enabled (Object Ownership: {setting}): access can be granted per object "
        f"outside the bucket policy. Set Object Ownership to {BUCKET_OWNER_ENFORCED}.",
    )


def _check_logging(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> CheckResult:
    fetched = facts.calls.get("logging")
    if _unreadable(fetched):
        return _error("logging", _unreadable(fetched))
    enabled = (_value(fetched) or {}).get("LoggingEnabled")
    if enabled:
        target = f"s3://{enabled.get('TargetBucket', '?')}/{enabled.get('TargetPrefix', '')}"
        return _pass(f"Server access logs are delivered to {target}.")
    return _fail(
        "logging",
        "Server access logging is off: there is no record of who read or changed objects. "
        "Fix: enable access logging to a log bucket in the same region.",
    )


def _check_versioning(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> CheckResult:
    fetched = facts.calls.get("versioning")
    if _unreadable(fetched):
        return _error("versioning", _unreadable(fetched))
    value = _value(fetched) or {}
    status = value.get("Status")
    mfa = "on" if value.get("MFADelete") == "Enabled" else "off"
    if status == "Enabled":
        return _pass(f"Versioning is enabled; MFA delete is {mfa}.")
    if status == "Suspended":
        return _fail(
            "versioning",
            f"Versioning is suspended (MFA delete is {mfa}): overwritten and deleted objects "
            "are no longer kept. Fix: enable versioning.",
        )
    return _fail(
        "versioning",
        "Versioning has never been enabled: an overwrite or delete loses the object for good. "
        "Fix: enable versioning.",
    )


_SSE_NAMES = {"AES256": "SSE-S3 (AES256)", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}


def _check_encryption(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> CheckResult:
    fetched = facts.calls.get("encryption")
    if _unreadable(fetched):
        return _error("encryption", _unreadable(fetched))
    rules = ((_value(fetched) or {}).get("ServerSideEncryptionConfiguration") or {}).get(
        "Rules"
    ) or []
    if not rules:
        return _fail(
            "encryption",
            "No default encryption: objects uploaded without encryption headers are stored "
            "unencrypted. Fix: enable default encryption (SSE-S3 or SSE-KMS).",
        )
    described = []
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        algorithm = default.get("SSEAlgorithm", "?")
        text = _SSE_NAMES.get(algorithm, algorithm)
        if algorithm.startswith("aws:kms"):
            key = default.get("KMSMasterKeyID")
            text += f" with key {key}" if key else " with the AWS managed key aws/s3"
            bucket_key = "on" if rule.get("BucketKeyEnabled") else "off"
            text += f", S3 Bucket Key {bucket_key}"
        described.append(text)
    return _pass("Default encryption: " + "; ".join(described) + ".")


def _check_website(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> CheckResult:
    fetched = facts.calls.get("website")
    if _unreadable(fetched):
        return _error("website", _unreadable(fetched))
    value = _value(fetched)
    if not value:
        return _pass("Static website hosting is off.")
    redirect = value.get("RedirectAllRequestsTo")
    if redirect:
        return _fail(
            "website",
            f"Static website hosting redirects every request to {redirect.get('HostName')}.",
        )
    index = (value.get("IndexDocument") or {}).get("Suffix", "?")
    return _fail(
        "website",
        f"Static website hosting is on (index document {index}): the website endpoint speaks "
        "plain HTTP only and serves whatever is publicly readable. Turn it off unless the "
        "bucket is meant to be a website.",
    )


def _check_tls_only(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> CheckResult:
    error = _unreadable(facts.calls.get("policy")) or inputs.policy_parse_error
    if error:
        return _error("tls_only", error)
    analysis = inputs.analysis
    if analysis is not None and analysis.has_tls_only_statement:
        return _pass("The bucket policy denies every request that does not use TLS.")
    where = (
        "The bucket policy has"
        if analysis and analysis.has_policy
        else "There is no bucket policy, so there is"
    )
    return _fail(
        "tls_only",
        f"{where} no statement denying requests made over plain HTTP "
        '(Deny s3:* when "aws:SecureTransport" is "false"). Fix: add a TLS-only statement.',
    )


def _check_lifecycle(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> CheckResult:
    fetched = facts.calls.get("lifecycle")
    if _unreadable(fetched):
        return _error("lifecycle", _unreadable(fetched))
    rules = (_value(fetched) or {}).get("Rules") or []
    if not rules:
        return _fail(
            "lifecycle",
            "No lifecycle configuration: old versions and incomplete multipart uploads are "
            "kept (and billed) until someone deletes them.",
        )
    enabled = sum(1 for r in rules if r.get("Status") == "Enabled")
    return _pass(f"{len(rules)} lifecycle rule(s), {enabled} enabled.")


def _check_replication(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> CheckResult:
    fetched = facts.calls.get("replication")
    if _unreadable(fetched):
        return _error("replication", _unreadable(fetched))
    config = (_value(fetched) or {}).get("ReplicationConfiguration") or {}
    rules = config.get("Rules") or []
    if not rules:
        why = f" ({fetched.inferred})" if fetched is not None and fetched.inferred else ""
        return _fail("replication", f"No replication configured{why}.")
    targets = sorted(
        {(r.get("Destination") or {}).get("Bucket", "?").split(":::")[-1] for r in rules}
    )
    return _pass(f"{len(rules)} replication rule(s) to {', '.join(targets)}.")


def _check_object_lock(
    facts: BucketFacts, account_pab: Fetched | None, inputs: _Inputs, verdict: Verdict
) -> CheckResult:
    fetched = facts.calls.get("object_lock")
    if _unreadable(fetched):
        return _error("object_lock", _unreadable(fetched))
    config = (_value(fetched) or {}).get("ObjectLockConfiguration") or {}
    if config.get("ObjectLockEnabled") != "Enabled":
        why = f" ({fetched.inferred})" if fetched is not None and fetched.inferred else ""
        return _fail("object_lock", f"Object Lock is off{why}.")
    retention = (config.get("Rule") or {}).get("DefaultRetention") or {}
    if retention:
        period = retention.get("Days") or retention.get("Years")
        unit = "days" if retention.get("Days") else "years"
        return _pass(
            f"Object Lock is on; default retention {retention.get('Mode')} {period} {unit}."
        )
    return _pass("Object Lock is on, without a default retention period.")


_CHECKERS = {
    "acl": _check_acl,
    "policy": _check_policy,
    "policy_status": _check_policy_status,
    "public_access_block": _check_public_access_block,
    "ownership": _check_ownership,
    "logging": _check_logging,
    "versioning": _check_versioning,
    "encryption": _check_encryption,
    "website": _check_website,
    "tls_only": _check_tls_only,
    "lifecycle": _check_lifecycle,
    "replication": _check_replication,
    "object_lock": _check_object_lock,
}
