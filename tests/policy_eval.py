"""A small IAM policy evaluator for the credential proofs (tests only).

It covers what the generated policies use, following the IAM User Guide's "Policy evaluation
logic": an explicit Deny wins; otherwise a request is allowed only if the identity policy allows
it AND, when present, the permissions boundary allows it AND the session policy allows it.
Action and Resource match with IAM's case rules (actions case-insensitive, ARNs case-sensitive,
`*` and `?` wildcards); conditions: StringEquals/StringLike (and their ...IfExists forms) on
single-valued keys, a missing key failing the condition, as IAM does.

moto does not evaluate condition keys, permissions boundaries or session policies; this does.
"""

from __future__ import annotations

import re
from typing import Any

# AWS managed policies used as permissions boundaries (their documented statements).
AMAZON_S3_FULL_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"], "Resource": "*"}],
}
AMAZON_S3_READ_ONLY_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:Get*",
                "s3:List*",
                "s3:Describe*",
                "s3-object-lambda:Get*",
                "s3-object-lambda:List*",
            ],
            "Resource": "*",
        }
    ],
}
BOUNDARIES = {
    "arn:aws:iam::aws:policy/AmazonS3FullAccess": AMAZON_S3_FULL_ACCESS,
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess": AMAZON_S3_READ_ONLY_ACCESS,
}


def _glob(pattern: str, value: str, *, ignore_case: bool) -> bool:
    regex = "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$"
    return re.match(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, pairs in conditions.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        for key, expected in pairs.items():
            actual = context.get(key.lower())
            if actual is None:
                if if_exists:
                    continue
                return False
            if base == "StringEquals":
                ok = actual in _as_list(expected)
            elif base == "StringLike":
                ok = any(_glob(p, actual, ignore_case=False) for p in _as_list(expected))
            else:
                raise NotImplementedError(f"condition operator {operator}")
            if not ok:
                return False
    return True


def _matches(
    statement: dict[str, Any], action: str, resource: str, context: dict[str, str]
) -> bool:
    if "Action" in statement:
        if not any(_glob(a, action, ignore_case=True) for a in _as_list(statement["Action"])):
            return False
    elif any(_glob(a, action, ignore_case=True) for a in _as_list(statement["NotAction"])):
        return False
    if "Resource" in statement:
        if not any(_glob(r, resource, ignore_case=False) for r in _as_list(statement["Resource"])):
            return False
    elif any(_glob(r, resource, ignore_case=False) for r in _as_list(statement["NotResource"])):
        return False
    return _conditions_hold(statement.get("Condition", {}), context)


def decision(policy: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> str:
    """ "deny" (explicit), "allow" or "neutral" (implicit deny) for one policy."""
    verdict = "neutral"
    for statement in _as_list(policy["Statement"]):
        if _matches(statement, action, resource, context):
            if statement["Effect"] == "Deny":
                return "deny"
            verdict = "allow"
    return verdict


def allowed(
    action: str,
    resource: str,
    *,
    identity: dict[str, Any],
    boundary: dict[str, Any] | None = None,
    session: dict[str, Any] | None = None,
    context: dict[str, str] | None = None,
) -> bool:
    ctx = {k.lower(): v for k, v in (context or {}).items()}
    policies = [p for p in (identity, boundary, session) if p is not None]
    results = [decision(p, action, resource, ctx) for p in policies]
    return "deny" not in results and all(r == "allow" for r in results)
