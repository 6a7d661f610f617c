"""Admin: usage and rollups read-only, price overrides per tenant; all tenant-scoped."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest

import audit
from accounts.admin_base import TenantListFilter, TenantScopedAdmin
from accounts.models import Role

from .models import BucketUsage, CostRollup, SizingJob, TenantPricing


class ReadOnlyScopedAdmin(TenantScopedAdmin):
    view_role = Role.OPERATOR

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BucketUsage)
class BucketUsageAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "bucket",
        "day",
        "storage_class",
        "bytes",
        "object_count",
        "noncurrent_bytes",
        "incomplete_upload_bytes",
        "source",
        "measured_at",
    ]
    list_filter = [TenantListFilter, "source", "storage_class"]
    search_fields = ["bucket__name"]
    date_hierarchy = "day"
    list_select_related = ["bucket"]


@admin.register(CostRollup)
class CostRollupAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "day",
        "tenant",
        "account",
        "bucket",
        "region",
        "storage_class",
        "bytes",
        "monthly_cost_usd",
        "price_verified",
    ]
    list_filter = [TenantListFilter, "storage_class", "region", "price_verified"]
    search_fields = ["bucket__name"]
    date_hierarchy = "day"
    list_select_related = ["tenant", "account", "bucket"]


@admin.register(SizingJob)
class SizingJobAdmin(ReadOnlyScopedAdmin):
    list_display = ["bucket", "day", "status", "phase", "pages", "entries", "updated_at"]
    list_filter = [TenantListFilter, "status"]
    exclude = ["state"]


@admin.register(TenantPricing)
class TenantPricingAdmin(TenantScopedAdmin):
    view_role = Role.ADMIN
    change_role = Role.ADMIN
    list_display = ["tenant", "discount_percent", "compatible_usd_per_gb", "updated_at"]
    list_filter = [TenantListFilter]

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        assert isinstance(obj, TenantPricing)  # this admin's model
        self.ensure_may_save(request, obj)
        before = None
        if change and obj.pk:
            before = TenantPricing.objects.get(pk=obj.pk).audit_dict()
        with transaction.atomic():
            obj.save()
            audit.record(
                request.user,
                obj.tenant,
                "cost.pricing.update" if change else "cost.pricing.create",
                obj,
                before=before,
                after=obj.audit_dict(),
            )

    def delete_model(self, request: HttpRequest, obj: TenantPricing) -> None:
        with transaction.atomic():
            audit.record(
                request.user, obj.tenant, "cost.pricing.delete", obj, before=obj.audit_dict()
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)
