"""Template helpers of the storage pages, and the dashboard's high-severity findings banner."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from storage.models import SEVERITY_RANK, Finding, Severity
from storage.scan.checks import label

register = template.Library()

_STATUS_CLASS = {"pass": "good", "fail": "bad", "error": "warn"}
_SEVERITY_CLASS: dict[str, str] = {Severity.HIGH: "bad", Severity.MEDIUM: "warn"}


@register.filter
def status_class(status: str | None) -> str:
    return _STATUS_CLASS.get(status or "", "")


@register.filter
def severity_class(severity: str | None) -> str:
    return _SEVERITY_CLASS.get(severity or "", "")


@register.filter
def check_label(name: str) -> str:
    return label(name)


_EXPOSURE_BADGES = {
    "unscanned": mark_safe('<span class="badge">not scanned</span>'),  # noqa: S308 - constant
    True: mark_safe('<span class="badge bad">public</span>'),  # noqa: S308 - constant
    None: mark_safe('<span class="badge warn">unknown</span>'),  # noqa: S308 - constant
    False: mark_safe('<span class="badge good">not public</span>'),  # noqa: S308 - constant
}


@register.simple_tag
def exposure_badge(is_public: bool | None, scanned: Any = True) -> SafeString:
    """The exposure badge of a bucket or snapshot (a constant string per state: it is drawn on
    every row of the bucket list, where rendering a template per row would cost more)."""
    return _EXPOSURE_BADGES["unscanned" if not scanned else is_public]


@register.inclusion_tag("storage/_findings_banner.html")
def high_findings_banner(tenant: Any) -> dict[str, Any]:
    """Open high-severity findings of the tenant, shown until they are resolved."""
    if tenant is None:
        return {"findings": [], "count": 0}
    findings = Finding.objects.for_tenant(tenant).filter(
        severity_rank=SEVERITY_RANK[Severity.HIGH],
        resolved_at__isnull=True,
        bucket__gone_at__isnull=True,
    )
    public = (
        findings.filter(check_name="public")
        .values_list("bucket__name", "bucket_id")
        .order_by("bucket__name")[:20]
    )
    return {
        "findings": findings.select_related("bucket")
        .only("detail", "bucket_id", "bucket__name")
        .order_by("-severity_rank", "-first_seen_at")[:5],
        "count": findings.count(),
        "public_buckets": list(public),
    }
