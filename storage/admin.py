"""Admin of the scan data (read-only, tenant-scoped) and the fixes as admin actions.

Fix actions show the dry run of every selected bucket first (exact request, document before
and after); "Apply" sends exactly that, audits it and rescans. Operators and admins only.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.access import role_at_least, tenants_for, user_role
from accounts.admin_base import TenantListFilter
from accounts.admin_readonly import ReadOnlyScopedAdmin
from accounts.models import Role
from accounts.users import acting_user
from storage.models import Bucket, BucketSnapshot, Finding, ScanRun
from storage.remediation import FIXES, FixError, plan_fix
from storage.remediation.apply import Applied, apply_fix
from storage.remediation.forms import default_data, form_class, needs_input
from storage.scan.checks import CHECK_NAMES, label


class ExposureFilter(admin.SimpleListFilter):
    title = "exposure"
    parameter_name = "exposure"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("public", "public"), ("private", "not public"), ("unknown", "unknown")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "public":
            return queryset.filter(is_public=True)
        if value == "private":
            return queryset.filter(is_public=False)
        if value == "unknown":
            return queryset.filter(is_public__isnull=True)
        return queryset


class FailingCheckFilter(admin.SimpleListFilter):
    title = "failing check"
    parameter_name = "failing"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("any", "any check"), ("errors", "check errors")] + [
            (name, label(name)) for name in CHECK_NAMES
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "any":
            return queryset.filter(fail_count__gt=0)
        if value == "errors":
            return queryset.filter(error_count__gt=0)
        if value in CHECK_NAMES:
            return queryset.filter(**{f"checks__{value}__status": "fail"})
        return queryset


class GoneFilter(admin.SimpleListFilter):
    title = "still exists"
    parameter_name = "gone"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "exists"), ("yes", "deleted")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(gone_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(gone_at__isnull=False)
        return queryset


class FindingStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "open"), ("resolved", "resolved")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class CheckFilter(admin.SimpleListFilter):
    """The known checks (no DISTINCT over every finding to list them)."""

    title = "check"
    parameter_name = "check"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(name, label(name)) for name in CHECK_NAMES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(check_name=value) if value else queryset


def _make_fix_action(name: str) -> Any:
    fix = FIXES[name]

    def action(modeladmin: BucketAdmin, request: HttpRequest, queryset: QuerySet[Bucket]) -> Any:
        return modeladmin.fix_action(request, queryset, name)

    action.__name__ = f"fix_{name}"
    return admin.action(
        description=f"Fix: {fix.label.lower()} (dry run first)", permissions=["fix"]
    )(action)


@admin.register(Bucket)
class BucketAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "name",
        "account",
        "tenant_name",
        "region",
        "exposure",
        "fail_count",
        "worst_severity",
        "error_count",
        "last_scanned_at",
        "gone_at",
    ]
    list_filter = [
        ExposureFilter,
        FailingCheckFilter,
        "worst_severity",
        ("account", admin.RelatedOnlyFieldListFilter),
        "region",
        GoneFilter,
        TenantListFilter,
    ]
    search_fields = ["name", "account__name"]
    list_select_related = ["account__tenant"]
    readonly_fields = [
        "account",
        "name",
        "region",
        "created_on_aws",
        "first_seen_at",
        "last_seen_at",
        "gone_at",
        "is_public",
        "public_reasons_text",
        "checks_text",
        "fail_count",
        "error_count",
        "worst_severity",
        "last_scanned_at",
    ]
    exclude = ["public_reasons", "checks", "verdict"]
    actions = [_make_fix_action(name) for name in FIXES]

    @admin.display(description="tenant", ordering="account__tenant__name")
    def tenant_name(self, obj: Bucket) -> str:
        return obj.account.tenant.name

    @admin.display(description="exposure", ordering="is_public")
    def exposure(self, obj: Bucket) -> str:
        return {True: "public", False: "not public", None: "unknown"}[obj.is_public]

    @admin.display(description="why public")
    def public_reasons_text(self, obj: Bucket) -> str:
        return "\n".join(obj.public_reasons or []) or "—"

    @admin.display(description="checks")
    def checks_text(self, obj: Bucket) -> str:
        return "\n".join(
            f"{name}: {c.get('status')} — {c.get('detail')}"
            for name, c in (obj.checks or {}).items()
        )

    # --- fixes ---
    def has_fix_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or tenants_for(request.user, Role.OPERATOR).exists()

    def _may_fix(self, request: HttpRequest, bucket: Bucket) -> bool:
        return role_at_least(user_role(request.user, bucket.account.tenant_id), Role.OPERATOR)

    def fix_action(
        self, request: HttpRequest, queryset: QuerySet[Bucket], action: str
    ) -> HttpResponse | None:
        fix = FIXES[action]
        buckets = [
            b for b in queryset.select_related("account__tenant") if self._may_fix(request, b)
        ]
        if not buckets:
            self.message_user(
                request, "You may not fix any of the selected buckets.", messages.ERROR
            )
            return None
        form_cls = form_class(action)
        # Parameters only make sense for one bucket's choices (public statements) or globally.
        first = buckets[0]
        if "apply" in request.POST or "preview" in request.POST:
            form = form_cls(request.POST, bucket=first)
        elif needs_input(action):
            form = form_cls(initial=default_data(form_cls, first), bucket=first)
        else:
            form = form_cls(default_data(form_cls, first), bucket=first)
        if "apply" in request.POST and form.is_valid():
            self._apply(request, buckets, action, form.params())
            return None
        plans = []
        ready = form.is_bound and form.is_valid()
        if ready:
            for bucket in buckets:
                entry: dict[str, Any] = {"bucket": bucket}
                try:
                    plan = plan_fix(bucket, action, form.params())
                    entry.update(
                        plan=plan,
                        requests=json.dumps(
                            [r.to_dict() for r in plan.requests], indent=2, default=str
                        ),
                        before=json.dumps(plan.before, indent=2, default=str),
                        after=json.dumps(plan.after, indent=2, default=str),
                    )
                except FixError as exc:
                    entry["error"] = str(exc)
                plans.append(entry)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{fix.label}: dry run",
            "opts": self.model._meta,
            "fix": fix,
            "action_name": f"fix_{action}",
            "form": form,
            "plans": plans,
            "ready": ready,
            "buckets": buckets,
            "is_streaming": fix.streaming,
        }
        return TemplateResponse(request, "storage/admin_fix_confirm.html", context)

    def _apply(
        self, request: HttpRequest, buckets: list[Bucket], action: str, params: dict[str, Any]
    ) -> None:
        for bucket in buckets:
            digest = request.POST.get(f"digest-{bucket.pk}") or None
            result = apply_fix(
                bucket, action, params, actor=acting_user(request), expected_digest=digest
            )
            if result.status is Applied.QUEUED:
                self.message_user(request, f"{bucket.name}: object ACL reset queued.")
            elif result.status is Applied.CONFLICT:
                self.message_user(request, f"{bucket.name}: {result.error}", messages.WARNING)
            elif result.status is Applied.FAILED:
                self.message_user(request, f"{bucket.name}: {result.error}", messages.ERROR)
            else:
                assert result.outcome is not None
                level = messages.SUCCESS if result.status is Applied.APPLIED else messages.INFO
                self.message_user(request, f"{bucket.name}: {result.outcome.plan.summary}", level)


@admin.register(ScanRun)
class ScanRunAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "id",
        "account",
        "kind",
        "trigger",
        "started_by",
        "status",
        "buckets_done",
        "buckets_total",
        "error_count",
        "started_at",
        "duration",
    ]
    list_filter = [
        "status",
        "trigger",
        "kind",
        ("account", admin.RelatedOnlyFieldListFilter),
        TenantListFilter,
    ]
    list_select_related = ["account__tenant"]
    readonly_fields = [
        "account",
        "kind",
        "trigger",
        "actor_name",
        "status",
        "patterns",
        "skipped_checks",
        "buckets_total",
        "buckets_done",
        "counts",
        "errors_text",
        "error_count",
        "message",
        "task_id",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
    ]
    exclude = ["actor", "errors"]

    @admin.display(description="errors")
    def errors_text(self, obj: ScanRun) -> str:
        return "\n".join(obj.errors or []) or "—"


@admin.register(Finding)
class FindingAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "bucket",
        "check_name",
        "severity",
        "short_detail",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
    ]
    list_filter = [FindingStateFilter, "severity", CheckFilter, TenantListFilter]
    search_fields = ["bucket__name", "detail"]
    list_select_related = ["bucket"]
    show_full_result_count = False  # one COUNT of every finding less per page
    list_per_page = 50  # Django renders each admin cell in Python: 100 rows cost twice as much
    readonly_fields = [
        "bucket",
        "check_name",
        "severity",
        "detail",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
        "resolution",
        "opened_by",
        "alerted_at",
    ]

    @admin.display(description="detail")
    def short_detail(self, obj: Finding) -> str:
        return obj.detail[:120]


@admin.register(BucketSnapshot)
class BucketSnapshotAdmin(ReadOnlyScopedAdmin):
    list_display = ["bucket", "taken_at", "is_public", "region", "run"]
    list_filter = [ExposureFilter, TenantListFilter]
    search_fields = ["bucket__name"]
    list_select_related = ["bucket", "run"]
    readonly_fields = [
        "bucket",
        "run",
        "taken_at",
        "region",
        "is_public",
        "checks",
        "verdict",
        "data",
    ]
