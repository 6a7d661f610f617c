"""One sentence saying what an applied fix changed (pages and `manage.py fix` alike).

The plan's summary says what *will* be done ("Enable versioning (now never enabled)."); after
Apply, people want what *is* now true, and the exposure only when it changed.
"""

from __future__ import annotations

from typing import Any

from storage.remediation.base import FixPlan

EXPOSURE = {True: "public", False: "not public", None: "of unknown exposure"}


def _encryption(after: Any) -> str:
    rules = (after or {}).get("Rules") or [{}]
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
    algorithm = default.get("SSEAlgorithm", "")
    key = default.get("KMSMasterKeyID")
    if algorithm == "AES256":
        return "SSE-S3"
    return f"{algorithm} with key {key}" if key else algorithm or "configured"


def changed_sentence(plan: FixPlan) -> str:
    """What is true now, as a clause without the final full stop."""
    bucket, after = plan.bucket, plan.after
    if plan.action == "block_public_access":
        return f"All four Block Public Access settings are now on for {bucket}"
    if plan.action == "enable_versioning":
        return f"Versioning is now enabled on {bucket}"
    if plan.action == "default_encryption":
        return f"Default encryption of {bucket} is now {_encryption(after)}"
    if plan.action == "access_logging" and isinstance(after, dict):
        target = f"s3://{after.get('TargetBucket')}/{after.get('TargetPrefix', '')}"
        return f"Server access logs of {bucket} now go to {target}"
    if plan.action == "tls_only":
        return f"The policy of {bucket} now denies requests without TLS"
    if plan.action == "remove_public_statement":
        return f"The public statement is gone from the policy of {bucket}"
    return plan.summary.rstrip(".")


def applied_message(plan: FixPlan, was_public: bool | None, is_public: bool | None) -> str:
    """One sentence: what changed, plus the exposure if (and only if) the rescan changed it."""
    text = changed_sentence(plan)
    if was_public != is_public:
        text += (
            f", and the rescan finds it {EXPOSURE[is_public]} now (it was {EXPOSURE[was_public]})"
        )
    return text + "."
