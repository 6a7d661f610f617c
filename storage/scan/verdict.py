"""The effective verdict: is this bucket public right now, and exactly why (or why not).

Block Public Access semantics (S3 User Guide, "Block public access settings"):

* Account and bucket settings combine: S3 applies the most restrictive combination, so a flag
  is on when it is on at either level.
* IgnorePublicAcls makes S3 ignore every public ACL on the bucket and its objects.
* BlockPublicAcls only rejects *new* public ACLs; existing ones keep working.
* BlockPublicPolicy only rejects *new* public policies: "Enabling this setting doesn't affect
  existing bucket policies". Only RestrictPublicBuckets neutralises an attached public policy.
* Object Ownership "BucketOwnerEnforced" disables ACLs altogether.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storage.scan.acl import PublicGrant, analyze_acl
from storage.scan.policy import PolicyAnalysis, StatementFinding, analyze_policy

BLOCK_PUBLIC_ACLS = "BlockPublicAcls"
IGNORE_PUBLIC_ACLS = "IgnorePublicAcls"
BLOCK_PUBLIC_POLICY = "BlockPublicPolicy"
RESTRICT_PUBLIC_BUCKETS = "RestrictPublicBuckets"
PAB_FLAGS: tuple[str, ...] = (
    BLOCK_PUBLIC_ACLS,
    IGNORE_PUBLIC_ACLS,
    BLOCK_PUBLIC_POLICY,
    RESTRICT_PUBLIC_BUCKETS,
)
BUCKET_OWNER_ENFORCED = "BucketOwnerEnforced"


@dataclass(frozen=True)
class Verdict:
    """What the portal tells the user about a bucket's public exposure."""

    public: bool
    reasons: list[str]  # what makes it public, after every block is applied
    neutralised: list[str]  # public grants/statements that exist but are neutralised, and by what
    notes: list[str]  # context: ineffective settings, AWS disagreement, restricted statements
    acl_public: bool = False  # the ACL alone, before IgnorePublicAcls / Object Ownership
    policy_public: bool = False  # the policy alone, before RestrictPublicBuckets
    public_grants: list[PublicGrant] = field(default_factory=list)
    public_statements: list[StatementFinding] = field(default_factory=list)
    restricted_statements: list[StatementFinding] = field(default_factory=list)
    # flag -> levels it is on at, e.g. {"IgnorePublicAcls": ["account", "bucket"]}
    block_public_access: dict[str, list[str]] = field(default_factory=dict)
    aws_policy_status_is_public: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "public": self.public,
            "reasons": list(self.reasons),
            "neutralised": list(self.neutralised),
            "notes": list(self.notes),
            "acl_public": self.acl_public,
            "policy_public": self.policy_public,
            "public_grants": [g.to_dict() for g in self.public_grants],
            "public_statements": [s.to_dict() for s in self.public_statements],
            "restricted_statements": [s.to_dict() for s in self.restricted_statements],
            "block_public_access": {k: list(v) for k, v in self.block_public_access.items()},
            "aws_policy_status_is_public": self.aws_policy_status_is_public,
        }


def compute_verdict(
    *,
    acl_grants: list[dict[str, Any]] | None,
    policy: str | dict[str, Any] | None,
    bucket_pab: dict[str, Any] | None,
    account_pab: dict[str, Any] | None,
    object_ownership: str | None,
    aws_policy_status_is_public: bool | None,
) -> Verdict:
    """Combine ACL, policy, Block Public Access and Object Ownership into one verdict.

    ``acl_grants`` is GetBucketAcl's ``Grants``; ``policy`` the GetBucketPolicy document (or
    None); the PAB dicts are ``PublicAccessBlockConfiguration`` (None when not configured);
    ``aws_policy_status_is_public`` is GetBucketPolicyStatus' ``IsPublic`` (None if unknown).
    Raises :class:`storage.scan.policy.PolicyParseError` for a malformed policy.
    """
    analysis = analyze_policy(policy)
    grants = analyze_acl(acl_grants, resource_kind="bucket")
    levels = {flag: flag_levels(flag, bucket_pab, account_pab) for flag in PAB_FLAGS}

    reasons: list[str] = []
    neutralised: list[str] = []
    notes: list[str] = []
    _apply_acl(grants, levels, object_ownership, reasons, neutralised, notes)
    _apply_policy(analysis, levels, reasons, neutralised, notes)
    _apply_aws_policy_status(
        analysis, aws_policy_status_is_public, levels, reasons, neutralised, notes
    )
    notes.extend(s.reason for s in analysis.restricted_statements)

    return Verdict(
        public=bool(reasons),
        reasons=reasons,
        neutralised=neutralised,
        notes=notes,
        acl_public=bool(grants),
        policy_public=analysis.is_public,
        public_grants=grants,
        public_statements=list(analysis.public_statements),
        restricted_statements=list(analysis.restricted_statements),
        block_public_access={flag: list(on) for flag, on in levels.items()},
        aws_policy_status_is_public=aws_policy_status_is_public,
    )


def flag_levels(
    flag: str, bucket_pab: dict[str, Any] | None, account_pab: dict[str, Any] | None
) -> tuple[str, ...]:
    """The levels ("account", "bucket") at which a Block Public Access flag is on."""
    on: list[str] = []
    if _is_on((account_pab or {}).get(flag)):
        on.append("account")
    if _is_on((bucket_pab or {}).get(flag)):
        on.append("bucket")
    return tuple(on)


def _is_on(value: Any) -> bool:
    # boto3 gives real booleans; accept "true" too so a stored/serialised copy can't turn a
    # set flag into "off" (a non-empty "false" string must not count as on either).
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def _where(levels: tuple[str, ...]) -> str:
    return f"{' and '.join(levels)} level"


def _apply_acl(
    grants: list[PublicGrant],
    levels: dict[str, tuple[str, ...]],
    object_ownership: str | None,
    reasons: list[str],
    neutralised: list[str],
    notes: list[str],
) -> None:
    blockers: list[str] = []
    if object_ownership == BUCKET_OWNER_ENFORCED:
        blockers.append(f"ACLs are disabled (Object Ownership is {BUCKET_OWNER_ENFORCED})")
    if levels[IGNORE_PUBLIC_ACLS]:
        blockers.append(f"{IGNORE_PUBLIC_ACLS} is on ({_where(levels[IGNORE_PUBLIC_ACLS])})")

    for grant in grants:
        if blockers:
            neutralised.append(f"{grant.reason}: neutralised because {' and '.join(blockers)}")
        else:
            reasons.append(grant.reason)

    if grants and not blockers and levels[BLOCK_PUBLIC_ACLS]:
        notes.append(
            f"{BLOCK_PUBLIC_ACLS} is on ({_where(levels[BLOCK_PUBLIC_ACLS])}) but it only "
            "rejects new public ACLs; the existing public ACL grants still apply. Turn on "
            f"{IGNORE_PUBLIC_ACLS} or set Object Ownership to {BUCKET_OWNER_ENFORCED} to "
            "neutralise them."
        )


def _restrict_text(levels: dict[str, tuple[str, ...]]) -> str:
    return f"{RESTRICT_PUBLIC_BUCKETS} is on ({_where(levels[RESTRICT_PUBLIC_BUCKETS])})"


def _apply_policy(
    analysis: PolicyAnalysis,
    levels: dict[str, tuple[str, ...]],
    reasons: list[str],
    neutralised: list[str],
    notes: list[str],
) -> None:
    restricted = bool(levels[RESTRICT_PUBLIC_BUCKETS])
    for statement in analysis.public_statements:
        if restricted:
            neutralised.append(f"{statement.reason}: neutralised because {_restrict_text(levels)}")
        else:
            reasons.append(statement.reason)

    if not analysis.is_public:
        return
    if restricted:
        # AWS: once the policy is public, RestrictPublicBuckets also cuts cross-account grants.
        notes.append(
            f"{RESTRICT_PUBLIC_BUCKETS} applies because the bucket policy is public: only AWS "
            "service principals and users of the bucket owner's account can use it, so "
            "cross-account grants in the same policy are blocked too."
        )
    elif levels[BLOCK_PUBLIC_POLICY]:
        notes.append(
            f"{BLOCK_PUBLIC_POLICY} is on ({_where(levels[BLOCK_PUBLIC_POLICY])}) but it only "
            "rejects new public policies; the bucket policy already attached stays in force. "
            f"Turn on {RESTRICT_PUBLIC_BUCKETS} to neutralise it."
        )


def _apply_aws_policy_status(
    analysis: PolicyAnalysis,
    aws_is_public: bool | None,
    levels: dict[str, tuple[str, ...]],
    reasons: list[str],
    neutralised: list[str],
    notes: list[str],
) -> None:
    if aws_is_public is None or aws_is_public == analysis.is_public:
        return
    if aws_is_public:
        notes.append(
            "AWS GetBucketPolicyStatus reports the bucket policy as public (IsPublic=true) "
            "but the portal's policy analysis found no public statement; AWS enforces Block "
            "Public Access by its own evaluation, so the portal follows AWS here."
        )
        # Fail safe: never call a bucket private when AWS itself calls its policy public.
        aws_reason = "AWS GetBucketPolicyStatus reports the bucket policy as public"
        if levels[RESTRICT_PUBLIC_BUCKETS]:
            neutralised.append(f"{aws_reason}: neutralised because {_restrict_text(levels)}")
        else:
            reasons.append(aws_reason)
        return
    labels = ", ".join(s.label for s in analysis.public_statements)
    notes.append(
        f"the portal's policy analysis finds the bucket policy public ({labels}) but AWS "
        "GetBucketPolicyStatus reports it as not public (IsPublic=false); the portal keeps "
        "the stricter verdict, review the statement."
    )
