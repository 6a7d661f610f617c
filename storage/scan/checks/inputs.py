"""What the checks read: the bucket's facts, parsed once (policy analysis, blocks, ownership)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.scan.collect import BucketFacts, Fetched
from storage.scan.policy import PolicyAnalysis, PolicyParseError, analyze_policy


def value(fetched: Fetched | None) -> Any:
    if fetched is None or not fetched.ok or fetched.not_configured:
        return None
    return fetched.value


def unreadable(fetched: Fetched | None) -> str:
    """The error of a fact that could not be read ('' when it was read or not configured)."""
    if fetched is None:
        return "not read"
    return fetched.error


@dataclass
class CheckInputs:
    facts: BucketFacts
    account_pab_fetched: Fetched | None
    acl_grants: list[dict[str, Any]] | None
    policy_text: str | None
    analysis: PolicyAnalysis | None
    policy_parse_error: str
    bucket_pab: dict[str, Any] | None
    account_pab: dict[str, Any] | None
    ownership: str | None
    aws_is_public: bool | None

    def fetched(self, fact: str) -> Fetched | None:
        return self.facts.calls.get(fact)

    def unreadable(self, source: str) -> str:
        """Why `source` could not be read ('' if it was): a fact name, or "policy" (the
        policy fact, or a policy document that does not parse)."""
        if source == "policy":
            return unreadable(self.fetched("policy")) or self.policy_parse_error
        return unreadable(self.fetched(source))


def read_inputs(facts: BucketFacts, account_pab: Fetched | None) -> CheckInputs:
    calls = facts.calls
    acl = value(calls.get("acl"))
    policy_value = value(calls.get("policy"))
    policy_text = policy_value.get("Policy") if policy_value else None
    analysis: PolicyAnalysis | None = None
    parse_error = ""
    if calls.get("policy") is not None and calls["policy"].ok:
        try:
            analysis = analyze_policy(policy_text, bucket=facts.name)
        except PolicyParseError as exc:
            parse_error = f"The bucket policy is not a valid policy document ({exc})."
    ownership_value = value(calls.get("ownership"))
    ownership = None
    if ownership_value:
        rules = ownership_value.get("OwnershipControls", {}).get("Rules") or [{}]
        ownership = rules[0].get("ObjectOwnership")
    status_value = value(calls.get("policy_status"))
    aws_is_public = None
    if status_value:
        aws_is_public = bool(status_value.get("PolicyStatus", {}).get("IsPublic"))
    bucket_pab = value(calls.get("bucket_pab"))
    account_value = value(account_pab)
    return CheckInputs(
        facts=facts,
        account_pab_fetched=account_pab,
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
