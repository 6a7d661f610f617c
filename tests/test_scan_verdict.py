"""Unit tests for the pure public-exposure engine in storage.scan (no Django, no DB, no AWS).

Run with: .venv/bin/python -m pytest -p no:django -p no:cacheprovider tests/test_scan_verdict.py
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Any

import pytest

from storage.scan.acl import ALL_USERS_URI, AUTHENTICATED_USERS_URI, analyze_acl
from storage.scan.policy import (
    PINNING_CONDITION_KEYS,
    PolicyParseError,
    analyze_policy,
    has_tls_only_statement,
)
from storage.scan.verdict import PAB_FLAGS, compute_verdict

BUCKET = "team-a-data"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
OBJECTS_ARN = f"{BUCKET_ARN}/*"
OWNER_ID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
LOG_DELIVERY_URI = "http://acs.amazonaws.com/groups/s3/LogDelivery"
KMS_KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


# --- builders ----------------------------------------------------------------------------


def stmt(**overrides: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": OBJECTS_ARN,
    }
    statement.update(overrides)
    return {k: v for k, v in statement.items() if v is not None}


def policy_of(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def grant(uri: str, permission: str) -> dict[str, Any]:
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


def owner_grant() -> dict[str, Any]:
    return {
        "Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID, "DisplayName": "owner"},
        "Permission": "FULL_CONTROL",
    }


PUBLIC_POLICY = policy_of(stmt())
PUBLIC_ACL = [owner_grant(), grant(ALL_USERS_URI, "READ")]
PUBLIC_READ_REASON = (
    'policy statement "PublicRead" allows s3:GetObject to anyone ("Principal": "*")'
)
ALL_USERS_READ_REASON = "bucket ACL grants READ (list the objects) to anyone (AllUsers group)"


def verdict(**overrides: Any):
    kwargs: dict[str, Any] = {
        "acl_grants": [owner_grant()],
        "policy": None,
        "bucket_pab": None,
        "account_pab": None,
        "object_ownership": None,
        "aws_policy_status_is_public": None,
    }
    kwargs.update(overrides)
    return compute_verdict(**kwargs)


def tls_deny(**overrides: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [BUCKET_ARN, OBJECTS_ARN],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    statement.update(overrides)
    return statement


# --- policy: no policy / parsing ---------------------------------------------------------


@pytest.mark.parametrize("policy", [None, "", "   \n"])
def test_no_policy_is_not_public(policy: str | None) -> None:
    analysis = analyze_policy(policy)
    assert analysis.has_policy is False
    assert analysis.is_public is False
    assert analysis.statement_count == 0
    assert analysis.public_statements == ()


def test_policy_json_string_and_dict_give_the_same_result() -> None:
    from_string = analyze_policy(json.dumps(PUBLIC_POLICY))
    from_dict = analyze_policy(PUBLIC_POLICY)
    assert from_string == from_dict
    assert from_string.is_public is True


def test_invalid_json_raises_clear_policy_parse_error() -> None:
    with pytest.raises(PolicyParseError) as excinfo:
        analyze_policy('{"Statement": [ {"Effect": "Allow", }')
    message = str(excinfo.value)
    assert "bucket policy is not valid JSON" in message
    assert "line 1" in message


def test_policy_parse_error_is_a_value_error() -> None:
    assert issubclass(PolicyParseError, ValueError)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("[1, 2]", "must be a JSON object, not list"),
        ('"just a string"', "must be a JSON object, not str"),
        ('{"Version": "2012-10-17"}', 'has no "Statement" element'),
        ('{"Statement": "Allow everything"}', '"Statement" must be an object or a list'),
        ('{"Statement": ["not an object"]}', "statement #1 is not a JSON object"),
        ('{"Statement": [{"Effect": "Maybe", "Principal": "*"}]}', "has Effect 'Maybe'"),
        ('{"Statement": [{"Principal": "*"}]}', "has Effect None"),
    ],
)
def test_malformed_policy_shapes_raise(document: str, expected: str) -> None:
    with pytest.raises(PolicyParseError) as excinfo:
        analyze_policy(document)
    assert expected in str(excinfo.value)


def test_malformed_action_in_public_statement_raises() -> None:
    with pytest.raises(PolicyParseError) as excinfo:
        analyze_policy(policy_of(stmt(Action=42)))
    assert '"Action" must be a string or list' in str(excinfo.value)


def test_malformed_condition_raises() -> None:
    with pytest.raises(PolicyParseError) as excinfo:
        analyze_policy(policy_of(stmt(Condition=["IpAddress"])))
    assert '"Condition" must be an object' in str(excinfo.value)
    with pytest.raises(PolicyParseError) as excinfo:
        analyze_policy(policy_of(stmt(Condition={"IpAddress": "1.2.3.4/32"})))
    assert 'condition operator "IpAddress" must map keys to values' in str(excinfo.value)


def test_compute_verdict_propagates_policy_parse_error() -> None:
    with pytest.raises(PolicyParseError):
        verdict(policy="{not json")


# --- policy: principals ------------------------------------------------------------------


def test_principal_star_is_public_with_exact_reason() -> None:
    analysis = analyze_policy(PUBLIC_POLICY)
    assert analysis.is_public is True
    (finding,) = analysis.public_statements
    assert finding.reason == PUBLIC_READ_REASON
    assert finding.sid == "PublicRead"
    assert finding.index == 0
    assert finding.actions == ("s3:GetObject",)
    assert finding.resources == (OBJECTS_ARN,)
    assert finding.principal == "*"
    assert finding.principal_element == "Principal"
    assert finding.audience == "anyone"


@pytest.mark.parametrize(
    ("principal", "written"),
    [
        ({"AWS": "*"}, '("Principal": {"AWS": "*"})'),
        ({"AWS": ["*"]}, '("Principal": {"AWS": ["*"]})'),
        (
            {"AWS": ["arn:aws:iam::111122223333:root", "*"]},
            '("Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]})',
        ),
        (
            {"AWS": "arn:aws:iam::111122223333:root", "Service": "*"},
            '("Principal": {"AWS": "arn:aws:iam::111122223333:root", "Service": "*"})',
        ),
    ],
)
def test_anonymous_principal_forms_are_public(principal: Any, written: str) -> None:
    (finding,) = analyze_policy(policy_of(stmt(Principal=principal))).public_statements
    assert finding.principal == principal
    assert finding.reason.startswith('policy statement "PublicRead" allows s3:GetObject to ')
    assert finding.reason.endswith(written)


def test_aws_star_principal_is_anyone() -> None:
    (finding,) = analyze_policy(policy_of(stmt(Principal={"AWS": "*"}))).public_statements
    assert finding.audience == "anyone"
    assert finding.reason == (
        'policy statement "PublicRead" allows s3:GetObject to anyone ("Principal": {"AWS": "*"})'
    )


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": "arn:aws:iam::111122223333:root"},
        {"AWS": "111122223333"},
        {"AWS": ["arn:aws:iam::111122223333:role/reader", "444455556666"]},
        {"CanonicalUser": OWNER_ID},
        {"Service": "cloudtrail.amazonaws.com"},
        {"Service": ["logging.s3.amazonaws.com", "delivery.logs.amazonaws.com"]},
        {"Federated": "arn:aws:iam::111122223333:saml-provider/corp-idp"},
    ],
)
def test_fixed_principals_are_not_public(principal: Any) -> None:
    analysis = analyze_policy(policy_of(stmt(Principal=principal)))
    assert analysis.is_public is False
    assert analysis.public_statements == ()
    assert analysis.restricted_statements == ()


def test_service_wildcard_principal_is_public() -> None:
    # AWS only treats *fixed* service principals as non-public; "*" is not fixed.
    (finding,) = analyze_policy(policy_of(stmt(Principal={"Service": "*"}))).public_statements
    assert finding.audience == "any AWS service"
    assert "to any AWS service" in finding.reason


def test_partial_wildcard_aws_principal_is_public() -> None:
    principal = {"AWS": "arn:aws:iam::*:root"}
    (finding,) = analyze_policy(policy_of(stmt(Principal=principal))).public_statements
    assert finding.audience == "any AWS principal matching arn:aws:iam::*:root"


def test_public_identity_provider_federation_is_public() -> None:
    # The first "public" example in AWS's "The meaning of public".
    principal = {"Federated": "graph.facebook.com"}
    analysis = analyze_policy(policy_of(stmt(Principal=principal, Action="s3:PutObject")))
    (finding,) = analysis.public_statements
    assert finding.audience == "anyone signed in with graph.facebook.com"
    assert "allows s3:PutObject to anyone signed in with graph.facebook.com" in finding.reason


def test_not_principal_in_allow_is_public() -> None:
    statement = stmt(Principal=None, NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"})
    (finding,) = analyze_policy(policy_of(statement)).public_statements
    assert finding.principal_element == "NotPrincipal"
    assert finding.audience == "everyone except the listed principals"
    assert finding.reason == (
        'policy statement "PublicRead" allows s3:GetObject to everyone except the listed '
        'principals ("NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"})'
    )


def test_not_principal_in_deny_is_not_public() -> None:
    statement = stmt(
        Effect="Deny", Principal=None, NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"}
    )
    assert analyze_policy(policy_of(statement)).is_public is False


def test_deny_only_policy_is_not_public() -> None:
    analysis = analyze_policy(
        policy_of(
            stmt(Sid="DenyAll", Effect="Deny", Action="s3:*"),
            stmt(Sid="DenyDelete", Effect="Deny", Principal={"AWS": "*"}, Action="s3:Delete*"),
        )
    )
    assert analysis.has_policy is True
    assert analysis.statement_count == 2
    assert analysis.is_public is False
    assert analysis.restricted_statements == ()


def test_effect_is_case_insensitive() -> None:
    assert analyze_policy(policy_of(stmt(Effect="allow"))).is_public is True
    assert analyze_policy(policy_of(stmt(Effect="DENY"))).is_public is False


def test_single_statement_object_is_accepted() -> None:
    analysis = analyze_policy({"Version": "2012-10-17", "Statement": stmt()})
    assert analysis.statement_count == 1
    assert analysis.public_statements[0].reason == PUBLIC_READ_REASON


def test_multiple_statements_only_public_ones_reported_in_order() -> None:
    analysis = analyze_policy(
        policy_of(
            stmt(Sid="CloudTrail", Principal={"Service": "cloudtrail.amazonaws.com"}),
            stmt(Sid="PublicRead"),
            stmt(Sid="Partner", Principal={"AWS": "arn:aws:iam::444455556666:root"}),
            stmt(Sid="DenyPut", Effect="Deny", Action="s3:PutObject"),
            stmt(Sid="PublicList", Action="s3:ListBucket", Resource=BUCKET_ARN),
            stmt(
                Sid="VpcOnly",
                Condition={"StringEquals": {"aws:SourceVpc": "vpc-91237329"}},
            ),
        )
    )
    assert analysis.statement_count == 6
    assert [s.sid for s in analysis.public_statements] == ["PublicRead", "PublicList"]
    assert [s.index for s in analysis.public_statements] == [1, 4]
    assert analysis.public_statements[1].reason == (
        'policy statement "PublicList" allows s3:ListBucket to anyone ("Principal": "*")'
    )
    assert [s.sid for s in analysis.restricted_statements] == ["VpcOnly"]


def test_statement_without_sid_is_named_by_position() -> None:
    analysis = analyze_policy(
        policy_of(stmt(Sid=None, Effect="Deny"), stmt(Sid=None, Action=["s3:GetObject"]))
    )
    (finding,) = analysis.public_statements
    assert finding.sid is None
    assert finding.index == 1
    assert finding.label == "statement #2"
    assert finding.reason.startswith("policy statement #2 allows s3:GetObject to anyone")


def test_action_and_resource_lists_are_kept_as_written() -> None:
    statement = stmt(Action=["s3:GetObject", "s3:ListBucket"], Resource=[BUCKET_ARN, OBJECTS_ARN])
    (finding,) = analyze_policy(policy_of(statement)).public_statements
    assert finding.actions == ("s3:GetObject", "s3:ListBucket")
    assert finding.resources == (BUCKET_ARN, OBJECTS_ARN)
    assert "allows s3:GetObject, s3:ListBucket to anyone" in finding.reason


def test_not_action_is_described_as_everything_except() -> None:
    statement = stmt(Action=None, NotAction="s3:DeleteObject")
    (finding,) = analyze_policy(policy_of(statement)).public_statements
    assert finding.action_element == "NotAction"
    assert finding.actions == ("s3:DeleteObject",)
    assert "allows every action except s3:DeleteObject to anyone" in finding.reason


def test_not_resource_is_recorded() -> None:
    statement = stmt(Resource=None, NotResource=f"{BUCKET_ARN}/private/*")
    (finding,) = analyze_policy(policy_of(statement)).public_statements
    assert finding.resource_element == "NotResource"
    assert finding.resources == (f"{BUCKET_ARN}/private/*",)


def test_any_action_to_anyone_is_public_even_harmless_looking_ones() -> None:
    # AWS evaluates current *and future* actions, so no action list makes "*" non-public.
    statement = stmt(Action="s3:GetBucketLocation", Resource=BUCKET_ARN)
    assert analyze_policy(policy_of(statement)).is_public is True


# --- policy: conditions that pin (not public) --------------------------------------------


PINNING_CONDITIONS: list[dict[str, Any]] = [
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.7/32"]}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.9"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},  # exactly /8 is still fixed
    {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}},  # exactly /32 for IPv6
    {"IpAddress": {"aws:SourceIp": "2001:db8:1234::/48"}},
    {"IpAddress": {"aws:SourceIp": ["192.168.0.0/16", "2001:db8::/64"]}},
    {"StringEquals": {"aws:SourceVpc": "vpc-91237329"}},  # AWS's own example
    {"StringEquals": {"aws:SourceVpce": ["vpce-1a2b3c4d", "vpce-5e6f7a8b"]}},
    {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
    {"StringEqualsIgnoreCase": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
    {"StringEquals": {"aws:PrincipalAccount": "111122223333"}},
    {"StringEquals": {"aws:PrincipalAccount": 111122223333}},  # JSON number
    {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/reader"}},
    {"StringEquals": {"aws:SourceAccount": "111122223333"}},
    {"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}},
    {"ArnLike": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}},
    {"StringLike": {"aws:SourceOwner": "111122223333"}},
    {"StringEquals": {"aws:userid": "AIDAJQABLZS4A3QDU576Q"}},
    {"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}},  # documented "AROLEID:*" form
    {"StringEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KMS_KEY_ARN}},
    {"StringLike": {"s3:DataAccessPointArn": "arn:aws:s3:us-west-2:123456789012:accesspoint/*"}},
    {"StringEquals": {"s3:DataAccessPointAccount": "123456789012"}},
    {"StringEquals": {"AWS:SOURCEVPC": "vpc-91237329"}},  # keys are case-insensitive
    # One pinning condition restricts the statement: conditions are AND-ed.
    {
        "StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d", "s3:prefix": "home/"},
        "NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"},
    },
]


@pytest.mark.parametrize("condition", PINNING_CONDITIONS)
def test_condition_pinning_documented_key_to_fixed_values_is_not_public(
    condition: dict[str, Any],
) -> None:
    analysis = analyze_policy(policy_of(stmt(Condition=condition)))
    assert analysis.is_public is False
    (finding,) = analysis.restricted_statements
    assert finding.public is False
    assert len(finding.pinned_by) == 1
    assert finding.reason.startswith(
        'policy statement "PublicRead" allows s3:GetObject to anyone ("Principal": "*") only when '
    )
    assert finding.reason.endswith("AWS does not count access pinned to fixed values as public")


def test_pinned_reason_quotes_the_condition_as_written() -> None:
    condition = {"StringEquals": {"aws:SourceVpc": "vpc-91237329"}}
    (finding,) = analyze_policy(policy_of(stmt(Condition=condition))).restricted_statements
    assert finding.pinned_by == ('StringEquals {"aws:SourceVpc": "vpc-91237329"}',)
    assert 'only when StringEquals {"aws:SourceVpc": "vpc-91237329"}' in finding.reason


def test_documented_key_list_matches_aws_user_guide() -> None:
    assert {
        "aws:sourceip",
        "aws:sourcearn",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceowner",
        "aws:sourceaccount",
        "aws:principalorgid",
        "aws:userid",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:dataaccesspointarn",
        "s3:dataaccesspointaccount",
    } <= PINNING_CONDITION_KEYS


# --- policy: conditions that do not pin (still public) -----------------------------------


NON_PINNING_CONDITIONS: list[tuple[dict[str, Any], str]] = [
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, "0.0.0.0/0 covers every IPv4 address"),
    ({"IpAddress": {"aws:SourceIp": "::/0"}}, "::/0 covers every IPv6 address"),
    (
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}},
        "0.0.0.0/1 is broader than /8, which AWS evaluates as public",
    ),
    ({"IpAddress": {"aws:SourceIp": "12.0.0.0/7"}}, "12.0.0.0/7 is broader than /8"),
    ({"IpAddress": {"aws:SourceIp": "2001:db8::/31"}}, "2001:db8::/31 is broader than /32"),
    (
        {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/0"]}},
        "0.0.0.0/0 covers every IPv4 address",
    ),
    ({"IpAddress": {"aws:SourceIp": "not-an-ip"}}, "'not-an-ip' is not a valid IP address"),
    (
        {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        "does not restrict aws:SourceIp to fixed ranges",
    ),
    (
        {"StringEquals": {"aws:SourceIp": "203.0.113.0/24"}},
        "does not restrict aws:SourceIp to fixed ranges",
    ),
    (
        {"IpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"}},
        "also matches requests that lack aws:SourceIp",
    ),
    # AWS's own "still public" example.
    ({"StringLike": {"aws:SourceVpc": "vpc-*"}}, "aws:SourceVpc value 'vpc-*' contains a wildcard"),
    ({"StringLike": {"aws:PrincipalOrgID": "o-?1b2c3"}}, "contains a wildcard"),
    ({"StringEquals": {"aws:SourceAccount": "*"}}, "contains a wildcard"),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:*"}}, "contains a wildcard"),
    (
        {"StringEquals": {"aws:SourceVpc": "${aws:SourceVpc}"}},
        "is a policy variable, not a fixed value",
    ),
    ({"StringEquals": {"aws:SourceVpc": ""}}, "is empty"),
    ({"StringEquals": {"aws:SourceVpc": []}}, "lists no values"),
    (
        {"StringNotEquals": {"aws:SourceVpc": "vpc-91237329"}},
        "does not restrict aws:SourceVpc to fixed values",
    ),
    (
        {"StringNotLike": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        "does not restrict aws:PrincipalOrgID to fixed values",
    ),
    (
        {"Null": {"aws:SourceVpc": "false"}},
        "does not restrict aws:SourceVpc to fixed values",
    ),
    (
        {"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        "uses a multi-value set operator",
    ),
    (
        {"ForAllValues:StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
        "uses a multi-value set operator",
    ),
    (
        {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-91237329"}},
        "also matches requests that lack aws:SourceVpc",
    ),
    ({"StringLike": {"aws:userid": "AROA*"}}, "contains a wildcard"),
    ({"StringLike": {"aws:userid": "AROAEXAMPLEID:session-*"}}, "contains a wildcard"),
    (
        {"StringLike": {"s3:DataAccessPointArn": "arn:aws:s3:us-west-2:*:accesspoint/*"}},
        "contains a wildcard",
    ),
    (
        {"StringEquals": {"s3:prefix": "home/"}},
        "s3:prefix is not a key AWS accepts as limiting public access",
    ),
    (
        {"Bool": {"aws:SecureTransport": "true"}},
        "aws:SecureTransport is not a key AWS accepts as limiting public access",
    ),
    (
        {"StringEquals": {"aws:Referer": "https://www.example.com/"}},
        "aws:Referer is not a key AWS accepts as limiting public access",
    ),
]


@pytest.mark.parametrize(("condition", "explanation"), NON_PINNING_CONDITIONS)
def test_condition_that_does_not_pin_stays_public(
    condition: dict[str, Any], explanation: str
) -> None:
    analysis = analyze_policy(policy_of(stmt(Condition=condition)))
    assert analysis.is_public is True
    assert analysis.restricted_statements == ()
    (finding,) = analysis.public_statements
    assert finding.pinned_by == ()
    assert any(explanation in text for text in finding.unpinned_conditions)
    assert finding.reason.startswith(PUBLIC_READ_REASON + "; its Condition does not limit it (")
    assert explanation in finding.reason


def test_broad_ip_reason_is_human_readable() -> None:
    condition = {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}
    (finding,) = analyze_policy(policy_of(stmt(Condition=condition))).public_statements
    assert finding.reason == (
        PUBLIC_READ_REASON + "; its Condition does not limit it "
        '(IpAddress {"aws:SourceIp": "0.0.0.0/0"}: 0.0.0.0/0 covers every IPv4 address)'
    )


def test_condition_also_pins_not_principal_statement() -> None:
    statement = stmt(
        Principal=None,
        NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"},
        Condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
    )
    analysis = analyze_policy(policy_of(statement))
    assert analysis.is_public is False
    assert analysis.restricted_statements[0].principal_element == "NotPrincipal"


def test_condition_on_fixed_principal_statement_is_ignored() -> None:
    statement = stmt(
        Principal={"AWS": "arn:aws:iam::111122223333:root"},
        Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
    )
    analysis = analyze_policy(policy_of(statement))
    assert analysis.public_statements == ()
    assert analysis.restricted_statements == ()


# --- policy: TLS-only statement ----------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        tls_deny(),
        tls_deny(Principal={"AWS": "*"}),
        tls_deny(Principal={"AWS": ["*"]}),
        tls_deny(Action="*"),
        tls_deny(Action=["s3:GetObject", "s3:*"]),
        tls_deny(Resource="*"),
        tls_deny(Resource="arn:aws:s3:::*"),
        tls_deny(Resource=[f"arn:aws-cn:s3:::{BUCKET}", f"arn:aws-cn:s3:::{BUCKET}/*"]),
        tls_deny(Condition={"Bool": {"aws:SecureTransport": False}}),
        tls_deny(Condition={"Bool": {"aws:SecureTransport": ["false"]}}),
        tls_deny(Condition={"BoolIfExists": {"aws:securetransport": "FALSE"}}),
        tls_deny(Sid=None),
    ],
)
def test_tls_only_statement_detected(statement: dict[str, Any]) -> None:
    document = policy_of(stmt(Sid="Partner", Principal={"AWS": "111122223333"}), statement)
    assert has_tls_only_statement(document) is True
    assert has_tls_only_statement(json.dumps(document), bucket=BUCKET) is True
    analysis = analyze_policy(document)
    assert analysis.has_tls_only_statement is True
    assert analysis.is_public is False  # a Deny never makes a bucket public


@pytest.mark.parametrize(
    "statement",
    [
        tls_deny(Effect="Allow"),
        tls_deny(Principal={"AWS": "arn:aws:iam::111122223333:root"}),
        tls_deny(Principal={"AWS": "*", "Service": "cloudtrail.amazonaws.com"}),
        tls_deny(Action="s3:GetObject"),
        tls_deny(Action=None, NotAction="s3:ListBucket"),
        tls_deny(Resource=BUCKET_ARN),  # bucket only, objects not covered
        tls_deny(Resource=OBJECTS_ARN),  # objects only
        tls_deny(Resource=[BUCKET_ARN, f"{BUCKET_ARN}/public/*"]),
        tls_deny(Condition={"Bool": {"aws:SecureTransport": "true"}}),
        tls_deny(Condition={"Bool": {"aws:SecureTransport": ["false", "true"]}}),
        tls_deny(Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}}),
        tls_deny(Condition=None),
        # An extra AND-ed condition narrows the Deny: not every insecure request is denied.
        tls_deny(
            Condition={
                "Bool": {"aws:SecureTransport": "false"},
                "StringEquals": {"aws:SourceVpc": "vpc-91237329"},
            }
        ),
        tls_deny(
            Condition={
                "Bool": {"aws:SecureTransport": "false", "aws:MultiFactorAuthPresent": "false"}
            }
        ),
    ],
)
def test_not_a_tls_only_statement(statement: dict[str, Any]) -> None:
    statement = {k: v for k, v in statement.items() if v is not None}
    assert has_tls_only_statement(policy_of(statement)) is False


def test_tls_only_checks_bucket_name_when_given() -> None:
    document = policy_of(tls_deny())
    assert has_tls_only_statement(document, bucket=BUCKET) is True
    assert has_tls_only_statement(document, bucket="other-bucket") is False


def test_tls_only_without_policy_is_false() -> None:
    assert has_tls_only_statement(None) is False
    assert analyze_policy(None).has_tls_only_statement is False


def test_tls_only_invalid_json_raises() -> None:
    with pytest.raises(PolicyParseError):
        has_tls_only_statement("{")


# --- ACLs --------------------------------------------------------------------------------


def test_all_users_read_is_public_for_anyone() -> None:
    (public,) = analyze_acl(PUBLIC_ACL)
    assert public.group == "AllUsers"
    assert public.grantee_uri == ALL_USERS_URI
    assert public.audience == "anyone"
    assert public.permissions == ("READ",)
    assert public.reason == ALL_USERS_READ_REASON


def test_authenticated_users_is_public_for_any_aws_user() -> None:
    (public,) = analyze_acl([grant(AUTHENTICATED_USERS_URI, "WRITE")])
    assert public.group == "AuthenticatedUsers"
    assert public.audience == "any AWS user"
    assert public.reason == (
        "bucket ACL grants WRITE (create, overwrite and delete objects) to any AWS user "
        "(AuthenticatedUsers group)"
    )


@pytest.mark.parametrize(
    ("permission", "meaning"),
    [
        ("READ", "READ (list the objects)"),
        ("WRITE", "WRITE (create, overwrite and delete objects)"),
        ("READ_ACP", "READ_ACP (read the bucket ACL)"),
        ("WRITE_ACP", "WRITE_ACP (rewrite the bucket ACL)"),
        ("FULL_CONTROL", "FULL_CONTROL (every permission on the bucket)"),
    ],
)
def test_each_acl_permission_is_reported(permission: str, meaning: str) -> None:
    (public,) = analyze_acl([grant(ALL_USERS_URI, permission)])
    assert public.permissions == (permission,)
    assert public.reason == f"bucket ACL grants {meaning} to anyone (AllUsers group)"


def test_permissions_are_grouped_per_grantee_and_ordered() -> None:
    grants = [
        grant(AUTHENTICATED_USERS_URI, "READ_ACP"),
        grant(ALL_USERS_URI, "WRITE_ACP"),
        grant(ALL_USERS_URI, "READ"),
        grant(ALL_USERS_URI, "READ"),  # duplicate grant
        grant(ALL_USERS_URI, "FULL_CONTROL"),
        owner_grant(),
    ]
    all_users, authenticated = analyze_acl(grants)
    assert all_users.group == "AllUsers"  # AllUsers is reported first whatever the input order
    assert all_users.permissions == ("FULL_CONTROL", "READ", "WRITE_ACP")
    assert all_users.reason == (
        "bucket ACL grants FULL_CONTROL (every permission on the bucket), READ (list the "
        "objects), WRITE_ACP (rewrite the bucket ACL) to anyone (AllUsers group)"
    )
    assert authenticated.group == "AuthenticatedUsers"
    assert authenticated.permissions == ("READ_ACP",)


def test_private_acl_has_no_public_grants() -> None:
    grants = [
        owner_grant(),
        grant(LOG_DELIVERY_URI, "WRITE"),
        {
            "Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "x@example.com"},
            "Permission": "READ",
        },
    ]
    assert analyze_acl(grants) == []
    assert analyze_acl([]) == []
    assert analyze_acl(None) == []


def test_object_acl_wording() -> None:
    (public,) = analyze_acl([grant(ALL_USERS_URI, "READ")], resource_kind="object")
    assert public.resource_kind == "object"
    assert public.reason == (
        "object ACL grants READ (read the object and its metadata) to anyone (AllUsers group)"
    )


def test_group_uri_variants_are_recognised() -> None:
    grants = [grant("HTTPS://acs.amazonaws.com/groups/global/allusers ", "READ")]
    (public,) = analyze_acl(grants)
    assert public.group == "AllUsers"


def test_malformed_grants_are_skipped() -> None:
    grants: list[Any] = [
        "READ",
        {"Permission": "READ"},
        {"Grantee": "AllUsers", "Permission": "READ"},
        {"Grantee": {"Type": "Group", "URI": ALL_USERS_URI}},
        grant(ALL_USERS_URI, "READ"),
    ]
    (public,) = analyze_acl(grants)
    assert public.permissions == ("READ",)


def test_unknown_permission_is_kept_verbatim() -> None:
    (public,) = analyze_acl([grant(ALL_USERS_URI, "READ"), grant(ALL_USERS_URI, "NEW_PERM")])
    assert public.permissions == ("READ", "NEW_PERM")
    assert public.reason.endswith("READ (list the objects), NEW_PERM to anyone (AllUsers group)")


# --- verdict: baseline -------------------------------------------------------------------


def test_private_bucket_verdict() -> None:
    result = verdict()
    assert result.public is False
    assert result.reasons == []
    assert result.neutralised == []
    assert result.notes == []
    assert result.acl_public is False
    assert result.policy_public is False


def test_public_acl_makes_bucket_public() -> None:
    result = verdict(acl_grants=PUBLIC_ACL)
    assert result.public is True
    assert result.reasons == [ALL_USERS_READ_REASON]
    assert result.neutralised == []
    assert result.acl_public is True


def test_authenticated_users_acl_makes_bucket_public() -> None:
    result = verdict(acl_grants=[grant(AUTHENTICATED_USERS_URI, "READ")])
    assert result.public is True
    assert result.reasons == [
        "bucket ACL grants READ (list the objects) to any AWS user (AuthenticatedUsers group)"
    ]


def test_public_policy_makes_bucket_public() -> None:
    result = verdict(policy=json.dumps(PUBLIC_POLICY))
    assert result.public is True
    assert result.reasons == [PUBLIC_READ_REASON]
    assert result.policy_public is True
    assert result.public_statements[0].sid == "PublicRead"


def test_acl_and_policy_both_reported() -> None:
    result = verdict(acl_grants=PUBLIC_ACL, policy=PUBLIC_POLICY)
    assert result.reasons == [ALL_USERS_READ_REASON, PUBLIC_READ_REASON]


def test_deny_only_policy_verdict_is_private() -> None:
    result = verdict(policy=policy_of(tls_deny()))
    assert result.public is False
    assert result.reasons == []
    assert result.notes == []


def test_pinned_statement_is_explained_in_notes_not_reasons() -> None:
    condition = {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}
    result = verdict(policy=policy_of(stmt(Condition=condition)))
    assert result.public is False
    assert result.reasons == []
    assert len(result.notes) == 1
    assert 'only when StringEquals {"aws:SourceVpce": "vpce-1a2b3c4d"}' in result.notes[0]
    assert result.restricted_statements[0].sid == "PublicRead"


# --- verdict: ACL neutralisers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("bucket_pab", "account_pab", "where"),
    [
        ({"IgnorePublicAcls": True}, None, "bucket level"),
        (None, {"IgnorePublicAcls": True}, "account level"),
        ({"IgnorePublicAcls": True}, {"IgnorePublicAcls": True}, "account and bucket level"),
        ({"IgnorePublicAcls": True}, {"IgnorePublicAcls": False}, "bucket level"),
        ({"IgnorePublicAcls": False}, {"IgnorePublicAcls": True}, "account level"),
    ],
)
def test_ignore_public_acls_neutralises_acl(
    bucket_pab: dict[str, bool] | None, account_pab: dict[str, bool] | None, where: str
) -> None:
    result = verdict(acl_grants=PUBLIC_ACL, bucket_pab=bucket_pab, account_pab=account_pab)
    assert result.public is False
    assert result.reasons == []
    assert result.neutralised == [
        f"{ALL_USERS_READ_REASON}: neutralised because IgnorePublicAcls is on ({where})"
    ]
    assert result.acl_public is True  # the grant still exists


@pytest.mark.parametrize("level", ["bucket", "account"])
def test_block_public_acls_alone_does_not_neutralise_existing_acl(level: str) -> None:
    pab = {"BlockPublicAcls": True}
    result = verdict(
        acl_grants=PUBLIC_ACL,
        bucket_pab=pab if level == "bucket" else None,
        account_pab=pab if level == "account" else None,
    )
    assert result.public is True
    assert result.reasons == [ALL_USERS_READ_REASON]
    assert result.neutralised == []
    assert result.notes == [
        f"BlockPublicAcls is on ({level} level) but it only rejects new public ACLs; the "
        "existing public ACL grants still apply. Turn on IgnorePublicAcls or set Object "
        "Ownership to BucketOwnerEnforced to neutralise them."
    ]


def test_bucket_owner_enforced_disables_acls() -> None:
    result = verdict(acl_grants=PUBLIC_ACL, object_ownership="BucketOwnerEnforced")
    assert result.public is False
    assert result.neutralised == [
        f"{ALL_USERS_READ_REASON}: neutralised because ACLs are disabled "
        "(Object Ownership is BucketOwnerEnforced)"
    ]


@pytest.mark.parametrize("ownership", ["BucketOwnerPreferred", "ObjectWriter", None])
def test_other_ownership_settings_keep_acls_active(ownership: str | None) -> None:
    result = verdict(acl_grants=PUBLIC_ACL, object_ownership=ownership)
    assert result.public is True
    assert result.reasons == [ALL_USERS_READ_REASON]


def test_ownership_and_ignore_acls_are_both_named() -> None:
    result = verdict(
        acl_grants=PUBLIC_ACL,
        object_ownership="BucketOwnerEnforced",
        account_pab={"IgnorePublicAcls": True},
    )
    assert result.neutralised == [
        f"{ALL_USERS_READ_REASON}: neutralised because ACLs are disabled (Object Ownership is "
        "BucketOwnerEnforced) and IgnorePublicAcls is on (account level)"
    ]


def test_ownership_enforced_does_not_neutralise_policy() -> None:
    result = verdict(policy=PUBLIC_POLICY, object_ownership="BucketOwnerEnforced")
    assert result.public is True
    assert result.reasons == [PUBLIC_READ_REASON]


def test_ignore_acls_does_not_neutralise_policy() -> None:
    result = verdict(
        acl_grants=PUBLIC_ACL, policy=PUBLIC_POLICY, bucket_pab={"IgnorePublicAcls": True}
    )
    assert result.public is True
    assert result.reasons == [PUBLIC_READ_REASON]
    assert len(result.neutralised) == 1
    assert result.neutralised[0].startswith(ALL_USERS_READ_REASON)


# --- verdict: policy neutralisers --------------------------------------------------------


RESTRICT_NOTE = (
    "RestrictPublicBuckets applies because the bucket policy is public: only AWS service "
    "principals and users of the bucket owner's account can use it, so cross-account grants "
    "in the same policy are blocked too."
)


@pytest.mark.parametrize(
    ("bucket_pab", "account_pab", "where"),
    [
        ({"RestrictPublicBuckets": True}, None, "bucket level"),
        (None, {"RestrictPublicBuckets": True}, "account level"),
        (
            {"RestrictPublicBuckets": True},
            {"RestrictPublicBuckets": True},
            "account and bucket level",
        ),
    ],
)
def test_restrict_public_buckets_neutralises_public_policy(
    bucket_pab: dict[str, bool] | None, account_pab: dict[str, bool] | None, where: str
) -> None:
    result = verdict(policy=PUBLIC_POLICY, bucket_pab=bucket_pab, account_pab=account_pab)
    assert result.public is False
    assert result.reasons == []
    assert result.neutralised == [
        f"{PUBLIC_READ_REASON}: neutralised because RestrictPublicBuckets is on ({where})"
    ]
    assert result.notes == [RESTRICT_NOTE]
    assert result.policy_public is True


@pytest.mark.parametrize("level", ["bucket", "account"])
def test_block_public_policy_alone_does_not_neutralise_attached_policy(level: str) -> None:
    pab = {"BlockPublicPolicy": True}
    result = verdict(
        policy=PUBLIC_POLICY,
        bucket_pab=pab if level == "bucket" else None,
        account_pab=pab if level == "account" else None,
    )
    assert result.public is True
    assert result.reasons == [PUBLIC_READ_REASON]
    assert result.neutralised == []
    assert result.notes == [
        f"BlockPublicPolicy is on ({level} level) but it only rejects new public policies; the "
        "bucket policy already attached stays in force. Turn on RestrictPublicBuckets to "
        "neutralise it."
    ]


def test_restrict_public_buckets_without_public_policy_changes_nothing() -> None:
    partner = policy_of(stmt(Sid="Partner", Principal={"AWS": "444455556666"}))
    result = verdict(policy=partner, bucket_pab={"RestrictPublicBuckets": True})
    assert result.public is False
    assert result.neutralised == []
    assert result.notes == []


def test_aws_documented_mixed_policy_example_with_restrict() -> None:
    # CloudTrail + Account-2 + a public statement, RestrictPublicBuckets on (AWS's own example).
    document = policy_of(
        stmt(Sid="CloudTrail", Principal={"Service": "cloudtrail.amazonaws.com"}),
        stmt(Sid="Account2", Principal={"AWS": "arn:aws:iam::444455556666:root"}),
        stmt(Sid="Everyone"),
    )
    result = verdict(policy=document, bucket_pab={"RestrictPublicBuckets": True})
    assert result.public is False
    assert len(result.neutralised) == 1
    assert result.neutralised[0].startswith('policy statement "Everyone" allows s3:GetObject')
    assert RESTRICT_NOTE in result.notes


def test_each_public_statement_gets_its_own_reason() -> None:
    document = policy_of(
        stmt(Sid="Read"),
        stmt(Sid="Write", Action="s3:PutObject", Principal={"AWS": "*"}),
    )
    result = verdict(policy=document)
    assert result.reasons == [
        'policy statement "Read" allows s3:GetObject to anyone ("Principal": "*")',
        'policy statement "Write" allows s3:PutObject to anyone ("Principal": {"AWS": "*"})',
    ]


# --- verdict: every Block Public Access combination --------------------------------------


def _pab_cases() -> list[tuple[frozenset[str], str]]:
    cases = []
    for size in range(len(PAB_FLAGS) + 1):
        for flags in itertools.combinations(PAB_FLAGS, size):
            for level in ("account", "bucket", "both"):
                if flags or level == "account":  # the empty set only needs one run
                    cases.append((frozenset(flags), level))
    return cases


@pytest.mark.parametrize(("flags", "level"), _pab_cases())
def test_every_pab_combination(flags: frozenset[str], level: str) -> None:
    on = {flag: flag in flags for flag in PAB_FLAGS}
    result = verdict(
        acl_grants=PUBLIC_ACL,
        policy=PUBLIC_POLICY,
        account_pab=on if level in {"account", "both"} else {f: False for f in PAB_FLAGS},
        bucket_pab=on if level in {"bucket", "both"} else None,
    )
    acl_ignored = "IgnorePublicAcls" in flags
    policy_restricted = "RestrictPublicBuckets" in flags

    assert result.public is not (acl_ignored and policy_restricted)
    assert (ALL_USERS_READ_REASON in result.reasons) is not acl_ignored
    assert (PUBLIC_READ_REASON in result.reasons) is not policy_restricted
    assert len(result.reasons) + len(result.neutralised) == 2
    where = "account and bucket level" if level == "both" else f"{level} level"
    for flag in PAB_FLAGS:
        expected_levels = (
            [] if flag not in flags else (["account", "bucket"] if level == "both" else [level])
        )
        assert result.block_public_access[flag] == expected_levels
    if acl_ignored:
        assert any(f"IgnorePublicAcls is on ({where})" in n for n in result.neutralised)
    if policy_restricted:
        assert any(f"RestrictPublicBuckets is on ({where})" in n for n in result.neutralised)
    # The "only blocks new ..." hints appear exactly when the Block* flag is on alone.
    acl_hint = any(n.startswith("BlockPublicAcls is on") for n in result.notes)
    assert acl_hint is ("BlockPublicAcls" in flags and not acl_ignored)
    policy_hint = any(n.startswith("BlockPublicPolicy is on") for n in result.notes)
    assert policy_hint is ("BlockPublicPolicy" in flags and not policy_restricted)


def test_pab_flags_are_ored_across_levels() -> None:
    result = verdict(
        acl_grants=PUBLIC_ACL,
        policy=PUBLIC_POLICY,
        account_pab={"IgnorePublicAcls": True, "RestrictPublicBuckets": False},
        bucket_pab={"IgnorePublicAcls": False, "RestrictPublicBuckets": True},
    )
    assert result.public is False
    assert result.block_public_access["IgnorePublicAcls"] == ["account"]
    assert result.block_public_access["RestrictPublicBuckets"] == ["bucket"]


def test_pab_string_values_are_read_strictly() -> None:
    off = verdict(acl_grants=PUBLIC_ACL, bucket_pab={"IgnorePublicAcls": "false"})
    assert off.public is True
    on = verdict(acl_grants=PUBLIC_ACL, bucket_pab={"IgnorePublicAcls": "True"})
    assert on.public is False
    empty = verdict(acl_grants=PUBLIC_ACL, bucket_pab={}, account_pab={})
    assert empty.public is True


# --- verdict: AWS GetBucketPolicyStatus cross-check --------------------------------------


def test_agreeing_policy_status_adds_no_note() -> None:
    assert verdict(policy=PUBLIC_POLICY, aws_policy_status_is_public=True).notes == []
    assert verdict(policy=None, aws_policy_status_is_public=False).notes == []
    assert verdict(policy=PUBLIC_POLICY, aws_policy_status_is_public=None).notes == []


def test_portal_public_but_aws_says_not_public_is_noted() -> None:
    result = verdict(policy=PUBLIC_POLICY, aws_policy_status_is_public=False)
    assert result.public is True  # the portal keeps the stricter verdict
    assert result.reasons == [PUBLIC_READ_REASON]
    assert result.notes == [
        'the portal\'s policy analysis finds the bucket policy public (statement "PublicRead") '
        "but AWS GetBucketPolicyStatus reports it as not public (IsPublic=false); the portal "
        "keeps the stricter verdict, review the statement."
    ]


def test_aws_says_public_but_portal_does_not_fails_safe() -> None:
    condition = {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/reader"}}
    result = verdict(policy=policy_of(stmt(Condition=condition)), aws_policy_status_is_public=True)
    assert result.policy_public is False
    assert result.public is True
    assert result.reasons == ["AWS GetBucketPolicyStatus reports the bucket policy as public"]
    assert result.notes[0] == (
        "AWS GetBucketPolicyStatus reports the bucket policy as public (IsPublic=true) but the "
        "portal's policy analysis found no public statement; AWS enforces Block Public Access "
        "by its own evaluation, so the portal follows AWS here."
    )
    # The restricted statement is still explained.
    assert "only when ArnEquals" in result.notes[1]


def test_aws_says_public_but_restrict_public_buckets_neutralises_it() -> None:
    result = verdict(
        policy=policy_of(stmt(Effect="Deny")),
        aws_policy_status_is_public=True,
        account_pab={"RestrictPublicBuckets": True},
    )
    assert result.public is False
    assert result.neutralised == [
        "AWS GetBucketPolicyStatus reports the bucket policy as public: neutralised because "
        "RestrictPublicBuckets is on (account level)"
    ]
    assert any("GetBucketPolicyStatus" in n and "portal" in n for n in result.notes)


# --- verdict: serialisation --------------------------------------------------------------


def test_to_dict_is_json_serialisable_and_complete() -> None:
    condition = {"StringEquals": {"aws:SourceVpc": "vpc-91237329"}}
    result = verdict(
        acl_grants=PUBLIC_ACL,
        policy=policy_of(stmt(), stmt(Sid="Vpc", Condition=condition)),
        bucket_pab={"IgnorePublicAcls": True},
        aws_policy_status_is_public=True,
    )
    data = json.loads(json.dumps(result.to_dict()))
    assert data["public"] is True
    assert data["reasons"] == [PUBLIC_READ_REASON]
    assert data["neutralised"] == [
        f"{ALL_USERS_READ_REASON}: neutralised because IgnorePublicAcls is on (bucket level)"
    ]
    assert data["acl_public"] is True
    assert data["policy_public"] is True
    assert data["aws_policy_status_is_public"] is True
    assert data["public_grants"][0]["permissions"] == ["READ"]
    assert data["public_statements"][0]["sid"] == "PublicRead"
    assert data["public_statements"][0]["actions"] == ["s3:GetObject"]
    assert data["restricted_statements"][0]["pinned_by"] == [
        'StringEquals {"aws:SourceVpc": "vpc-91237329"}'
    ]
    assert data["block_public_access"] == {
        "BlockPublicAcls": [],
        "IgnorePublicAcls": ["bucket"],
        "BlockPublicPolicy": [],
        "RestrictPublicBuckets": [],
    }


def test_policy_analysis_to_dict() -> None:
    data = analyze_policy(policy_of(stmt(), tls_deny())).to_dict()
    assert data["is_public"] is True
    assert data["has_tls_only_statement"] is True
    assert data["statement_count"] == 2
    assert data["public_statements"][0]["label"] == 'statement "PublicRead"'


def test_results_are_frozen() -> None:
    result = verdict()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.public = True  # type: ignore[misc]
    finding = analyze_policy(PUBLIC_POLICY).public_statements[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.reason = "nothing to see"  # type: ignore[misc]
