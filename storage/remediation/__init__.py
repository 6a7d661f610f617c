"""Fixes: dry run (the exact requests, the document before and after), apply, audit, rescan.

Entry points: admin actions, the portal's fix pages (operators and admins) and
``manage.py fix``; all of them go through :func:`run_fix`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

import audit
from accounts.users import User
from storage.remediation.base import (
    Fix,
    FixConflict,
    FixContext,
    FixError,
    FixPlan,
    Request,
)
from storage.remediation.locks import bucket_change_lock
from storage.remediation.object_acls import ResetObjectAcls, ResetSummary
from storage.remediation.policy_fixes import RemovePublicStatement, TlsOnly
from storage.remediation.public_read import PublicReadPolicy
from storage.remediation.settings_fixes import (
    AccessLogging,
    BlockPublicAccess,
    DefaultEncryption,
    EnableVersioning,
)
from storage.scan.runner import rescan_bucket

if TYPE_CHECKING:
    from audit.models import AuditEvent
    from storage.models import Bucket, ScanRun

FIXES: dict[str, Fix] = {
    fix.name: fix
    for fix in (
        BlockPublicAccess(),
        EnableVersioning(),
        DefaultEncryption(),
        AccessLogging(),
        ResetObjectAcls(),
        TlsOnly(),
        RemovePublicStatement(),
        PublicReadPolicy(),  # asked for, never suggested; needs the bucket name to confirm
    )
}


def get_fix(name: str | Fix) -> Fix:
    """The fix registered as `name`; a Fix instance (an app's own fix, e.g. lifecycle's,
    which storage must not import) is used as it is."""
    if isinstance(name, Fix):
        return name
    fix = FIXES.get(name.replace("-", "_"))
    if fix is None:
        raise FixError(f"Unknown fix {name!r}; choose one of: {', '.join(FIXES)}.")
    return fix


@dataclass
class FixOutcome:
    plan: FixPlan
    applied: bool = False
    changed: int = 0
    rescan: ScanRun | None = None  # the ScanRun that rescanned the bucket
    audit_event: AuditEvent | None = None
    summary: ResetSummary | None = None  # object ACL resets


def plan_fix(
    bucket: Bucket, action: str | Fix, params: dict[str, Any], *, limit: int | None = None
) -> FixPlan:
    fix = get_fix(action)
    return fix.plan(FixContext.for_bucket(bucket), fix.clean_params(params), limit=limit)


def run_fix(
    bucket: Bucket,
    action: str | Fix,
    params: dict[str, Any],
    *,
    actor: User | None = None,
    actor_name: str | None = None,
    dry_run: bool = True,
    expected_digest: str | None = None,
    limit: int | None = None,
    rescan: bool = True,
) -> FixOutcome:
    """Plan the fix; unless `dry_run`, apply it, audit it and rescan the bucket.

    `expected_digest` (from the dry run the user saw) makes the apply refuse when the bucket
    changed in between. Raises :class:`FixError` with a message a person can act on.
    """
    fix = get_fix(action)
    params = fix.clean_params(params)
    ctx = FixContext.for_bucket(bucket)
    tenant = bucket.account.tenant
    if fix.streaming and not dry_run:
        assert isinstance(fix, ResetObjectAcls)
        summary = fix.apply_streaming(ctx, params)
        plan = FixPlan(
            fix.name,
            bucket.name,
            f"Reset {summary.changed} of {summary.examined} object ACL(s) to private"
            + (f"; {summary.failed} failed" if summary.failed else "")
            + ".",
            before={"objects": summary.sample, "by_acl": dict(summary.by_acl)},
            after={**fix_after(summary), "errors": summary.errors},
            noop=summary.changed == 0,
            request_count=summary.changed,
        )
        event = None
        if summary.changed:
            with transaction.atomic():
                event = audit.record(
                    actor,
                    tenant,
                    f"storage.fix.{fix.name}",
                    bucket,
                    before={"bucket": bucket.name, **plan.before, "filters": params},
                    after={"bucket": bucket.name, **plan.after},
                    actor_name=actor_name,
                )
        run = rescan_bucket(bucket, actor=actor) if rescan and summary.changed else None
        return FixOutcome(
            plan,
            applied=bool(summary.changed),
            changed=summary.changed,
            rescan=run,
            audit_event=event,
            summary=summary,
        )

    if dry_run:
        return FixOutcome(fix.plan(ctx, params, limit=limit))
    # From the re-read to the end of the write, no other change to this bucket interleaves.
    with bucket_change_lock(bucket, f"{fix.name} by {actor_name or actor or 'the portal'}"):
        plan = fix.plan(ctx, params, limit=limit)
        if plan.noop:
            return FixOutcome(plan)
        if expected_digest and expected_digest != plan.digest():
            raise FixConflict(fix.conflict_message(plan))
        changed = fix.apply(ctx, plan)
    before, after = fix.audit_documents(plan)
    with transaction.atomic():
        event = audit.record(
            actor,
            tenant,
            fix.audit_action(plan),
            bucket,
            before=before,
            after=after,
            actor_name=actor_name,
        )
        fix.after_apply(ctx, plan, actor=actor, event=event)
    run = rescan_bucket(bucket, actor=actor) if rescan else None
    return FixOutcome(plan, applied=True, changed=changed, rescan=run, audit_event=event)


def fix_after(summary: ResetSummary) -> dict[str, Any]:
    return {"acl": "private", "reset": summary.changed, "failed": summary.failed}


__all__ = [
    "FIXES",
    "Fix",
    "FixConflict",
    "FixContext",
    "FixError",
    "FixOutcome",
    "FixPlan",
    "Request",
    "get_fix",
    "plan_fix",
    "run_fix",
]
