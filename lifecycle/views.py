"""Lifecycle pages of one bucket: rules (portal and foreign, in words), conflicts, history; the
rule editor with inline validation, dry run and apply; removal, adoption, drift, rollback.

Readers: every role of the tenant. Writers: operators and tenant admins (others 403); other
tenants 404. Every write is a dry run first (the exact requests and the configuration before
and after); apply refuses when the bucket changed since that dry run.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import get_for_user, role_at_least, user_role
from accounts.models import Role
from lifecycle import conflicts
from lifecycle.drift import accept_drift
from lifecycle.forms import RuleForm, initial_from_rule, parse_prefill
from lifecycle.models import LifecycleRule, LifecycleVersion
from lifecycle.plan import (
    DRIFT_CHECK,
    FixConflict,
    FixError,
    LifecycleInvalid,
    adopt_rule,
    owned_ids,
    plan_rules,
    portal_rules,
    read_current,
    rollback_rules,
    run_rules,
)
from lifecycle.s3shape import Rule, describe_rule
from storage.models import Bucket
from storage.remediation.base import FixContext, FixPlan
from storage.views.fixes import plan_context


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)


def lifecycle_plan_context(plan: FixPlan | None) -> dict[str, Any]:
    """The fix page's context plus the rules after the change, each with its state."""
    if plan is None:
        return {}
    states = {c["id"]: c["state"] for c in plan.extra.get("changes", [])}
    after_rules = [
        {
            "id": r.get("ID"),
            "state": states.get(r.get("ID"), "unchanged"),
            "words": describe_rule(r),
            "json": _pretty(r),
        }
        for r in (plan.after or {}).get("Rules", [])
    ]
    removed = [c["id"] for c in plan.extra.get("changes", []) if c["state"] == "removed"]
    return {**plan_context(plan), "after_rules": after_rules, "removed_rules": removed}


def _may_edit(request: HttpRequest, bucket: Bucket) -> bool:
    return role_at_least(user_role(request.user, bucket.account.tenant_id), Role.OPERATOR)


@login_required
def rules_page(request: HttpRequest, pk: int) -> HttpResponse:
    bucket = get_for_user(request, Bucket, pk, role=Role.VIEWER)
    error = ""
    rules: list[dict[str, Any]] = []
    current_rules: list[Rule] = []
    tdmos = None
    try:
        current = read_current(FixContext.for_bucket(bucket))
        current_rules = current.rules
        tdmos = current.config.get("TransitionDefaultMinimumObjectSize")
    except FixError as exc:
        error = str(exc).replace(" Nothing was changed.", "")
    owned = owned_ids(bucket, current_rules)
    rows = {row.rule_id: row for row in bucket.lifecycle_rules.all()}
    analysis = conflicts.summary(current_rules)
    for rule in current_rules:
        rid = rule.get("ID")
        rules.append(
            {
                "id": rid,
                "owner": "portal" if rid in owned else "foreign",
                "words": describe_rule(rule),
                "json": _pretty(rule),
                "row": rows.get(rid) if rid is not None else None,
                "never_fires": rid in analysis["never_fires"],
            }
        )
    in_bucket = {r.get("ID") for r in current_rules}
    missing = [row for rid, row in rows.items() if rid not in in_bucket] if not error else []
    return render(
        request,
        "lifecycle/rules.html",
        {
            "bucket": bucket,
            "error": error,
            "rules": rules,
            "tdmos": tdmos,
            "missing": missing,
            "conflicts": analysis["conflicts"],
            "versions": bucket.lifecycle_versions.all().order_by("-number")[:50],
            "drift": bucket.findings.filter(check_name=DRIFT_CHECK, resolved_at__isnull=True)
            .order_by("-first_seen_at")
            .first(),
            "may_edit": _may_edit(request, bucket),
        },
    )


def _compose(bucket: Bucket, rule: Rule, replacing: LifecycleRule | None) -> list[Rule]:
    """The desired portal rules: the bucket's rows with `rule` added or put in place."""
    desired = portal_rules(bucket)
    if replacing is not None:
        return [rule if r["ID"] == replacing.rule_id else r for r in desired]
    if any(r["ID"] == rule["ID"] for r in desired):
        raise LifecycleInvalid(
            [f"The portal already has a rule {rule['ID']!r} on this bucket: edit that one."]
        )
    return [*desired, rule]


def _editor(request: HttpRequest, bucket: Bucket, row: LifecycleRule | None) -> HttpResponse:
    plan: FixPlan | None = None
    error = ""
    status = 200
    if request.method == "POST":
        form = RuleForm(request.POST, new=row is None)
        if form.is_valid():
            try:
                desired = _compose(bucket, form.rule, row)
                if request.POST.get("apply") == "1":
                    outcome = run_rules(
                        bucket,
                        desired,
                        actor=request.user,
                        dry_run=False,
                        expected_digest=request.POST.get("digest") or None,
                        rescan=True,
                    )
                    bucket.lifecycle_rules.filter(rule_id=form.rule["ID"]).update(
                        note=form.cleaned_data.get("note", "")
                    )
                    messages.success(
                        request,
                        f"Applied to {bucket.name}: {outcome.plan.summary}"
                        if outcome.applied
                        else outcome.plan.summary,
                    )
                    return redirect("lifecycle:rules", pk=bucket.pk)
                plan = plan_rules(bucket, desired)
            except FixConflict as exc:
                messages.warning(request, str(exc))
                status = 409
                try:
                    plan = plan_rules(bucket, desired)
                except FixError as again:
                    error = str(again)
            except LifecycleInvalid as exc:
                for problem in exc.problems:
                    form.add_error(None, problem)
                status = 400
            except FixError as exc:
                error = str(exc)
                status = 502
        else:
            status = 400
    else:
        initial: dict[str, Any] = {}
        if row is not None:
            initial = initial_from_rule(row.to_s3())
            initial["note"] = row.note
        elif "rule" in request.GET:
            rule, error = parse_prefill(request.GET["rule"])
            if rule is not None:
                initial = initial_from_rule(rule)
            else:
                status = 400
        form = RuleForm(initial=initial, new=row is None)
    return render(
        request,
        "lifecycle/rule_form.html",
        {
            "bucket": bucket,
            "row": row,
            "form": form,
            "error": error,
            **lifecycle_plan_context(plan),
        },
        status=status,
    )


@login_required
def rule_new(request: HttpRequest, pk: int) -> HttpResponse:
    bucket = get_for_user(request, Bucket, pk, role=Role.OPERATOR)
    return _editor(request, bucket, None)


def _row(bucket: Bucket, rule_pk: int) -> LifecycleRule:
    row = bucket.lifecycle_rules.filter(pk=rule_pk).first()
    if row is None:
        raise Http404("No such rule of this bucket.")
    return row


@login_required
def rule_edit(request: HttpRequest, pk: int, rule_pk: int) -> HttpResponse:
    bucket = get_for_user(request, Bucket, pk, role=Role.OPERATOR)
    return _editor(request, bucket, _row(bucket, rule_pk))


def _plan_page(
    request: HttpRequest,
    bucket: Bucket,
    *,
    title: str,
    desired: list[Rule],
    reason: str = LifecycleVersion.Reason.APPLY,
    detail: str = "",
    exact_rules: list[Rule] | None = None,
    hidden: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """GET: the dry run. POST apply=1: apply it (refused if the bucket changed since)."""
    plan: FixPlan | None = None
    error = ""
    status = 200
    try:
        if request.method == "POST" and request.POST.get("apply") == "1":
            outcome = run_rules(
                bucket,
                desired,
                reason=reason,
                detail=detail,
                exact_rules=exact_rules,
                actor=request.user,
                dry_run=False,
                expected_digest=request.POST.get("digest") or None,
                rescan=True,
            )
            messages.success(request, f"{title}: {outcome.plan.summary}")
            return redirect("lifecycle:rules", pk=bucket.pk)
        plan = plan_rules(bucket, desired, reason=reason, exact_rules=exact_rules)
    except FixConflict as exc:
        messages.warning(request, str(exc))
        status = 409
        try:
            plan = plan_rules(bucket, desired, reason=reason, exact_rules=exact_rules)
        except FixError as again:
            error = str(again)
    except LifecycleInvalid as exc:
        error = str(exc)
        status = 400
    except FixError as exc:
        error = str(exc)
        status = 502
    return render(
        request,
        "lifecycle/plan_page.html",
        {
            "bucket": bucket,
            "title": title,
            "error": error,
            "hidden": hidden or {},
            **(extra or {}),
            **lifecycle_plan_context(plan),
        },
        status=status,
    )


@login_required
def rule_delete(request: HttpRequest, pk: int, rule_pk: int) -> HttpResponse:
    bucket = get_for_user(request, Bucket, pk, role=Role.OPERATOR)
    row = _row(bucket, rule_pk)
    desired = [r for r in portal_rules(bucket) if r["ID"] != row.rule_id]
    return _plan_page(request, bucket, title=f"Remove rule {row.rule_id}", desired=desired)


@login_required
def apply_portal_rules(request: HttpRequest, pk: int) -> HttpResponse:
    """Write the portal's rules as they are in its database (re-apply after drift)."""
    bucket = get_for_user(request, Bucket, pk, role=Role.OPERATOR)
    return _plan_page(
        request, bucket, title="Re-apply the portal's rules", desired=portal_rules(bucket)
    )


@login_required
def rollback(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    bucket = get_for_user(request, Bucket, pk, role=Role.OPERATOR)
    version = bucket.lifecycle_versions.filter(number=number).first()
    if version is None:
        raise Http404("No such version of this bucket's configuration.")
    source = request.POST if request.method == "POST" else request.GET
    restore = source.get("foreign") == "1"
    desired, exact = rollback_rules(bucket, version, restore_foreign=restore)
    return _plan_page(
        request,
        bucket,
        title=f"Roll back to version {version.number}",
        desired=desired,
        reason=LifecycleVersion.Reason.ROLLBACK,
        detail=f"to version {version.number}" + (" with foreign rules" if restore else ""),
        exact_rules=exact,
        hidden={"foreign": "1" if restore else "0"},
        extra={"version": version, "restore_foreign": restore},
    )


@login_required
@require_POST
def adopt(request: HttpRequest, pk: int) -> HttpResponse:
    bucket = get_for_user(request, Bucket, pk, role=Role.OPERATOR)
    rule_id = request.POST.get("rule_id", "")
    try:
        adopt_rule(bucket, rule_id, actor=request.user)
    except FixError as exc:
        messages.error(request, str(exc))
        return redirect("lifecycle:rules", pk=bucket.pk)
    messages.success(
        request,
        f"Rule {rule_id} is now the portal's (nothing was written to S3); you can edit it.",
    )
    return redirect("lifecycle:rules", pk=bucket.pk)


@login_required
@require_POST
def accept_drift_view(request: HttpRequest, pk: int) -> HttpResponse:
    bucket = get_for_user(request, Bucket, pk, role=Role.OPERATOR)
    try:
        accept_drift(bucket, actor=request.user)
    except FixError as exc:
        messages.error(request, str(exc))
        return redirect("lifecycle:rules", pk=bucket.pk)
    messages.success(request, "The bucket's rules are now the portal's; the drift is resolved.")
    return redirect("lifecycle:rules", pk=bucket.pk)


@login_required
def version_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    bucket = get_for_user(request, Bucket, pk, role=Role.VIEWER)
    version = bucket.lifecycle_versions.filter(number=number).first()
    if version is None:
        raise Http404("No such version.")
    owned = set(version.owned_ids)
    return render(
        request,
        "lifecycle/version.html",
        {
            "bucket": bucket,
            "version": version,
            "rules": [
                {
                    "id": r.get("ID"),
                    "owner": "portal" if r.get("ID") in owned else "foreign",
                    "words": describe_rule(r),
                }
                for r in version.rules
            ],
            "document": _pretty(version.configuration),
            "may_edit": _may_edit(request, bucket),
        },
    )
