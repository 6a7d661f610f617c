"""Fix pages: a dry run first (exact request, document before and after), then apply.

Operators and admins only; members and viewers get 403, other tenants 404.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from accounts.access import get_for_user
from accounts.models import Role
from accounts.users import AuthenticatedRequest
from storage.models import Bucket
from storage.remediation import FIXES, FixError, FixPlan, plan_fix
from storage.remediation.apply import Applied, apply_fix
from storage.remediation.forms import default_data, form_class, needs_input
from storage.remediation.outcome_text import applied_message


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False, default=str)


def plan_context(plan: FixPlan | None) -> dict[str, Any]:
    if plan is None:
        return {}
    requests = []
    for request in plan.requests:
        params = dict(request.params)
        if request.operation == "PutBucketPolicy":
            # Show the policy document readably; it is sent as this JSON string.
            params["Policy"] = json.loads(params["Policy"])
        requests.append({"operation": request.operation, "params": _pretty(params)})
    return {
        "plan": plan,
        "plan_requests": requests,
        "plan_before": _pretty(plan.before),
        "plan_after": _pretty(plan.after),
    }


@login_required
def fix_view(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    bucket = get_for_user(request, Bucket, pk, role=Role.OPERATOR)
    fix = FIXES.get(action)
    if fix is None:
        raise Http404("No such fix.")
    form_cls = form_class(action)
    plan: FixPlan | None = None
    error = ""
    if request.method == "POST":
        form = form_cls(request.POST, bucket=bucket)
        if form.is_valid():
            if request.POST.get("apply") == "1":
                return _apply(request, bucket, action, form.params())
            try:
                plan = plan_fix(bucket, action, form.params())
            except FixError as exc:
                error = str(exc)
    else:
        data = default_data(form_cls, bucket)
        data.update({k: v for k, v in request.GET.items() if k in form_cls.base_fields})
        form = form_cls(data, bucket=bucket)
        if not needs_input(action) and form.is_valid():
            try:
                plan = plan_fix(bucket, action, form.params())
            except FixError as exc:
                error = str(exc)
        elif needs_input(action):
            form = form_cls(initial=data, bucket=bucket)
    return render(
        request,
        "storage/fix.html",
        {
            "bucket": bucket,
            "fix": fix,
            "form": form,
            "error": error,
            "is_streaming": fix.streaming,
            **plan_context(plan),
        },
    )


def _apply(
    request: AuthenticatedRequest, bucket: Bucket, action: str, params: dict[str, Any]
) -> HttpResponse:
    fix = FIXES[action]
    digest = request.POST.get("digest") or None
    was_public = bucket.is_public
    result = apply_fix(bucket, action, params, actor=request.user, expected_digest=digest)
    if result.status is Applied.QUEUED:
        messages.success(
            request,
            f"Resetting object ACLs of {bucket.name} in the background; the audit trail and "
            "the bucket page show the result when it is done.",
        )
        return redirect("storage:bucket_detail", pk=bucket.pk)
    if result.status is Applied.CONFLICT:
        messages.warning(request, str(result.error))
        form = form_class(action)(request.POST, bucket=bucket)
        form.is_valid()
        plan = None
        error = ""
        try:
            plan = plan_fix(bucket, action, params)
        except FixError as again:
            error = str(again)
        return render(
            request,
            "storage/fix.html",
            {"bucket": bucket, "fix": fix, "form": form, "error": error, **plan_context(plan)},
            status=409,
        )
    if result.status is Applied.FAILED:
        messages.error(request, f"{fix.label} failed: {result.error}")
        return redirect("storage:bucket_detail", pk=bucket.pk)
    assert result.outcome is not None
    if result.status is Applied.NOTHING_TO_DO:
        messages.info(request, result.outcome.plan.summary)
        return redirect("storage:bucket_detail", pk=bucket.pk)
    bucket.refresh_from_db()
    messages.success(request, applied_message(result.outcome.plan, was_public, bucket.is_public))
    return redirect("storage:bucket_detail", pk=bucket.pk)
