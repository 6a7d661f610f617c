"""Bucket policy analysis: which Allow statements reach the public, by AWS's own definition.

Source of the rules: Amazon S3 User Guide, "Blocking public access to your Amazon S3 storage",
section "The meaning of 'public'" / "Bucket policies"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
#access-control-block-public-access-policy-status).

AWS *starts* from "public" and only calls a policy non-public when every grant goes to fixed
values (no wildcard, no policy variable) of a principal or of a short, documented list of
condition keys. We mirror that: an Allow statement that reaches an open principal is public
unless one of its conditions pins a documented key to fixed values. Conditions are AND-ed, so a
single pinning condition is enough to restrict the whole statement.

Where the documentation is silent we err towards "public" (a false alarm is visible and gets
an explicit note when AWS's GetBucketPolicyStatus disagrees; a missed public bucket is not).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

# A JSON value exactly as it appears in the policy document.
JsonValue = Any

POLICY_DOC_URL = (
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
    "access-control-block-public-access.html#access-control-block-public-access-policy-status"
)

# Condition keys that, pinned to fixed values, make an otherwise-open statement non-public.
# The documented list, lower-cased because IAM condition keys are case-insensitive. The
# aws:Principal* keys come from the documented item "An AWS principal, user, role, or service
# principal (e.g. aws:PrincipalOrgID)".
PINNING_CONDITION_KEYS: frozenset[str] = frozenset(
    {
        "aws:sourceip",
        "aws:sourcearn",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceowner",
        "aws:sourceaccount",
        "aws:principalorgid",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:userid",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:dataaccesspointarn",
        "s3:dataaccesspointaccount",
    }
)

# Operators that restrict a key to the listed values. Negated operators (StringNotEquals,
# NotIpAddress, ...) allow everything else, and Null only tests presence, so neither pins.
_EQUALITY_OPERATORS: frozenset[str] = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
)
_IP_OPERATOR = "ipaddress"
_SET_OPERATOR_PREFIXES: tuple[str, ...] = ("foranyvalue:", "forallvalues:")
_IF_EXISTS_SUFFIX = "ifexists"

# AWS: "values broader than /8 for IPv4 and /32 for IPv6 (excluding RFC1918 private ranges)"
# are evaluated as public. Every RFC1918 range is /8 or narrower, so the prefix test covers it.
_MIN_IPV4_PREFIX = 8
_MIN_IPV6_PREFIX = 32

# aws:userid may use the "AROLEID:*" form (one role, any session) and still count as fixed.
_ROLE_SESSION_USERID = re.compile(r"^[A-Za-z0-9]+:\*$")
# s3:DataAccessPointArn may wildcard the access point *name* as long as the account is fixed.
_ACCESS_POINT_ARN_FIXED_ACCOUNT = re.compile(
    r"^arn:[a-z0-9-]+:s3:[a-z0-9-]+:\d{12}:accesspoint/[^$]*$"
)
_S3_ARN = re.compile(r"^arn:[a-z0-9-]+:s3:::(?P<path>.+)$")


class PolicyParseError(ValueError):
    """The bucket policy is not valid JSON or does not have the shape of an IAM policy."""


@dataclass(frozen=True)
class StatementFinding:
    """One Allow statement whose principal reaches the public.

    ``public`` is False when a condition pins it to fixed values (see ``pinned_by``).
    """

    index: int  # 0-based position in the Statement list
    sid: str | None
    public: bool
    action_element: str  # "Action" or "NotAction", as written
    actions: tuple[str, ...]
    resource_element: str  # "Resource" or "NotResource", as written
    resources: tuple[str, ...]
    principal_element: str  # "Principal" or "NotPrincipal", as written
    principal: JsonValue  # the principal value exactly as written
    audience: str  # who it reaches, in words ("anyone", "any AWS service", ...)
    pinned_by: tuple[str, ...] = field(default=())
    unpinned_conditions: tuple[str, ...] = field(default=())
    reason: str = ""

    @property
    def label(self) -> str:
        return statement_label(self.sid, self.index)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "sid": self.sid,
            "label": self.label,
            "public": self.public,
            "action_element": self.action_element,
            "actions": list(self.actions),
            "resource_element": self.resource_element,
            "resources": list(self.resources),
            "principal_element": self.principal_element,
            "principal": self.principal,
            "audience": self.audience,
            "pinned_by": list(self.pinned_by),
            "unpinned_conditions": list(self.unpinned_conditions),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PolicyAnalysis:
    """Result of :func:`analyze_policy`. ``is_public`` ignores Block Public Access on purpose."""

    has_policy: bool
    statement_count: int
    public_statements: tuple[StatementFinding, ...]
    restricted_statements: tuple[StatementFinding, ...]
    has_tls_only_statement: bool

    @property
    def is_public(self) -> bool:
        return bool(self.public_statements)

    def to_dict(self) -> dict[str, Any]:
        return {
            "has_policy": self.has_policy,
            "is_public": self.is_public,
            "statement_count": self.statement_count,
            "public_statements": [s.to_dict() for s in self.public_statements],
            "restricted_statements": [s.to_dict() for s in self.restricted_statements],
            "has_tls_only_statement": self.has_tls_only_statement,
        }


@dataclass(frozen=True)
class _ConditionCheck:
    pins: bool
    explanation: str


def statement_label(sid: str | None, index: int) -> str:
    """Human name of a statement: its Sid when it has one, else its 1-based position."""
    return f'statement "{sid}"' if sid else f"statement #{index + 1}"


def analyze_policy(
    policy: str | dict[str, Any] | None, *, bucket: str | None = None
) -> PolicyAnalysis:
    """Find the Allow statements of a bucket policy that AWS would consider public.

    ``policy`` is the raw GetBucketPolicy string, an already-parsed dict, or None (no policy).
    Raises :class:`PolicyParseError` when the document is not a valid policy.
    """
    statements = _load_statements(policy)
    if statements is None:
        return PolicyAnalysis(False, 0, (), (), False)
    findings = [
        finding
        for index, statement in enumerate(statements)
        if (finding := _analyze_statement(index, statement)) is not None
    ]
    return PolicyAnalysis(
        has_policy=True,
        statement_count=len(statements),
        public_statements=tuple(f for f in findings if f.public),
        restricted_statements=tuple(f for f in findings if not f.public),
        has_tls_only_statement=any(_is_tls_only(s, bucket) for s in statements),
    )


def has_tls_only_statement(
    policy: str | dict[str, Any] | None, *, bucket: str | None = None
) -> bool:
    """True when the policy denies every non-TLS request to the bucket and its objects.

    That is a Deny for all principals, on s3:* (or *), covering the bucket ARN and its
    ``/*`` objects (or ``*``), whose only condition is ``aws:SecureTransport`` = false.
    When ``bucket`` is given the ARNs must name that bucket.
    """
    statements = _load_statements(policy)
    return statements is not None and any(_is_tls_only(s, bucket) for s in statements)


# --- parsing -----------------------------------------------------------------------------


def _load_statements(policy: str | dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """Parse the policy and return its statements as a list (None when there is no policy)."""
    if policy is None:
        return None
    if isinstance(policy, str):
        if not policy.strip():
            return None
        try:
            document = json.loads(policy)
        except json.JSONDecodeError as exc:
            raise PolicyParseError(
                f"bucket policy is not valid JSON: {exc.msg} "
                f"(line {exc.lineno}, column {exc.colno})"
            ) from exc
    else:
        document = policy
    if not isinstance(document, dict):
        raise PolicyParseError(
            f"bucket policy must be a JSON object, not {type(document).__name__}"
        )
    if "Statement" not in document:
        raise PolicyParseError('bucket policy has no "Statement" element')
    raw = document["Statement"]
    # IAM accepts a single statement object as well as a list of them.
    statements = [raw] if isinstance(raw, dict) else raw
    if not isinstance(statements, list):
        raise PolicyParseError('"Statement" must be an object or a list of objects')
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict):
            raise PolicyParseError(f"statement #{index + 1} is not a JSON object")
        effect = statement.get("Effect")
        if not isinstance(effect, str) or effect.lower() not in {"allow", "deny"}:
            raise PolicyParseError(
                f'statement #{index + 1} has Effect {effect!r}; expected "Allow" or "Deny"'
            )
    return statements


def _string_tuple(value: JsonValue, element: str, index: int) -> tuple[str, ...]:
    """Action/Resource-style elements: a string or a list of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyParseError(f'statement #{index + 1}: "{element}" must be a string or list')


def _element(statement: dict[str, Any], name: str, negated: str) -> tuple[str, JsonValue]:
    """Return (element name as written, value): ``name`` if present, else its Not- twin."""
    if name in statement:
        return name, statement[name]
    return negated, statement.get(negated)


def _condition_values(value: JsonValue) -> list[str]:
    """Condition values as strings; IAM accepts a scalar or a list of scalars."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            out.append(str(item))
        else:
            raise PolicyParseError(f"condition value {item!r} is not a string, number or bool")
    return out


def _conditions(statement: dict[str, Any], index: int) -> list[tuple[str, str, list[str]]]:
    """Flatten the Condition block into (operator, key, values) triples."""
    block = statement.get("Condition")
    if block is None:
        return []
    if not isinstance(block, dict):
        raise PolicyParseError(f'statement #{index + 1}: "Condition" must be an object')
    triples: list[tuple[str, str, list[str]]] = []
    for operator, clauses in block.items():
        if not isinstance(clauses, dict):
            raise PolicyParseError(
                f'statement #{index + 1}: condition operator "{operator}" must map keys to values'
            )
        for key, value in clauses.items():
            triples.append((operator, key, _condition_values(value)))
    return triples


# --- principals --------------------------------------------------------------------------


def _has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def _is_policy_variable(value: str) -> bool:
    return "${" in value


def _principal_values(value: JsonValue) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(item) for item in items]


def _open_audience(principal: JsonValue) -> str | None:
    """Who a ``Principal`` element lets in, in words, when that is the public; else None.

    Only fixed principals are non-public (AWS: "a fixed AWS principal, user, role, or service
    principal"), so any wildcard counts as public, and so does web-identity federation with a
    public identity provider (AWS's own example: {"Federated": "graph.facebook.com"}).
    """
    if isinstance(principal, str):
        return "anyone" if _has_wildcard(principal) else None
    if not isinstance(principal, dict):
        return None
    audiences: list[str] = []
    for kind, raw in principal.items():
        for value in _principal_values(raw):
            audience = _open_audience_for(kind, value)
            if audience is not None:
                audiences.append(audience)
    if not audiences:
        return None
    # "anyone" is the strongest statement; prefer it when several entries are open.
    return "anyone" if "anyone" in audiences else audiences[0]


def _open_audience_for(kind: str, value: str) -> str | None:
    kind_l = kind.lower()
    if kind_l == "aws":
        if value == "*":
            return "anyone"
        return f"any AWS principal matching {value}" if _has_wildcard(value) else None
    if kind_l == "service":
        return "any AWS service" if _has_wildcard(value) else None
    if kind_l == "federated":
        if value == "*":
            return "anyone"
        # An IAM identity-provider ARN belongs to one account; a bare provider name such as
        # graph.facebook.com or accounts.google.com means anyone with an account there.
        if value.startswith("arn:") and not _has_wildcard(value):
            return None
        return f"anyone signed in with {value}"
    if kind_l == "canonicaluser":
        return "anyone" if _has_wildcard(value) else None
    return None


# --- conditions --------------------------------------------------------------------------


def _check_condition(operator: str, key: str, values: list[str]) -> _ConditionCheck:
    """Does this one condition pin a documented key to fixed values?"""
    written = f"{operator} {json.dumps({key: values[0] if len(values) == 1 else values})}"
    op = operator.lower()
    key_l = key.lower()
    if key_l not in PINNING_CONDITION_KEYS:
        return _ConditionCheck(
            False, f"{key} is not a key AWS accepts as limiting public access ({written})"
        )
    if op.startswith(_SET_OPERATOR_PREFIXES):
        # ForAllValues is true when the key is absent; neither set form is a fixed value.
        return _ConditionCheck(
            False, f"{written} uses a multi-value set operator, which AWS does not treat as fixed"
        )
    if op.endswith(_IF_EXISTS_SUFFIX):
        return _ConditionCheck(False, f"{written} also matches requests that lack {key}")
    if not values:
        return _ConditionCheck(False, f"{written} lists no values")
    if key_l == "aws:sourceip":
        return _check_source_ip(op, written, values)
    if op not in _EQUALITY_OPERATORS:
        return _ConditionCheck(False, f"{written} does not restrict {key} to fixed values")
    for value in values:
        problem = _unfixed_value_problem(key_l, value)
        if problem is not None:
            return _ConditionCheck(False, f"{written}: {key} value {value!r} {problem}")
    return _ConditionCheck(True, written)


def _unfixed_value_problem(key_l: str, value: str) -> str | None:
    """Why a value is not a fixed value for ``key_l``, or None when it is fixed."""
    if not value:
        return "is empty"
    if _is_policy_variable(value):
        return "is a policy variable, not a fixed value"
    if not _has_wildcard(value):
        return None
    # The two documented exceptions where a wildcard still counts as fixed.
    if key_l == "aws:userid" and _ROLE_SESSION_USERID.match(value):
        return None
    if key_l == "s3:dataaccesspointarn" and _ACCESS_POINT_ARN_FIXED_ACCOUNT.match(value):
        return None
    # Also for StringEquals, where "*" is literal: AWS's rule is worded on the value itself,
    # so we stay on the public side rather than guess at its evaluator.
    return "contains a wildcard"


def _check_source_ip(op: str, written: str, values: list[str]) -> _ConditionCheck:
    if op != _IP_OPERATOR:
        return _ConditionCheck(False, f"{written} does not restrict aws:SourceIp to fixed ranges")
    for value in values:
        problem = _broad_ip_problem(value)
        if problem is not None:
            return _ConditionCheck(False, f"{written}: {problem}")
    return _ConditionCheck(True, written)


def _broad_ip_problem(value: str) -> str | None:
    """Why a CIDR is too broad to count as a fixed range (None when it is narrow enough)."""
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return f"{value!r} is not a valid IP address or CIDR"
    if network.prefixlen == 0:
        family = "IPv4" if network.version == 4 else "IPv6"
        return f"{value} covers every {family} address"
    limit = _MIN_IPV4_PREFIX if network.version == 4 else _MIN_IPV6_PREFIX
    if network.prefixlen < limit:
        return f"{value} is broader than /{limit}, which AWS evaluates as public"
    return None


# --- statements --------------------------------------------------------------------------


def _analyze_statement(index: int, statement: dict[str, Any]) -> StatementFinding | None:
    """A finding for an Allow statement that reaches the public (pinned or not), else None."""
    if statement["Effect"].lower() != "allow":
        return None  # Deny statements never grant access.
    principal_element, principal = _element(statement, "Principal", "NotPrincipal")
    if principal_element == "NotPrincipal" and principal is not None:
        # Allow + NotPrincipal grants to everyone except the listed principals.
        audience: str | None = "everyone except the listed principals"
    else:
        audience = _open_audience(principal)
    if audience is None:
        return None

    action_element, raw_actions = _element(statement, "Action", "NotAction")
    resource_element, raw_resources = _element(statement, "Resource", "NotResource")
    actions = _string_tuple(raw_actions, action_element, index)
    resources = _string_tuple(raw_resources, resource_element, index)
    checks = [_check_condition(*triple) for triple in _conditions(statement, index)]
    pinned_by = tuple(c.explanation for c in checks if c.pins)
    unpinned = tuple(c.explanation for c in checks if not c.pins)
    sid = statement.get("Sid") or None
    finding = StatementFinding(
        index=index,
        sid=str(sid) if sid is not None else None,
        public=not pinned_by,
        action_element=action_element,
        actions=actions,
        resource_element=resource_element,
        resources=resources,
        principal_element=principal_element,
        principal=principal,
        audience=audience,
        pinned_by=pinned_by,
        unpinned_conditions=unpinned,
    )
    return _with_reason(finding)


def _describe_actions(finding: StatementFinding) -> str:
    listed = ", ".join(finding.actions) or "no listed action"
    if finding.action_element == "NotAction":
        return f"every action except {listed}"
    return listed


def _with_reason(finding: StatementFinding) -> StatementFinding:
    principal_text = f'"{finding.principal_element}": {json.dumps(finding.principal)}'
    grant = (
        f"policy {finding.label} allows {_describe_actions(finding)} "
        f"to {finding.audience} ({principal_text})"
    )
    if not finding.public:
        reason = (
            f"{grant} only when {' and '.join(finding.pinned_by)}; "
            "AWS does not count access pinned to fixed values as public"
        )
    elif finding.unpinned_conditions:
        why_not = "; ".join(finding.unpinned_conditions)
        reason = f"{grant}; its Condition does not limit it ({why_not})"
    else:
        reason = grant
    return replace(finding, reason=reason)


# --- TLS-only detection ------------------------------------------------------------------


def _is_everyone(principal: JsonValue) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict) and set(principal) == {"AWS"}:
        return "*" in _principal_values(principal["AWS"])
    return False


def _covers_bucket_and_objects(resources: tuple[str, ...], bucket: str | None) -> bool:
    paths: set[str] = set()
    for resource in resources:
        if resource == "*":
            return True
        match = _S3_ARN.match(resource)
        if match:
            paths.add(match.group("path"))
    if "*" in paths:
        return True
    buckets = {p for p in paths if "/" not in p and not _has_wildcard(p)}
    if bucket is not None:
        buckets &= {bucket}
    return any(f"{name}/*" in paths for name in buckets)


def _is_insecure_transport_condition(condition: JsonValue) -> bool:
    """Exactly one condition: Bool(IfExists) aws:SecureTransport = false."""
    if not isinstance(condition, dict) or len(condition) != 1:
        return False
    ((operator, clauses),) = condition.items()
    if operator.lower() not in {"bool", "boolifexists"}:
        return False
    if not isinstance(clauses, dict) or len(clauses) != 1:
        return False
    ((key, value),) = clauses.items()
    if key.lower() != "aws:securetransport":
        return False
    try:
        values = _condition_values(value)
    except PolicyParseError:
        return False
    return bool(values) and all(v.lower() == "false" for v in values)


def _is_tls_only(statement: dict[str, Any], bucket: str | None) -> bool:
    if statement["Effect"].lower() != "deny" or "Principal" not in statement:
        return False
    if not _is_everyone(statement["Principal"]):
        return False
    try:
        actions = _string_tuple(statement.get("Action"), "Action", 0)
        resources = _string_tuple(statement.get("Resource"), "Resource", 0)
    except PolicyParseError:
        return False
    if not any(a.lower() in {"s3:*", "*"} for a in actions):
        return False
    return _covers_bucket_and_objects(resources, bucket) and _is_insecure_transport_condition(
        statement.get("Condition")
    )
