"""The check registry: every check registered once, in report order, and the shared opening
("an input that could not be read makes the check an error naming it") applied before a
check runs."""

from __future__ import annotations

from storage.scan.checks import CHECK_NAMES, CHECKS, ERROR, FACTS_FOR_CHECK, evaluate
from storage.scan.checks.registry import REGISTRY
from storage.scan.collect import BucketFacts, Fetched

REPORT_ORDER = (
    "public",
    "acl",
    "policy",
    "policy_status",
    "public_access_block",
    "ownership",
    "logging",
    "versioning",
    "encryption",
    "website",
    "tls_only",
    "lifecycle",
    "replication",
    "object_lock",
)


def test_checks_are_registered_once_in_report_order() -> None:
    assert CHECK_NAMES == REPORT_ORDER
    assert tuple(REGISTRY) == tuple(CHECKS) == tuple(FACTS_FOR_CHECK) == REPORT_ORDER
    assert CHECKS["acl"] == ("Bucket ACL", "high")
    assert CHECKS["object_lock"] == ("Object Lock", "info")
    assert REGISTRY["tls_only"].facts == frozenset({"policy"})


def test_an_unreadable_fact_is_an_error_naming_it_without_running_the_check() -> None:
    denied = "the credentials of account 'a' lack s3:GetBucketLogging on bucket 'b'"
    facts = BucketFacts(
        name="b",
        region="us-east-1",
        calls={"logging": Fetched("GetBucketLogging", error=denied, error_code="AccessDenied")},
    )
    result = evaluate(facts, None, ["logging"]).checks["logging"]
    assert result.status == ERROR
    assert result.detail == denied
    assert result.severity == "medium"


def test_checks_with_their_own_opening_declare_none() -> None:
    # public and public_access_block weigh unreadable inputs themselves (a block that was read
    # can settle the answer), so the registry must not turn them into errors first.
    assert REGISTRY["public"].unreadable == ()
    assert REGISTRY["public_access_block"].unreadable == ()
    assert REGISTRY["policy_status"].unreadable == ("policy_status", "policy")
