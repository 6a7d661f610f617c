"""Local validation of lifecycle rules to AWS's documented rules, before any request.

moto accepts much of what S3 rejects, so the portal checks itself. Each problem is one
sentence naming the rule. Sources (the tests cite them per rule):
PutBucketLifecycleConfiguration / LifecycleRule / LifecycleRuleFilter / Transition API
reference; S3 User Guide "lifecycle-transition-general-considerations" and
"intro-lifecycle-rules"; aws/aws-cli#7677 (midnight dates), #8239 (delete marker + size);
hashicorp/terraform-provider-aws#23882 (And with one predicate).
"""

from __future__ import annotations

from typing import Any

from lifecycle.s3shape import CLASS_NAMES, TDMOS, parse_date

MAX_RULES = 1000
MAX_ID = 255
MAX_PREFIX = 1024
MAX_SIZE = 5 * 1024**4  # 5 TB, the largest object S3 stores
MAX_NEWER_NONCURRENT = 100
STORAGE_CLASSES = tuple(CLASS_NAMES)
IA_CLASSES = ("STANDARD_IA", "ONEZONE_IA")
ARCHIVE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
# The lifecycle "waterfall": objects only move down it (S3 UG, transition considerations).
WATERFALL = {
    "STANDARD_IA": 1,
    "INTELLIGENT_TIERING": 2,
    "ONEZONE_IA": 3,
    "GLACIER_IR": 4,
    "GLACIER": 5,
    "DEEP_ARCHIVE": 6,
}
TDMOS_VALUES = ("all_storage_classes_128K", "varies_by_storage_class")
RULE_KEYS = {
    "ID",
    "Status",
    "Filter",
    "Prefix",
    "Expiration",
    "Transitions",
    "NoncurrentVersionTransitions",
    "NoncurrentVersionExpiration",
    "AbortIncompleteMultipartUpload",
}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _name(rule: dict[str, Any], index: int) -> str:
    rid = rule.get("ID") if isinstance(rule, dict) else None
    return f"rule {rid!r}" if rid else f"rule #{index + 1}"


def validate_configuration(config: dict[str, Any]) -> list[str]:
    """Problems of a whole configuration ({"Rules": [...], TDMOS?}); [] when S3 would take it."""
    rules = config.get("Rules") or []
    problems: list[str] = []
    if len(rules) > MAX_RULES:
        problems.append(
            f"A configuration holds at most {MAX_RULES} rules; this one has {len(rules)}."
        )
    seen: dict[str, int] = {}
    for index, rule in enumerate(rules):
        rid = rule.get("ID") if isinstance(rule, dict) else None
        if rid:
            if rid in seen:
                problems.append(f"Rule ID {rid!r} is used twice; IDs must be unique.")
            seen[rid] = index
    tdmos = config.get(TDMOS)
    if tdmos is not None and tdmos not in TDMOS_VALUES:
        problems.append(f"{TDMOS} must be one of {', '.join(TDMOS_VALUES)}, not {tdmos!r}.")
    for index, rule in enumerate(rules):
        problems += validate_rule(rule, index)
    return problems


def validate_rule(rule: Any, index: int = 0) -> list[str]:
    if not isinstance(rule, dict):
        return [f"Rule #{index + 1} is not an object."]
    name = _name(rule, index)
    problems: list[str] = []
    unknown = sorted(set(rule) - RULE_KEYS)
    if unknown:
        problems.append(f"{name}: unknown field(s) {', '.join(unknown)}.")
    rid = rule.get("ID")
    if not rid or not isinstance(rid, str):
        problems.append(f"{name}: every rule needs an ID.")
    elif len(rid) > MAX_ID:
        problems.append(f"{name}: the ID is {len(rid)} characters; S3 allows at most {MAX_ID}.")
    if rule.get("Status") not in ("Enabled", "Disabled"):
        problems.append(f"{name}: Status must be Enabled or Disabled.")
    has_tag = False
    has_size = False
    if "Filter" in rule and "Prefix" in rule:
        problems.append(f"{name}: use Filter or the legacy Prefix, not both.")
    elif "Filter" not in rule and "Prefix" not in rule:
        problems.append(
            f"{name}: a rule needs a Filter (an empty one for all objects); S3 answers "
            "MalformedXML otherwise."
        )
    elif "Prefix" in rule:
        if len(str(rule["Prefix"])) > MAX_PREFIX:
            problems.append(f"{name}: the prefix is longer than {MAX_PREFIX} characters.")
    else:
        filter_problems, has_tag, has_size = _check_filter(name, rule.get("Filter"))
        problems += filter_problems
    problems += _check_expiration(name, rule.get("Expiration"), has_tag, has_size)
    problems += _check_transitions(name, rule)
    problems += _check_noncurrent(name, rule)
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort is not None:
        days = _int((abort or {}).get("DaysAfterInitiation"))
        if days is None or days <= 0:
            problems.append(
                f"{name}: abort incomplete multipart uploads needs DaysAfterInitiation > 0."
            )
        if has_tag:
            problems.append(
                f"{name}: aborting incomplete multipart uploads cannot be combined with a tag "
                "filter (uploads have no tags yet)."
            )
    actions = (
        "Expiration",
        "Transitions",
        "NoncurrentVersionTransitions",
        "NoncurrentVersionExpiration",
        "AbortIncompleteMultipartUpload",
    )
    if not any(rule.get(a) for a in actions):
        problems.append(f"{name}: the rule has no action (expiration, transition, ...).")
    return problems


def _check_filter(name: str, flt: Any) -> tuple[list[str], bool, bool]:
    if flt is None or flt == {}:
        return [], False, False
    if not isinstance(flt, dict):
        return [f"{name}: Filter must be an object."], False, False
    problems: list[str] = []
    keys = set(flt)
    allowed = {"Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan", "And"}
    if keys - allowed:
        problems.append(f"{name}: unknown filter field(s) {', '.join(sorted(keys - allowed))}.")
    if len(keys) > 1:
        problems.append(
            f"{name}: a Filter holds exactly one of Prefix, Tag, ObjectSizeGreaterThan, "
            "ObjectSizeLessThan or And; combine several with And."
        )
    body = flt.get("And") if "And" in flt else flt
    if not isinstance(body, dict):
        return [*problems, f"{name}: And must be an object."], False, False
    tags = list(body.get("Tags") or []) + ([flt["Tag"]] if "Tag" in flt else [])
    if "And" in flt:
        count = (
            int(bool(body.get("Prefix")))
            + len(body.get("Tags") or [])
            + int(body.get("ObjectSizeGreaterThan") is not None)
            + int(body.get("ObjectSizeLessThan") is not None)
        )
        if count < 2:
            problems.append(
                f"{name}: And needs two or more predicates (S3 answers MalformedXML otherwise); "
                "use the predicate directly."
            )
        extra = set(body) - {"Prefix", "Tags", "ObjectSizeGreaterThan", "ObjectSizeLessThan"}
        if extra:
            problems.append(f"{name}: unknown And field(s) {', '.join(sorted(extra))}.")
    prefix = body.get("Prefix")
    if prefix is not None and len(str(prefix)) > MAX_PREFIX:
        problems.append(f"{name}: the prefix is longer than {MAX_PREFIX} characters.")
    keys_seen: set[str] = set()
    for tag in tags:
        if not isinstance(tag, dict) or not tag.get("Key"):
            problems.append(f"{name}: every tag needs a Key.")
            continue
        if tag["Key"] in keys_seen:
            problems.append(f"{name}: tag key {tag['Key']!r} appears twice.")
        keys_seen.add(tag["Key"])
        if len(str(tag["Key"])) > 128 or len(str(tag.get("Value", ""))) > 256:
            problems.append(f"{name}: tag keys are at most 128 and values 256 characters.")
    greater = body.get("ObjectSizeGreaterThan")
    less = body.get("ObjectSizeLessThan")
    for label, value in (("ObjectSizeGreaterThan", greater), ("ObjectSizeLessThan", less)):
        if value is None:
            continue
        number = _int(value)
        if number is None or number < 0 or number > MAX_SIZE:
            problems.append(f"{name}: {label} must be a whole number of bytes from 0 to 5 TB.")
    greater_int, less_int = _int(greater), _int(less)
    if greater_int is not None and less_int is not None and greater_int >= less_int:
        problems.append(
            f"{name}: ObjectSizeGreaterThan ({greater}) must be less than ObjectSizeLessThan "
            f"({less}), or the rule matches nothing."
        )
    return problems, bool(tags), greater is not None or less is not None


def _date_problem(name: str, what: str, value: Any) -> str | None:
    parsed = parse_date(value) if isinstance(value, str) else None
    if parsed is None:
        return f"{name}: {what} date {value!r} is not an ISO 8601 date."
    if parsed.utcoffset() or (parsed.hour, parsed.minute, parsed.second, parsed.microsecond) != (
        0,
        0,
        0,
        0,
    ):
        return (
            f"{name}: {what} date {value} must be at midnight UTC "
            f"(e.g. {parsed.date().isoformat()}T00:00:00+00:00); S3 rejects any other time."
        )
    return None


def _check_expiration(name: str, exp: Any, has_tag: bool, has_size: bool) -> list[str]:
    if exp is None:
        return []
    if not isinstance(exp, dict) or not exp:
        return [f"{name}: Expiration needs Days, Date or ExpiredObjectDeleteMarker."]
    problems: list[str] = []
    present = [k for k in ("Days", "Date", "ExpiredObjectDeleteMarker") if k in exp]
    if len(present) > 1:
        if "ExpiredObjectDeleteMarker" in present:
            problems.append(
                f"{name}: ExpiredObjectDeleteMarker stands alone; it cannot be combined with "
                "Days or Date in one Expiration."
            )
        else:
            problems.append(f"{name}: Expiration takes Days or Date, not both.")
    if "Days" in exp:
        days = _int(exp["Days"])
        if days is None or days <= 0:
            problems.append(f"{name}: expiration Days must be a whole number greater than 0.")
    if "Date" in exp:
        problem = _date_problem(name, "the expiration", exp["Date"])
        if problem:
            problems.append(problem)
    if "ExpiredObjectDeleteMarker" in exp:
        if not isinstance(exp["ExpiredObjectDeleteMarker"], bool):
            problems.append(f"{name}: ExpiredObjectDeleteMarker must be true or false.")
        if has_tag:
            problems.append(
                f"{name}: removing expired delete markers cannot be combined with a tag filter "
                "(delete markers have no tags)."
            )
        if has_size:
            problems.append(
                f"{name}: removing expired delete markers cannot be combined with an object "
                "size filter (S3 answers MalformedXML)."
            )
    return problems


def _check_steps(
    name: str, steps: Any, day_key: str, what: str, *, dates_allowed: bool
) -> tuple[list[str], list[tuple[int, str]]]:
    """Common checks of Transitions / NoncurrentVersionTransitions; returns (problems,
    [(days, class)] of the steps counted in days)."""
    if not isinstance(steps, list):
        return [f"{name}: {what} must be a list."], []
    problems: list[str] = []
    by_days: list[tuple[int, str]] = []
    classes: set[str] = set()
    kinds: set[str] = set()
    for step in steps:
        if not isinstance(step, dict):
            problems.append(f"{name}: each {what} step must be an object.")
            continue
        klass = step.get("StorageClass")
        if klass not in STORAGE_CLASSES:
            problems.append(
                f"{name}: {what} storage class {klass!r} is not one of "
                f"{', '.join(STORAGE_CLASSES)}."
            )
            continue
        if klass in classes:
            problems.append(f"{name}: {what} to {klass} appears twice.")
        classes.add(klass)
        has_days, has_date = day_key in step, dates_allowed and "Date" in step
        if has_days == has_date:
            problems.append(
                f"{name}: each {what} step needs "
                + (f"{day_key} or Date (one of them)." if dates_allowed else f"{day_key}.")
            )
            continue
        if has_date:
            kinds.add("date")
            problem = _date_problem(name, f"the {what} to {klass}", step["Date"])
            if problem:
                problems.append(problem)
            continue
        kinds.add("days")
        days = _int(step[day_key])
        # Transition API: 0 is allowed except for the IA classes, which need >= 30.
        if days is None or days < 0:
            problems.append(f"{name}: {what} {day_key} must be a whole number >= 0.")
            continue
        if klass in IA_CLASSES and days < 30:
            problems.append(
                f"{name}: objects must be at least 30 days "
                + ("noncurrent" if day_key == "NoncurrentDays" else "old")
                + f" before moving to {CLASS_NAMES[klass]} ({days} given)."
            )
        by_days.append((days, klass))
        nnv = step.get("NewerNoncurrentVersions")
        if nnv is not None and not (1 <= (_int(nnv) or 0) <= MAX_NEWER_NONCURRENT):
            problems.append(f"{name}: NewerNoncurrentVersions must be from 1 to 100.")
    if len(kinds) > 1:
        problems.append(f"{name}: do not mix Date and Days based {what} steps in one rule.")
    ordered = sorted(by_days)
    for (d1, c1), (d2, c2) in zip(ordered, ordered[1:], strict=False):
        if c1 == "DEEP_ARCHIVE":
            problems.append(
                f"{name}: nothing moves out of {CLASS_NAMES['DEEP_ARCHIVE']} (a {what} to "
                f"{CLASS_NAMES[c2]} after it)."
            )
        elif WATERFALL[c2] <= WATERFALL[c1]:
            problems.append(
                f"{name}: S3 cannot move objects from {CLASS_NAMES[c1]} to {CLASS_NAMES[c2]} "
                "(transitions only go down: IA, Intelligent-Tiering, One Zone-IA, Glacier IR, "
                "Glacier, Deep Archive)."
            )
        if c1 in IA_CLASSES and c2 in ARCHIVE_CLASSES and d2 - d1 < 30:
            problems.append(
                f"{name}: objects must stay 30 days in {CLASS_NAMES[c1]} before moving to "
                f"{CLASS_NAMES[c2]} (day {d1} then day {d2})."
            )
        if d1 == d2:
            problems.append(f"{name}: two {what} steps on the same day ({d1}).")
    return problems, ordered


def _check_transitions(name: str, rule: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    steps = rule.get("Transitions")
    if steps:
        found, ordered = _check_steps(name, steps, "Days", "transition", dates_allowed=True)
        problems += found
        exp_days = _int((rule.get("Expiration") or {}).get("Days"))
        if ordered and exp_days is not None and exp_days <= ordered[-1][0]:
            problems.append(
                f"{name}: expiration Days ({exp_days}) must be greater than the last "
                f"transition's Days ({ordered[-1][0]})."
            )
    steps = rule.get("NoncurrentVersionTransitions")
    if steps:
        found, ordered = _check_steps(
            name, steps, "NoncurrentDays", "noncurrent transition", dates_allowed=False
        )
        problems += found
        nve_days = _int((rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays"))
        if ordered and nve_days is not None and nve_days <= ordered[-1][0]:
            problems.append(
                f"{name}: noncurrent expiration ({nve_days} days) must come after the last "
                f"noncurrent transition ({ordered[-1][0]} days)."
            )
    return problems


def _check_noncurrent(name: str, rule: dict[str, Any]) -> list[str]:
    nve = rule.get("NoncurrentVersionExpiration")
    if nve is None:
        return []
    if not isinstance(nve, dict):
        return [f"{name}: NoncurrentVersionExpiration must be an object."]
    problems: list[str] = []
    days = _int(nve.get("NoncurrentDays"))
    if days is None or days <= 0:
        problems.append(f"{name}: noncurrent expiration NoncurrentDays must be greater than 0.")
    nnv = nve.get("NewerNoncurrentVersions")
    if nnv is not None and not (1 <= (_int(nnv) or 0) <= MAX_NEWER_NONCURRENT):
        problems.append(
            f"{name}: NewerNoncurrentVersions (noncurrent versions to keep) must be from 1 to "
            f"{MAX_NEWER_NONCURRENT}."
        )
    return problems
