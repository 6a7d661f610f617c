"""Admin: LifecycleRule, LifecycleVersion (read-only), LifecycleTemplate; all tenant-scoped
(TenantScopedAdmin limits the Bucket and Tenant choices to the user's tenants).

Actions show the dry run of every affected bucket first (exact requests, configuration before
and after), then apply: "plan and apply to S3" (the selected rules' buckets get the portal's
rules as stored) and "roll back to this version".
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.admin_base import TenantScopedAdmin
from accounts.models import Role
from accounts.users import acting_user
from lifecycle.models import LifecycleRule, LifecycleTemplate, LifecycleVersion
from lifecycle.plan import FixError, plan_rules, portal_rules, rollback_rules, run_rules
from lifecycle.s3shape import describe_rule
from storage.models import Bucket


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)


def _confirm(
    modeladmin: TenantScopedAdmin,
    request: HttpRequest,
    *,
    title: str,
    action_name: str,
    selected: list[int],
    jobs: list[tuple[Bucket, dict[str, Any]]],
) -> HttpResponse | None:
    """Dry run of each job (bucket, run_rules kwargs); on "apply", apply each and return None."""
    if request.POST.get("apply") == "1":
        for bucket, kwargs in jobs:
            try:
                outcome = run_rules(
                    bucket,
                    actor=request.user,
                    dry_run=False,
                    expected_digest=request.POST.get(f"digest-{bucket.pk}") or None,
                    **kwargs,
                )
            except FixError as exc:
                modeladmin.message_user(request, f"{bucket.name}: {exc}", messages.ERROR)
                continue
            modeladmin.message_user(request, f"{bucket.name}: {outcome.plan.summary}")
        return None
    plans = []
    for bucket, kwargs in jobs:
        try:
            plan = plan_rules(bucket, **kwargs)
        except FixError as exc:
            plans.append({"bucket": bucket, "error": str(exc)})
            continue
        plans.append(
            {
                "bucket": bucket,
                "plan": plan,
                "requests": _pretty([r.to_dict() for r in plan.requests]),
                "before": _pretty(plan.before),
                "after": _pretty(plan.after),
            }
        )
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": title,
        "action_name": action_name,
        "selected": selected,
        "plans": plans,
    }
    return TemplateResponse(request, "lifecycle/admin_confirm.html", context)


@admin.register(LifecycleRule)
class LifecycleRuleAdmin(TenantScopedAdmin):
    change_role = Role.OPERATOR
    list_display = ("rule_id", "bucket", "enabled", "filter_kind", "updated_by", "updated_at")
    list_filter = ("enabled", "filter_kind")
    search_fields = ("rule_id", "bucket__name", "prefix")
    readonly_fields = ("updated_by", "updated_at", "in_words")
    actions = ["plan_and_apply"]

    @admin.display(description="In words")
    def in_words(self, obj: LifecycleRule) -> str:
        return describe_rule(obj.to_s3()) if obj.pk else ""

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        assert isinstance(obj, LifecycleRule)  # this admin is registered for LifecycleRule
        obj.updated_by = acting_user(request)
        super().save_model(request, obj, form, change)

    @admin.action(description="Plan and apply to S3 (the portal's rules of these buckets)")
    def plan_and_apply(
        self, request: HttpRequest, queryset: QuerySet[LifecycleRule]
    ) -> HttpResponse | None:
        buckets = {r.bucket_id: r.bucket for r in queryset.select_related("bucket__account")}
        allowed = [b for b in buckets.values() if self._may(request, self.change_role, b)]
        jobs = [(b, {"rules": portal_rules(b)}) for b in allowed]
        return _confirm(
            self,
            request,
            title="Plan and apply lifecycle rules",
            action_name="plan_and_apply",
            selected=list(queryset.values_list("pk", flat=True)),
            jobs=jobs,
        )


@admin.register(LifecycleVersion)
class LifecycleVersionAdmin(TenantScopedAdmin):
    list_display = ("bucket", "number", "reason", "actor_name", "created_at", "rule_count")
    list_filter = ("reason",)
    search_fields = ("bucket__name", "detail")
    actions = ["roll_back"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="rules")
    def rule_count(self, obj: LifecycleVersion) -> int:
        return len(obj.rules)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not self._may(request, Role.OPERATOR, None):
            actions.pop("roll_back", None)
        return actions

    @admin.action(description="Roll back to this version (keeps today's foreign rules)")
    def roll_back(
        self, request: HttpRequest, queryset: QuerySet[LifecycleVersion]
    ) -> HttpResponse | None:
        versions = list(queryset.select_related("bucket__account")[:2])
        if len(versions) != 1:
            self.message_user(
                request, "Select exactly one version to roll back to.", messages.WARNING
            )
            return None
        version = versions[0]
        if not self._may(request, Role.OPERATOR, version):
            self.message_user(request, "Rolling back needs the Operator role.", messages.ERROR)
            return None
        rules, _ = rollback_rules(version.bucket, version)
        return _confirm(
            self,
            request,
            title=f"Roll back {version.bucket.name} to version {version.number}",
            action_name="roll_back",
            selected=[version.pk],
            jobs=[
                (
                    version.bucket,
                    {
                        "rules": rules,
                        "reason": LifecycleVersion.Reason.ROLLBACK,
                        "detail": f"to version {version.number}",
                    },
                )
            ],
        )


@admin.register(LifecycleTemplate)
class LifecycleTemplateAdmin(TenantScopedAdmin):
    change_role = Role.OPERATOR
    list_display = ("name", "tenant", "builtin", "updated_at")
    search_fields = ("name",)
    readonly_fields = ("updated_by", "updated_at")

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        assert isinstance(obj, LifecycleTemplate)  # this admin is registered for LifecycleTemplate
        obj.updated_by = acting_user(request)
        super().save_model(request, obj, form, change)
