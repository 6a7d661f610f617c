"""Merge-safe lifecycle writes on the fix machinery (storage.remediation): plan, apply, audit.

A plan reads the bucket's configuration (only NoSuchLifecycleConfiguration means "no rules";
any other error stops everything), replaces only the portal's own rules with the desired set,
keeps every foreign rule exactly as read (same position, same fields) and carries
TransitionDefaultMinimumObjectSize from the read into the Put. Applying re-plans, refuses when
the configuration changed since the dry run (the plan's fingerprint), sends exactly the
plan's requests, then records rows, a LifecycleVersion and the audit event in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from lifecycle.models import LifecycleRule, LifecycleVersion
from lifecycle.s3shape import (
    TDMOS,
    Rule,
    canonical_rule,
    fingerprint,
    normalise_configuration,
    portal_prefix,
    rule_fields_from_s3,
)
from lifecycle.validation import MAX_RULES, validate_rule
from storage.models import Bucket, Finding
from storage.remediation import FixConflict, FixError, FixOutcome, run_fix
from storage.remediation.base import Fix, FixContext, FixPlan, Request
from storage.scan.collect import call

DRIFT_CHECK = "lifecycle_drift"
GET = "GetBucketLifecycleConfiguration"


class LifecycleInvalid(FixError):
    """Refused before any request: the rules break S3's documented rules (one line each)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems) + " Nothing was changed.")


@dataclass(frozen=True)
class Current:
    """A bucket's lifecycle configuration as just read."""

    config: dict[str, Any]  # {"Rules": [...], TDMOS?}
    exists: bool

    @property
    def rules(self) -> list[Rule]:
        return list(self.config.get("Rules") or [])

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.config)


def read_current(ctx: FixContext) -> Current:
    """GetBucketLifecycleConfiguration; raises FixError for anything but "none configured"."""
    fetched = call(
        ctx.client,
        GET,
        account_name=ctx.account.name,
        resource=ctx.resource,
        Bucket=ctx.bucket_name,
    )
    if not fetched.ok:
        error = FixError(f"{fetched.error} Nothing was changed.")
        error.transient = fetched.transient  # type: ignore[attr-defined]
        raise error
    try:
        config = normalise_configuration(None if fetched.not_configured else fetched.value)
    except ValueError as exc:
        raise FixError(
            f"S3 gave a malformed lifecycle configuration for bucket {ctx.bucket_name} ({exc}); "
            "the portal does not write over what it cannot read. Nothing was changed."
        ) from exc
    return Current(config, exists=not fetched.not_configured)


def owned_ids(bucket: Bucket, current_rules: list[Rule] | None = None) -> set[str]:
    """IDs the portal owns: its rows, plus IDs with the portal's prefix (survives a lost DB)."""
    ids = set(LifecycleRule.objects.filter(bucket=bucket).values_list("rule_id", flat=True))
    prefix = portal_prefix()
    for rule in current_rules or []:
        rid = rule.get("ID") or ""
        if prefix and rid.startswith(prefix):
            ids.add(rid)
    return ids


def portal_rules(bucket: Bucket) -> list[Rule]:
    """The portal's own rules of a bucket (its rows), in S3's shape and order."""
    return [row.to_s3() for row in LifecycleRule.objects.filter(bucket=bucket)]


def split(rules: list[Rule], owned: set[str]) -> tuple[list[Rule], list[Rule]]:
    mine = [r for r in rules if r.get("ID") in owned]
    foreign = [r for r in rules if r.get("ID") not in owned]
    return mine, foreign


class LifecycleFix(Fix):
    """Set the portal's rules of a bucket (params "rules": the whole desired set)."""

    name = "lifecycle"
    label = "Lifecycle rules"
    description = "Write the portal's lifecycle rules; foreign rules are kept as they are."

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        rules = params.get("rules")
        if not isinstance(rules, list):
            raise LifecycleInvalid(["The desired rules must be a JSON list of rules."])
        problems = [p for i, r in enumerate(rules) for p in validate_rule(r, i)]
        if problems:
            raise LifecycleInvalid(problems)
        cleaned = dict(params)
        cleaned["rules"] = [canonical_rule(r) for r in rules]
        cleaned.setdefault("reason", LifecycleVersion.Reason.APPLY)
        return cleaned

    def plan(self, ctx: FixContext, params: dict[str, Any], *, limit: int | None = None) -> FixPlan:
        current = read_current(ctx)
        bucket = ctx.bucket
        assert bucket is not None  # FixContext.for_bucket sets it; lifecycle plans need the row
        owned = owned_ids(bucket, current.rules) | set(params.get("also_owned") or [])
        desired: list[Rule] = params["rules"]
        ids = [r["ID"] for r in desired]
        problems = [
            f"Rule ID {rid!r} is used twice." for rid in sorted(set(ids)) if ids.count(rid) > 1
        ]
        prefix = portal_prefix()
        current_ids = {r.get("ID") for r in current.rules}
        for rid in ids:
            if rid in current_ids and rid not in owned:
                problems.append(
                    f"Rule {rid!r} is a foreign rule (not written by the portal): adopt it first "
                    "to edit it."
                )
            elif rid not in owned and prefix and not rid.startswith(prefix):
                problems.append(
                    f"Rule {rid!r}: the IDs of new portal rules start with {prefix!r}, so they "
                    "stay recognisable even without the portal's database."
                )
        if problems:
            raise LifecycleInvalid(problems)

        exact = params.get("exact_rules")
        if exact is not None:  # rollback restoring foreign rules too: the version as it was
            merged = [dict(r) for r in exact]
        else:
            by_id = {r["ID"]: r for r in desired}
            merged = []
            for rule in current.rules:
                rid = rule.get("ID")
                if rid in owned:
                    if rid in by_id:
                        merged.append(by_id.pop(rid))
                else:
                    merged.append(rule)  # foreign: the very dict that was read
            merged += [r for r in desired if r["ID"] in by_id]
        if len(merged) > MAX_RULES:
            raise LifecycleInvalid(
                [
                    f"A configuration holds at most {MAX_RULES} rules; this one would have "
                    f"{len(merged)}."
                ]
            )
        after: dict[str, Any] = {"Rules": merged}
        if TDMOS in current.config:
            after[TDMOS] = current.config[TDMOS]
        changes = _changes(current.rules, merged, owned | set(ids))
        requests: list[Request] = []
        noop = merged == current.rules
        if not noop:
            if merged:
                put: dict[str, Any] = {
                    "Bucket": ctx.bucket_name,
                    "LifecycleConfiguration": {"Rules": merged},
                }
                if TDMOS in current.config:
                    put[TDMOS] = current.config[TDMOS]
                requests.append(Request("PutBucketLifecycleConfiguration", put))
            else:
                requests.append(Request("DeleteBucketLifecycle", {"Bucket": ctx.bucket_name}))
        summary = _summary(changes, noop, bool(merged))
        notes = []
        kept = [c["id"] for c in changes if c["state"] == "foreign"]
        if kept:
            notes.append(f"Foreign rule(s) kept exactly as they are: {', '.join(kept)}.")
        if TDMOS in current.config:
            notes.append(f"{TDMOS} stays {current.config[TDMOS]} (carried from the read).")
        owned_after = set(ids)
        if exact is not None:
            owned_after = {r.get("ID") for r in merged if r.get("ID") in owned_after}
        return FixPlan(
            self.name,
            ctx.bucket_name,
            summary,
            requests=requests,
            before=current.config,
            after=after,
            notes=notes,
            noop=noop,
            fingerprint=current.fingerprint,
            extra={
                "changes": changes,
                "reason": str(params.get("reason") or "apply"),
                "detail": str(params.get("detail") or ""),
                "owned_after": sorted(owned_after),
                "actor_name": str(params.get("actor_name") or ""),
            },
        )

    def apply(self, ctx: FixContext, plan: FixPlan) -> int:
        """Re-read right before the write: refuse (nothing sent) if the configuration is no
        longer the one the plan was made from."""
        if read_current(ctx).fingerprint != plan.fingerprint:
            raise FixConflict(self.conflict_message(plan))
        return super().apply(ctx, plan)

    def audit_action(self, plan: FixPlan) -> str:
        return f"lifecycle.{plan.extra.get('reason', 'apply')}"

    def conflict_message(self, plan: FixPlan) -> str:
        return (
            f"The lifecycle configuration of bucket {plan.bucket} changed since your dry run: "
            "review again. Nothing was changed."
        )

    def after_apply(self, ctx: FixContext, plan: FixPlan, *, actor: Any, event: Any) -> None:
        assert ctx.bucket is not None  # as in plan()
        record_applied(ctx.bucket, plan, actor=actor, actor_name=plan.extra.get("actor_name", ""))


def _changes(before: list[Rule], after: list[Rule], owned: set[str]) -> list[dict[str, Any]]:
    old = {r.get("ID"): r for r in before}
    new = {r.get("ID"): r for r in after}
    rows = []
    for rule in after:
        rid = rule.get("ID")
        if rid not in owned:
            state = "foreign" if old.get(rid) == rule else "foreign-restored"
        elif rid not in old:
            state = "added"
        elif old[rid] != rule:
            state = "changed"
        else:
            state = "unchanged"
        rows.append({"id": rid, "state": state})
    rows += [{"id": r.get("ID"), "state": "removed"} for r in before if r.get("ID") not in new]
    return rows


def _summary(changes: list[dict[str, Any]], noop: bool, any_left: bool) -> str:
    if noop:
        return "Nothing to change: the bucket already has exactly these rules."
    counts: dict[str, list[str]] = {}
    for c in changes:
        counts.setdefault(c["state"], []).append(str(c["id"]))
    parts = [
        f"{label} {', '.join(counts[state])}"
        for state, label in (
            ("added", "add"),
            ("changed", "change"),
            ("removed", "remove"),
            ("foreign-restored", "restore foreign"),
        )
        if counts.get(state)
    ]
    text = "; ".join(parts).capitalize() + "."
    if not any_left:
        text += " No rule is left, so the bucket's lifecycle configuration is deleted."
    elif counts.get("foreign"):
        text += f" {len(counts['foreign'])} foreign rule(s) kept."
    return text


# --- recording ---------------------------------------------------------------------------


def next_number(bucket: Bucket) -> int:
    top = LifecycleVersion.objects.filter(bucket=bucket).aggregate(n=Max("number"))["n"]
    return (top or 0) + 1


def record_version(
    bucket: Bucket,
    config: dict[str, Any],
    reason: str,
    *,
    owned: set[str] | list[str],
    actor: Any = None,
    actor_name: str = "",
    detail: str = "",
) -> LifecycleVersion:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return LifecycleVersion.objects.create(
        bucket=bucket,
        number=next_number(bucket),
        configuration=config,
        owned_ids=sorted(owned),
        fingerprint=fingerprint(config),
        reason=reason,
        detail=detail[:300],
        actor=user,
        actor_name=actor_name or (user.get_username() if user else ""),
    )


def sync_rows(bucket: Bucket, rules: list[Rule], owned: set[str], actor: Any) -> None:
    """Make the bucket's rows the portal-owned rules of `rules` (positions as in `rules`)."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    mine = [(i, r) for i, r in enumerate(rules) if r.get("ID") in owned]
    keep = [r["ID"] for _, r in mine]
    LifecycleRule.objects.filter(bucket=bucket).exclude(rule_id__in=keep).delete()
    existing = {row.rule_id: row for row in LifecycleRule.objects.filter(bucket=bucket)}
    now = timezone.now()
    for position, rule in mine:
        fields = rule_fields_from_s3(rule)
        row = existing.get(rule["ID"]) or LifecycleRule(bucket=bucket)
        changed = row.pk is None or row.to_s3() != canonical_rule(rule) or row.position != position
        for name, value in fields.items():
            setattr(row, name, value)
        row.position = position
        if changed:
            row.updated_by = user
            row.updated_at = now
            row.save()


def record_applied(bucket: Bucket, plan: FixPlan, *, actor: Any, actor_name: str = "") -> None:
    """After a successful write: rows, the version, and the drift finding resolved."""
    owned = set(plan.extra.get("owned_after") or [])
    before = plan.before or {"Rules": []}
    if not LifecycleVersion.objects.filter(bucket=bucket).exists() and before.get("Rules"):
        record_version(
            bucket,
            before,
            LifecycleVersion.Reason.OBSERVED,
            owned=owned_ids(bucket, before["Rules"]),
            detail="as found before the portal's first change",
        )
    sync_rows(bucket, plan.after["Rules"], owned, actor)
    record_version(
        bucket,
        plan.after,
        plan.extra.get("reason", LifecycleVersion.Reason.APPLY),
        owned=owned,
        actor=actor,
        actor_name=actor_name,
        detail=plan.extra.get("detail", ""),
    )
    Finding.objects.filter(bucket=bucket, check_name=DRIFT_CHECK, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolution="the portal's rules were written again"
    )


# --- entry points ------------------------------------------------------------------------

LIFECYCLE_FIX = LifecycleFix()


def _params(
    rules: list[Rule],
    *,
    reason: str,
    detail: str = "",
    exact_rules: list[Rule] | None = None,
    actor_name: str = "",
) -> dict[str, Any]:
    params: dict[str, Any] = {"rules": rules, "reason": reason, "detail": detail}
    if exact_rules is not None:
        params["exact_rules"] = exact_rules
    params["actor_name"] = actor_name
    return params


def plan_rules(bucket: Bucket, rules: list[Rule], **kwargs: Any) -> FixPlan:
    return run_rules(bucket, rules, dry_run=True, **kwargs).plan


def run_rules(
    bucket: Bucket,
    rules: list[Rule],
    *,
    reason: str = LifecycleVersion.Reason.APPLY,
    detail: str = "",
    actor: Any = None,
    actor_name: str | None = None,
    dry_run: bool = True,
    expected_digest: str | None = None,
    exact_rules: list[Rule] | None = None,
    rescan: bool = False,
) -> FixOutcome:
    """Plan (dry run) or apply the portal's desired rules for a bucket through run_fix.

    Raises LifecycleInvalid (refused: validation), FixConflict (changed since the dry run),
    FixError (AWS failed; the message names the account, permission and bucket)."""
    params = _params(
        rules, reason=reason, detail=detail, exact_rules=exact_rules, actor_name=actor_name or ""
    )
    return run_fix(
        bucket,
        LIFECYCLE_FIX,
        params,
        actor=actor,
        actor_name=actor_name,
        dry_run=dry_run,
        expected_digest=expected_digest,
        rescan=rescan,
    )


def rollback_rules(
    bucket: Bucket, version: LifecycleVersion, *, restore_foreign: bool = False
) -> tuple[list[Rule], list[Rule] | None]:
    """(desired portal rules, exact rules or None) that take the bucket back to `version`."""
    owned = set(version.owned_ids)
    mine = [r for r in version.rules if r.get("ID") in owned]
    return mine, (version.rules if restore_foreign else None)


def adopt_rule(bucket: Bucket, rule_id: str, *, actor: Any, actor_name: str = "") -> LifecycleRule:
    """Make a foreign rule the portal's (no write to S3: the rule stays as it is). Audited."""
    import audit

    ctx = FixContext.for_bucket(bucket)
    current = read_current(ctx)
    rule = next((r for r in current.rules if r.get("ID") == rule_id), None)
    if rule is None:
        raise LifecycleInvalid([f"Bucket {bucket.name} has no rule {rule_id!r} (any more)."])
    if rule_id in owned_ids(bucket, current.rules):
        raise LifecycleInvalid([f"Rule {rule_id!r} is already the portal's."])
    with transaction.atomic():
        if not LifecycleVersion.objects.filter(bucket=bucket).exists():
            record_version(
                bucket,
                current.config,
                LifecycleVersion.Reason.OBSERVED,
                owned=owned_ids(bucket, current.rules),
                detail="as found before adoption",
            )
        position = current.rules.index(rule)
        row = LifecycleRule(bucket=bucket, position=position, **rule_fields_from_s3(rule))
        row.updated_by = actor if getattr(actor, "is_authenticated", False) else None
        row.save()
        owned = owned_ids(bucket, current.rules)
        record_version(
            bucket,
            current.config,
            LifecycleVersion.Reason.ADOPTED,
            owned=owned,
            actor=actor,
            actor_name=actor_name,
            detail=f"adopted {rule_id}",
        )
        audit.record(
            actor,
            bucket.account.tenant,
            "lifecycle.rule.adopt",
            bucket,
            before={"bucket": bucket.name, "rule": rule, "owner": "foreign"},
            after={
                "bucket": bucket.name,
                "rule": rule,
                "owner": "portal",
                "configuration": current.config,
            },
            actor_name=actor_name or None,
        )
    return row


__all__ = [
    "DRIFT_CHECK",
    "FixConflict",
    "FixError",
    "LifecycleInvalid",
    "adopt_rule",
    "owned_ids",
    "plan_rules",
    "portal_rules",
    "read_current",
    "rollback_rules",
    "run_rules",
]
