"""S3's own JSON shape of lifecycle rules: rows to and from it, normalisation, words.

The shape is what ``aws s3api get-bucket-lifecycle-configuration`` prints and what boto3's
``put_bucket_lifecycle_configuration`` takes (dates as ISO 8601 strings). Conversion is
lossless: ``rule_from_s3(rule_to_s3(row))`` gives the same row, ``rule_to_s3(rule_from_s3(d))``
the same dict (key order as S3 documents it).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from lifecycle.models import LifecycleRule

Rule = dict[str, Any]
TDMOS = "TransitionDefaultMinimumObjectSize"


def portal_prefix() -> str:
    return str(getattr(settings, "LIFECYCLE_RULE_ID_PREFIX", "s3portal-"))


def _json_safe(value: Any) -> Any:
    """datetimes (boto3 parses Date fields) -> ISO strings; everything else as it is."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat()
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def normalise_configuration(response: dict[str, Any] | None) -> dict[str, Any]:
    """A Get answer (or None for NoSuchLifecycleConfiguration) as plain JSON:
    {"Rules": [...], "TransitionDefaultMinimumObjectSize"?: ...}. Raises ValueError for an
    answer that is not a lifecycle configuration (the caller refuses to write over it)."""
    if response is None:
        return {"Rules": []}
    rules = response.get("Rules")
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise ValueError("the answer has no list of Rules")
    config: dict[str, Any] = {"Rules": _json_safe(rules)}
    if response.get(TDMOS):
        config[TDMOS] = response[TDMOS]
    return config


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def fingerprint(config: dict[str, Any]) -> str:
    """Fingerprint of a whole configuration (rule order matters: S3 keeps it)."""
    return hashlib.sha256(canonical(config).encode()).hexdigest()


def parse_date(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def midnight_utc(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat()


# --- rows <-> S3 -------------------------------------------------------------------------


def rule_to_s3(row: LifecycleRule) -> Rule:
    rule: Rule = {"ID": row.rule_id}
    kind = row.filter_kind
    if kind == "legacy":
        rule["Prefix"] = row.prefix
    elif kind == "all":
        rule["Filter"] = {}
    elif kind == "prefix":
        rule["Filter"] = {"Prefix": row.prefix}
    elif kind == "tag":
        rule["Filter"] = {"Tag": dict(row.tags[0]) if row.tags else {}}
    elif kind == "size_gt":
        rule["Filter"] = {"ObjectSizeGreaterThan": row.size_greater_than}
    elif kind == "size_lt":
        rule["Filter"] = {"ObjectSizeLessThan": row.size_less_than}
    else:
        both: Rule = {}
        if row.prefix:
            both["Prefix"] = row.prefix
        if row.tags:
            both["Tags"] = [dict(t) for t in row.tags]
        if row.size_greater_than is not None:
            both["ObjectSizeGreaterThan"] = row.size_greater_than
        if row.size_less_than is not None:
            both["ObjectSizeLessThan"] = row.size_less_than
        rule["Filter"] = {"And": both}
    rule["Status"] = "Enabled" if row.enabled else "Disabled"
    expiration: Rule = {}
    if row.expiration_date:
        expiration["Date"] = row.expiration_date
    if row.expiration_days is not None:
        expiration["Days"] = row.expiration_days
    if row.expired_object_delete_marker is not None:
        expiration["ExpiredObjectDeleteMarker"] = row.expired_object_delete_marker
    if expiration:
        rule["Expiration"] = expiration
    if row.transitions:
        rule["Transitions"] = [dict(t) for t in row.transitions]
    if row.noncurrent_transitions:
        rule["NoncurrentVersionTransitions"] = [dict(t) for t in row.noncurrent_transitions]
    if row.noncurrent_expiration_days is not None or row.newer_noncurrent_versions is not None:
        nve: Rule = {}
        if row.noncurrent_expiration_days is not None:
            nve["NoncurrentDays"] = row.noncurrent_expiration_days
        if row.newer_noncurrent_versions is not None:
            nve["NewerNoncurrentVersions"] = row.newer_noncurrent_versions
        rule["NoncurrentVersionExpiration"] = nve
    if row.abort_multipart_days is not None:
        rule["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": row.abort_multipart_days}
    return rule


def rule_fields_from_s3(rule: Rule) -> dict[str, Any]:
    """The LifecycleRule field values of one S3 rule (no bucket, position or audit fields)."""
    fields: dict[str, Any] = {
        "rule_id": rule.get("ID", ""),
        "enabled": rule.get("Status") == "Enabled",
        "filter_kind": "all",
        "prefix": "",
        "tags": [],
        "size_greater_than": None,
        "size_less_than": None,
    }
    if "Filter" not in rule and "Prefix" in rule:
        fields.update(filter_kind="legacy", prefix=rule.get("Prefix") or "")
    else:
        flt = rule.get("Filter") or {}
        if "And" in flt:
            both = flt["And"] or {}
            fields.update(
                filter_kind="and",
                prefix=both.get("Prefix", ""),
                tags=[dict(t) for t in both.get("Tags", [])],
                size_greater_than=both.get("ObjectSizeGreaterThan"),
                size_less_than=both.get("ObjectSizeLessThan"),
            )
        elif "Prefix" in flt:
            fields.update(filter_kind="prefix", prefix=flt["Prefix"])
        elif "Tag" in flt:
            fields.update(filter_kind="tag", tags=[dict(flt["Tag"])])
        elif "ObjectSizeGreaterThan" in flt:
            fields.update(filter_kind="size_gt", size_greater_than=flt["ObjectSizeGreaterThan"])
        elif "ObjectSizeLessThan" in flt:
            fields.update(filter_kind="size_lt", size_less_than=flt["ObjectSizeLessThan"])
    expiration = rule.get("Expiration") or {}
    nve = rule.get("NoncurrentVersionExpiration") or {}
    fields.update(
        expiration_days=expiration.get("Days"),
        expiration_date=_json_safe(expiration.get("Date")) or "",
        expired_object_delete_marker=expiration.get("ExpiredObjectDeleteMarker"),
        transitions=_json_safe([dict(t) for t in rule.get("Transitions", [])]),
        noncurrent_transitions=[dict(t) for t in rule.get("NoncurrentVersionTransitions", [])],
        noncurrent_expiration_days=nve.get("NoncurrentDays"),
        newer_noncurrent_versions=nve.get("NewerNoncurrentVersions"),
        abort_multipart_days=(rule.get("AbortIncompleteMultipartUpload") or {}).get(
            "DaysAfterInitiation"
        ),
    )
    return fields


def rule_from_s3(rule: Rule, **extra: Any) -> LifecycleRule:
    from lifecycle.models import LifecycleRule

    return LifecycleRule(**rule_fields_from_s3(rule), **extra)


def canonical_rule(rule: Rule) -> Rule:
    """A portal rule in the portal's key order (S3 answers in its own order)."""
    return _json_safe(rule_to_s3(rule_from_s3(rule)))


# --- words -------------------------------------------------------------------------------

CLASS_NAMES = {
    "STANDARD_IA": "Standard-IA",
    "ONEZONE_IA": "One Zone-IA",
    "INTELLIGENT_TIERING": "Intelligent-Tiering",
    "GLACIER_IR": "Glacier Instant Retrieval",
    "GLACIER": "Glacier Flexible Retrieval",
    "DEEP_ARCHIVE": "Glacier Deep Archive",
}


def _size(n: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def _day(text: str) -> str:
    parsed = parse_date(text)
    return parsed.date().isoformat() if parsed else str(text)


def describe_filter(rule: Rule) -> str:
    if "Filter" not in rule:
        prefix = rule.get("Prefix")
        return f"objects under {prefix}" if prefix else "all objects"
    flt: dict[str, Any] = rule.get("Filter") or {}
    both = flt.get("And", flt)
    parts = []
    if both.get("Prefix"):
        parts.append(f"under {both['Prefix']}")
    tags = list(both.get("Tags", [])) + ([flt["Tag"]] if "Tag" in flt else [])
    if tags:
        parts.append("tagged " + " and ".join(f"{t.get('Key')}={t.get('Value')}" for t in tags))
    if both.get("ObjectSizeGreaterThan") is not None:
        parts.append(f"larger than {_size(int(both['ObjectSizeGreaterThan']))}")
    if both.get("ObjectSizeLessThan") is not None:
        parts.append(f"smaller than {_size(int(both['ObjectSizeLessThan']))}")
    return "objects " + " ".join(parts) if parts else "all objects"


def describe_rule(rule: Rule) -> str:
    """One sentence: "objects under logs/ tagged temp=true expire 7 days after creation"."""
    actions: list[str] = []
    for t in rule.get("Transitions", []):
        when = f"{t['Days']} days after creation" if "Days" in t else f"on {_day(t.get('Date'))}"
        actions.append(
            f"move to {CLASS_NAMES.get(t.get('StorageClass'), t.get('StorageClass'))} {when}"
        )
    exp = rule.get("Expiration") or {}
    if "Days" in exp:
        actions.append(f"expire {exp['Days']} days after creation")
    if "Date" in exp:
        actions.append(f"expire on {_day(exp['Date'])}")
    if exp.get("ExpiredObjectDeleteMarker"):
        actions.append("lose their delete markers once no older version is left")
    for t in rule.get("NoncurrentVersionTransitions", []):
        keep = (
            f" (keeping the newest {t['NewerNoncurrentVersions']})"
            if t.get("NewerNoncurrentVersions")
            else ""
        )
        actions.append(
            f"old versions move to {CLASS_NAMES.get(t.get('StorageClass'), t.get('StorageClass'))}"
            f" {t.get('NoncurrentDays')} days after becoming noncurrent{keep}"
        )
    nve = rule.get("NoncurrentVersionExpiration") or {}
    if nve:
        keep = (
            f", keeping the newest {nve['NewerNoncurrentVersions']}"
            if nve.get("NewerNoncurrentVersions")
            else ""
        )
        actions.append(
            f"old versions are deleted {nve.get('NoncurrentDays')} days after becoming "
            f"noncurrent{keep}"
        )
    abort = (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")
    if abort is not None:
        actions.append(f"unfinished multipart uploads are aborted after {abort} days")
    text = f"{describe_filter(rule)} " + ("; ".join(actions) if actions else "(no action)")
    if rule.get("Status") != "Enabled":
        text += " (disabled)"
    return text
