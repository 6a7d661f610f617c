"""Checks of who can reach the bucket: the effective verdict, ACL, policy, AWS's second
opinion, Block Public Access and Object Ownership."""

from __future__ import annotations

from typing import Any

from storage.scan.checks.inputs import CheckInputs, unreadable
from storage.scan.checks.registry import (
    HIGH,
    LOW,
    MEDIUM,
    CheckResult,
    error,
    fail,
    passed,
    register,
)
from storage.scan.verdict import (
    BUCKET_OWNER_ENFORCED,
    IGNORE_PUBLIC_ACLS,
    PAB_FLAGS,
    RESTRICT_PUBLIC_BUCKETS,
    Verdict,
    flag_levels,
)


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


def _block_errors(inputs: CheckInputs) -> list[str]:
    errors = []
    for name in ("bucket_pab", "ownership"):
        fetched = inputs.fetched(name)
        if fetched is not None and fetched.error:
            errors.append(fetched.error)
    account_pab = inputs.account_pab_fetched
    if account_pab is not None and account_pab.error:
        errors.append(account_pab.error)
    return errors


@register(
    "public",
    "Public exposure (effective verdict)",
    HIGH,
    facts={"acl", "policy", "policy_status", "bucket_pab", "ownership"},
)
def check_public(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    """fail: public; error: cannot tell (unreadable exposure not neutralised); pass: not public.

    Unreadable inputs are weighed here, not by the registry: a block that was read can make an
    unreadable grant irrelevant.
    """
    block_errors = _block_errors(inputs)
    if verdict.public:
        detail = "Public: " + "; ".join(verdict.reasons) + "."
        if block_errors:
            detail += (
                " Some blocking settings could not be read and are treated as off, so the "
                "bucket may be less exposed than shown: " + " ".join(block_errors)
            )
        return fail("public", detail)

    # Not public on what was read. Sources of exposure that could not be read make it unknown,
    # unless a block that was read neutralises that source anyway.
    unknown: list[str] = []
    acl_error = inputs.unreadable("acl")
    if acl_error and not _acl_neutralisers(verdict, inputs.ownership):
        unknown.append(acl_error)
    policy_error = inputs.unreadable("policy")
    if policy_error and not _policy_neutralisers(verdict):
        unknown.append(policy_error)
    if unknown:
        return error("public", "Cannot tell whether the bucket is public:", *unknown)

    parts = ["Not public: no ACL grant or policy statement gives access to the public"]
    if verdict.neutralised:
        parts = ["Not public: " + "; ".join(verdict.neutralised)]
    detail = ". ".join(parts) + "."
    status_error = inputs.unreadable("policy_status")
    if status_error and inputs.analysis is not None and inputs.analysis.has_policy:
        detail += f" AWS's second opinion (GetBucketPolicyStatus) is unavailable: {status_error}"
    return passed(detail)


@register("acl", "Bucket ACL", HIGH, facts={"acl", "bucket_pab", "ownership"}, unreadable=("acl",))
def check_acl(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    if not verdict.public_grants:
        if inputs.ownership == BUCKET_OWNER_ENFORCED:
            return passed(
                f"ACLs are disabled (Object Ownership is {BUCKET_OWNER_ENFORCED}): no ACL can "
                "grant access."
            )
        return passed("No grant to AllUsers (anyone) or AuthenticatedUsers (any AWS user).")
    grants = "; ".join(g.reason for g in verdict.public_grants)
    blockers = _acl_neutralisers(verdict, inputs.ownership)
    if blockers:
        return fail(
            "acl",
            f"{grants}. Neutralised because {' and '.join(blockers)}; the grants take effect "
            "again if that setting is removed. Remove the grants to be safe.",
            LOW,
        )
    detail = f"{grants}. Fix: block public access (IgnorePublicAcls), or remove the grants."
    errors = _block_errors(inputs)
    if errors:
        detail += " (Blocking settings that could not be read count as off: " + " ".join(errors)
        detail += ")"
    return fail("acl", detail)


@register("policy", "Bucket policy", HIGH, facts={"policy", "bucket_pab"}, unreadable=("policy",))
def check_policy(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    analysis = inputs.analysis
    if analysis is None or not analysis.has_policy:
        return passed("No bucket policy.")
    restricted = [s.reason for s in analysis.restricted_statements]
    if not analysis.public_statements:
        detail = "No statement gives access to anonymous principals."
        if restricted:
            detail += " Not public: " + "; ".join(restricted) + "."
        return passed(detail)
    statements = "; ".join(s.reason for s in analysis.public_statements)
    blockers = _policy_neutralisers(verdict)
    if blockers:
        return fail(
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
    return fail("policy", detail)


@register(
    "policy_status",
    "AWS policy status (second opinion)",
    MEDIUM,
    facts={"policy", "policy_status"},
    unreadable=("policy_status", "policy"),
)
def check_policy_status(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    status = inputs.fetched("policy_status")
    analysis = inputs.analysis
    not_configured = status is not None and status.not_configured
    if analysis is None or not analysis.has_policy or not_configured:
        return passed("No bucket policy, so there is nothing for AWS to evaluate.")
    aws_public = bool(inputs.aws_is_public)
    if aws_public == analysis.is_public:
        if aws_public:
            return passed(
                "AWS and the portal agree that the policy is public (GetBucketPolicyStatus "
                "IsPublic=true): the second opinion matches; the policy check says what to fix."
            )
        return passed(
            "AWS and the portal agree that the policy is not public (GetBucketPolicyStatus "
            "IsPublic=false)."
        )
    if aws_public:
        return fail(
            "policy_status",
            "AWS GetBucketPolicyStatus reports the bucket policy as public (IsPublic=true) but "
            "the portal found no public statement; the verdict follows AWS. Review the policy.",
        )
    labels = ", ".join(s.label for s in analysis.public_statements)
    return fail(
        "policy_status",
        f"The portal finds the bucket policy public ({labels}) but AWS GetBucketPolicyStatus "
        "reports it as not public (IsPublic=false); the portal keeps the stricter verdict. "
        "Review the statement.",
    )


def _all_on(config: dict[str, Any] | None) -> bool:
    return all(flag_levels(f, config, None) for f in PAB_FLAGS)


@register(
    "public_access_block",
    "Block Public Access (account + bucket)",
    MEDIUM,
    facts={"bucket_pab"},
)
def check_public_access_block(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    # Not the registry's opening: either level alone being fully on settles the answer.
    bucket_error = inputs.unreadable("bucket_pab")
    account_pab = inputs.account_pab_fetched
    account_error = unreadable(account_pab) if account_pab is not None else ""
    if bucket_error or account_error:
        if not bucket_error and _all_on(inputs.bucket_pab):
            return passed("All four Block Public Access settings are on at bucket level.")
        if not account_error and _all_on(inputs.account_pab):
            return passed("All four Block Public Access settings are on at account level.")
        return error("public_access_block", bucket_error, account_error)
    levels = verdict.block_public_access
    off = [f for f in PAB_FLAGS if not levels.get(f)]
    described = ", ".join(f"{f}: {' and '.join(levels[f])}" for f in PAB_FLAGS if levels.get(f))
    if not off:
        return passed(f"All four Block Public Access settings are on ({described}).")
    detail = f"Off at both account and bucket level: {', '.join(off)}."
    if described:
        detail += f" On: {described}."
    detail += " Fix: block public access (all four settings at bucket level)."
    return fail("public_access_block", detail)


@register(
    "ownership",
    "Object Ownership (ACLs disabled)",
    LOW,
    facts={"ownership"},
    unreadable=("ownership",),
)
def check_ownership(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    if inputs.ownership == BUCKET_OWNER_ENFORCED:
        return passed(f"ACLs are disabled (Object Ownership is {BUCKET_OWNER_ENFORCED}).")
    setting = inputs.ownership or "not set, so ObjectWriter"
    return fail(
        "ownership",
        f"ACLs are enabled (Object Ownership: {setting}): access can be granted per object "
        f"outside the bucket policy. Set Object Ownership to {BUCKET_OWNER_ENFORCED}.",
    )
