"""Tenant lifecycle templates: list, edit, "apply to buckets..." (pick, see each plan, apply as
one Celery task per bucket) and the per-bucket results of one application.

Readers: every role of the current tenant; editing and applying: operators and admins.
Another tenant's template or bucket is 404.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

import audit
from accounts.access import get_for_user, role_at_least, tenant_required
from accounts.models import Role, Tenant
from accounts.users import AuthenticatedRequest
from lifecycle.forms import TemplateForm
from lifecycle.models import LifecycleTemplate, TemplateApplication
from lifecycle.plan import FixError, plan_rules, portal_rules
from lifecycle.s3shape import describe_rule
from lifecycle.starters import ensure_starters, with_template
from lifecycle.tasks import enqueue_applications
from storage.models import Bucket


@tenant_required(Role.VIEWER)
def template_list(request: HttpRequest, *, tenant: Tenant, role: str) -> HttpResponse:
    ensure_starters(tenant)
    templates = LifecycleTemplate.objects.for_tenant(tenant).order_by("name")
    return render(
        request,
        "lifecycle/template_list.html",
        {
            "tenant": tenant,
            "templates": [
                {"template": t, "words": [describe_rule(r) for r in t.rules]} for t in templates
            ],
            "may_edit": role_at_least(role, Role.OPERATOR),
        },
    )


@tenant_required(Role.OPERATOR)
def template_edit(
    request: AuthenticatedRequest, pk: int | None = None, *, tenant: Tenant, role: str
) -> HttpResponse:
    template = (
        get_for_user(request, LifecycleTemplate, pk, role=Role.OPERATOR) if pk is not None else None
    )
    status = 200
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if form.is_valid():
            owner = template.tenant if template else tenant
            name = form.cleaned_data["name"]
            clash = LifecycleTemplate.objects.for_tenant(owner).filter(name=name)
            if template:
                clash = clash.exclude(pk=template.pk)
            if clash.exists():
                form.add_error("name", "The tenant has a template of that name already.")
            else:
                before = {"name": template.name, "rules": template.rules} if template else None
                with transaction.atomic():
                    if template is None:
                        template = LifecycleTemplate(tenant=owner)
                    template.name = name
                    template.description = form.cleaned_data["description"]
                    template.rules = form.cleaned_data["rules"]
                    template.updated_by = request.user
                    template.save()
                    audit.record(
                        request.user,
                        owner,
                        "lifecycle.template.create"
                        if before is None
                        else "lifecycle.template.update",
                        template,
                        before=before,
                        after={"name": template.name, "rules": template.rules},
                    )
                messages.success(request, f"Template {template.name} saved.")
                return redirect("lifecycle:template_list")
        status = 400
    else:
        initial = (
            {
                "name": template.name,
                "description": template.description,
                "rules": json.dumps(template.rules, indent=2),
            }
            if template
            else {"rules": "[]"}
        )
        form = TemplateForm(initial=initial)
    return render(
        request,
        "lifecycle/template_form.html",
        {"template": template, "form": form},
        status=status,
    )


def _buckets(template: LifecycleTemplate, ids: list[str]) -> list[Bucket]:
    wanted = [int(i) for i in ids if i.isdigit()]
    buckets = list(
        Bucket.objects.for_tenant(template.tenant)
        .filter(pk__in=wanted, gone_at__isnull=True)
        .select_related("account")
    )
    if len(buckets) != len(set(wanted)):
        raise Http404("No such bucket.")
    return buckets


@tenant_required(Role.VIEWER)
def template_apply(request: HttpRequest, pk: int, *, tenant: Tenant, role: str) -> HttpResponse:
    template = get_for_user(request, LifecycleTemplate, pk, role=Role.OPERATOR)
    if request.method != "POST":
        candidates = (
            Bucket.objects.for_tenant(template.tenant)
            .filter(gone_at__isnull=True)
            .select_related("account")
            .order_by("name")
        )
        return render(
            request,
            "lifecycle/template_apply.html",
            {"template": template, "candidates": candidates},
        )
    buckets = _buckets(template, request.POST.getlist("bucket"))
    if not buckets:
        messages.warning(request, "Pick at least one bucket.")
        return redirect("lifecycle:template_apply", pk=template.pk)
    if request.POST.get("apply") == "1":
        batch = uuid.uuid4().hex
        with transaction.atomic():
            applications = [
                TemplateApplication.objects.create(
                    template=template,
                    bucket=bucket,
                    batch=batch,
                    expected_digest=request.POST.get(f"digest-{bucket.pk}", ""),
                    actor=request.user,
                )
                for bucket in buckets
            ]
            audit.record(
                request.user,
                template.tenant,
                "lifecycle.template.apply",
                template,
                before=None,
                after={
                    "template": template.name,
                    "rules": template.rules,
                    "buckets": [b.name for b in buckets],
                    "batch": batch,
                },
            )
            enqueue_applications(applications)
        return redirect("lifecycle:template_batch", batch=batch)
    plans: list[dict[str, Any]] = []
    for bucket in buckets:
        desired = with_template(portal_rules(bucket), list(template.rules))
        try:
            plan = plan_rules(bucket, desired, reason="template")
            requests = [
                {"operation": r.operation, "params": json.dumps(r.params, indent=2)}
                for r in plan.requests
            ]
            plans.append({"bucket": bucket, "plan": plan, "requests": requests, "error": ""})
        except FixError as exc:
            plans.append({"bucket": bucket, "plan": None, "error": str(exc)})
    return render(
        request,
        "lifecycle/template_plans.html",
        {"template": template, "plans": plans},
    )


@tenant_required(Role.VIEWER)
def batch_detail(request: HttpRequest, batch: str, *, tenant: Tenant, role: str) -> HttpResponse:
    applications = list(
        TemplateApplication.objects.for_user(request.user)
        .filter(batch=batch)
        .select_related("template", "bucket")
        .order_by("bucket__name")
    )
    if not applications:
        raise Http404("No such template application.")
    if not role_at_least(role, Role.VIEWER):
        raise PermissionDenied
    pending = any(a.status in ("pending", "running") for a in applications)
    return render(
        request,
        "lifecycle/template_batch.html",
        {"applications": applications, "template": applications[0].template, "pending": pending},
    )
