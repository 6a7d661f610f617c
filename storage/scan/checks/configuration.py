"""Checks of how the bucket is configured: logging, versioning, encryption, website hosting,
TLS-only policy, lifecycle, replication and Object Lock. Each reads one fact (the registry
turns an unreadable one into "error")."""

from __future__ import annotations

from storage.scan.checks.inputs import CheckInputs, value
from storage.scan.checks.registry import INFO, LOW, MEDIUM, CheckResult, fail, passed, register
from storage.scan.verdict import Verdict


@register("logging", "Server access logging", MEDIUM, facts={"logging"}, unreadable=("logging",))
def check_logging(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    enabled = (value(inputs.fetched("logging")) or {}).get("LoggingEnabled")
    if enabled:
        target = f"s3://{enabled.get('TargetBucket', '?')}/{enabled.get('TargetPrefix', '')}"
        return passed(f"Server access logs are delivered to {target}.")
    return fail(
        "logging",
        "Server access logging is off: there is no record of who read or changed objects. "
        "Fix: enable access logging to a log bucket in the same region.",
    )


@register(
    "versioning",
    "Versioning and MFA delete",
    MEDIUM,
    facts={"versioning"},
    unreadable=("versioning",),
)
def check_versioning(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    config = value(inputs.fetched("versioning")) or {}
    status = config.get("Status")
    mfa = "on" if config.get("MFADelete") == "Enabled" else "off"
    if status == "Enabled":
        return passed(f"Versioning is enabled; MFA delete is {mfa}.")
    if status == "Suspended":
        return fail(
            "versioning",
            f"Versioning is suspended (MFA delete is {mfa}): overwritten and deleted objects "
            "are no longer kept. Fix: enable versioning.",
        )
    return fail(
        "versioning",
        "Versioning has never been enabled: an overwrite or delete loses the object for good. "
        "Fix: enable versioning.",
    )


_SSE_NAMES = {"AES256": "SSE-S3 (AES256)", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}


@register(
    "encryption", "Default encryption", MEDIUM, facts={"encryption"}, unreadable=("encryption",)
)
def check_encryption(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    rules = (
        (value(inputs.fetched("encryption")) or {}).get("ServerSideEncryptionConfiguration") or {}
    ).get("Rules") or []
    if not rules:
        return fail(
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
    return passed("Default encryption: " + "; ".join(described) + ".")


@register("website", "Static website hosting", LOW, facts={"website"}, unreadable=("website",))
def check_website(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    config = value(inputs.fetched("website"))
    if not config:
        return passed("Static website hosting is off.")
    redirect = config.get("RedirectAllRequestsTo")
    if redirect:
        return fail(
            "website",
            f"Static website hosting redirects every request to {redirect.get('HostName')}.",
        )
    index = (config.get("IndexDocument") or {}).get("Suffix", "?")
    return fail(
        "website",
        f"Static website hosting is on (index document {index}): the website endpoint speaks "
        "plain HTTP only and serves whatever is publicly readable. Turn it off unless the "
        "bucket is meant to be a website.",
    )


@register("tls_only", "TLS-only bucket policy", MEDIUM, facts={"policy"}, unreadable=("policy",))
def check_tls_only(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    analysis = inputs.analysis
    if analysis is not None and analysis.has_tls_only_statement:
        return passed("The bucket policy denies every request that does not use TLS.")
    where = (
        "The bucket policy has"
        if analysis and analysis.has_policy
        else "There is no bucket policy, so there is"
    )
    return fail(
        "tls_only",
        f"{where} no statement denying requests made over plain HTTP "
        '(Deny s3:* when "aws:SecureTransport" is "false"). Fix: add a TLS-only statement.',
    )


@register(
    "lifecycle", "Lifecycle configuration", LOW, facts={"lifecycle"}, unreadable=("lifecycle",)
)
def check_lifecycle(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    rules = (value(inputs.fetched("lifecycle")) or {}).get("Rules") or []
    if not rules:
        return fail(
            "lifecycle",
            "No lifecycle configuration: old versions and incomplete multipart uploads are "
            "kept (and billed) until someone deletes them.",
        )
    enabled = sum(1 for r in rules if r.get("Status") == "Enabled")
    return passed(f"{len(rules)} lifecycle rule(s), {enabled} enabled.")


@register(
    "replication",
    "Replication",
    INFO,
    facts={"replication", "versioning"},
    unreadable=("replication",),
)
def check_replication(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    fetched = inputs.fetched("replication")
    config = (value(fetched) or {}).get("ReplicationConfiguration") or {}
    rules = config.get("Rules") or []
    if not rules:
        why = f" ({fetched.inferred})" if fetched is not None and fetched.inferred else ""
        return fail("replication", f"No replication configured{why}.")
    targets = sorted(
        {(r.get("Destination") or {}).get("Bucket", "?").split(":::")[-1] for r in rules}
    )
    return passed(f"{len(rules)} replication rule(s) to {', '.join(targets)}.")


@register(
    "object_lock",
    "Object Lock",
    INFO,
    facts={"object_lock", "versioning"},
    unreadable=("object_lock",),
)
def check_object_lock(inputs: CheckInputs, verdict: Verdict) -> CheckResult:
    fetched = inputs.fetched("object_lock")
    config = (value(fetched) or {}).get("ObjectLockConfiguration") or {}
    if config.get("ObjectLockEnabled") != "Enabled":
        why = f" ({fetched.inferred})" if fetched is not None and fetched.inferred else ""
        return fail("object_lock", f"Object Lock is off{why}.")
    retention = (config.get("Rule") or {}).get("DefaultRetention") or {}
    if retention:
        period = retention.get("Days") or retention.get("Years")
        unit = "days" if retention.get("Days") else "years"
        return passed(
            f"Object Lock is on; default retention {retention.get('Mode')} {period} {unit}."
        )
    return passed("Object Lock is on, without a default retention period.")
