"""Conflict analysis: which action wins where enabled rules overlap, and rules that never fire.

S3's documented precedence (S3 UG "lifecycle-conflicts"): permanent deletion (expiration)
beats transition; among transitions the cheaper class wins (Deep Archive, then Glacier Flexible
Retrieval, then Intelligent-Tiering over every other class); the shortest expiration wins.
The analysis is conservative: two rules overlap when some object can match both filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifecycle.s3shape import CLASS_NAMES, Rule

# Lower = wins a conflict (the cheaper class, as S3 resolves it).
CLASS_PRECEDENCE = {
    "DEEP_ARCHIVE": 1,
    "GLACIER": 2,
    "INTELLIGENT_TIERING": 3,
    "GLACIER_IR": 4,
    "ONEZONE_IA": 5,
    "STANDARD_IA": 6,
}


@dataclass(frozen=True)
class Scope:
    prefix: str
    tags: dict[str, str]
    greater: int | None
    less: int | None


def scope_of(rule: Rule) -> Scope:
    if "Filter" not in rule:
        return Scope(str(rule.get("Prefix") or ""), {}, None, None)
    flt: dict[str, Any] = rule.get("Filter") or {}
    body = flt.get("And", flt)
    tags = list(body.get("Tags") or []) + ([flt["Tag"]] if "Tag" in flt else [])
    return Scope(
        str(body.get("Prefix") or ""),
        {str(t.get("Key")): str(t.get("Value", "")) for t in tags},
        body.get("ObjectSizeGreaterThan"),
        body.get("ObjectSizeLessThan"),
    )


def overlap(a: Scope, b: Scope) -> bool:
    if not (a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)):
        return False
    if any(k in b.tags and b.tags[k] != v for k, v in a.tags.items()):
        return False
    low = max(x for x in (a.greater, b.greater, -1) if x is not None)
    highs = [x for x in (a.less, b.less) if x is not None]
    return not highs or low + 1 < min(highs)


def covers(a: Scope, b: Scope) -> bool:
    """Every object b matches, a matches too."""
    if not b.prefix.startswith(a.prefix):
        return False
    if any(b.tags.get(k) != v for k, v in a.tags.items()):
        return False
    if a.greater is not None and (b.greater is None or b.greater < a.greater):
        return False
    return not (a.less is not None and (b.less is None or b.less > a.less))


def _expire_days(rule: Rule) -> int | None:
    days = (rule.get("Expiration") or {}).get("Days")
    return days if isinstance(days, int) else None


def _first_action_days(rule: Rule) -> int | None:
    days = [t.get("Days") for t in rule.get("Transitions") or [] if isinstance(t.get("Days"), int)]
    exp = _expire_days(rule)
    if exp is not None:
        days.append(exp)
    other = (
        rule.get("NoncurrentVersionTransitions")
        or rule.get("NoncurrentVersionExpiration")
        or rule.get("AbortIncompleteMultipartUpload")
        or (rule.get("Expiration") or {}).get("ExpiredObjectDeleteMarker")
    )
    if other or any("Date" in t for t in rule.get("Transitions") or []):
        return None  # actions not measured in days since creation: never claim "never fires"
    return min(days) if days else None


@dataclass
class Conflict:
    rules: tuple[str, str]
    text: str
    never_fires: str = ""  # the ID of a rule that can never act


def analyse(rules: list[Rule]) -> list[Conflict]:
    enabled = [r for r in rules if r.get("Status") == "Enabled"]
    found: list[Conflict] = []
    for i, a in enumerate(enabled):
        for b in enabled[i + 1 :]:
            sa, sb = scope_of(a), scope_of(b)
            if not overlap(sa, sb):
                continue
            found += _pair(a, b, sa, sb)
    return found


def _pair(a: Rule, b: Rule, sa: Scope, sb: Scope) -> list[Conflict]:
    ida, idb = str(a.get("ID")), str(b.get("ID"))
    out: list[Conflict] = []
    ea, eb = _expire_days(a), _expire_days(b)
    if ea is not None and eb is not None and ea != eb:
        win, lose, days = (ida, idb, ea) if ea < eb else (idb, ida, eb)
        out.append(
            Conflict(
                (ida, idb),
                f"Where {ida} and {idb} overlap, the shorter expiration wins: "
                f"objects expire after {days} days ({win}), not {max(ea, eb)} ({lose}).",
            )
        )
    for exp_rule, exp_days, other in ((ida, ea, b), (idb, eb, a)):
        if exp_days is None:
            continue
        late = [
            t
            for t in other.get("Transitions") or []
            if isinstance(t.get("Days"), int) and t["Days"] >= exp_days
        ]
        if late:
            classes = ", ".join(CLASS_NAMES.get(t["StorageClass"], t["StorageClass"]) for t in late)
            out.append(
                Conflict(
                    (ida, idb),
                    f"Expiration beats transition: where they overlap, objects "
                    f"expire after {exp_days} days ({exp_rule}) before {other.get('ID')} "
                    f"moves them to {classes}.",
                )
            )
    ta = {t.get("Days"): t.get("StorageClass") for t in a.get("Transitions") or [] if "Days" in t}
    tb = {t.get("Days"): t.get("StorageClass") for t in b.get("Transitions") or [] if "Days" in t}
    for day in sorted(set(ta) & set(tb)):
        ca, cb = ta[day], tb[day]
        if ca != cb:
            win = ca if CLASS_PRECEDENCE.get(ca, 9) < CLASS_PRECEDENCE.get(cb, 9) else cb
            out.append(
                Conflict(
                    (ida, idb),
                    f"On day {day} {ida} and {idb} move the same objects to "
                    f"different classes: the cheaper one wins ({CLASS_NAMES.get(win, win)}).",
                )
            )
    for killer, k_scope, victim, v_scope in ((a, sa, b, sb), (b, sb, a, sa)):
        k_exp = _expire_days(killer)
        v_first = _first_action_days(victim)
        if (
            k_exp is not None
            and v_first is not None
            and covers(k_scope, v_scope)
            and (k_exp <= v_first and _expire_days(victim) != k_exp)
        ):
            out.append(
                Conflict(
                    (ida, idb),
                    f"Rule {victim.get('ID')} can never fire: {killer.get('ID')} "
                    f"expires every object it matches after {k_exp} days, before its first "
                    f"action (day {v_first}).",
                    never_fires=str(victim.get("ID")),
                )
            )
    return out


def summary(rules: list[Rule]) -> dict[str, Any]:
    conflicts = analyse(rules)
    return {
        "conflicts": conflicts,
        "never_fires": sorted({c.never_fires for c in conflicts if c.never_fires}),
    }
