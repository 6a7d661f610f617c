"""Template helpers of the storage pages, and the dashboard's high-severity findings banner."""

from __future__ import annotations

from typing import Any

from django import template

from storage.models import Finding, Severity
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


@register.inclusion_tag("storage/_exposure_badge.html")
def exposure_badge(is_public: bool | None, scanned: Any = True) -> dict[str, Any]:
    return {"is_public": is_public, "scanned": bool(scanned)}


@register.inclusion_tag("storage/_findings_banner.html")
def high_findings_banner(tenant: Any) -> dict[str, Any]:
    """Open high-severity findings of the tenant, shown until they are resolved."""
    if tenant is None:
        return {"findings": [], "count": 0}
    findings = Finding.objects.for_tenant(tenant).filter(
        severity=Severity.HIGH,
        resolved_at__isnull=True,
        bucket__gone_at__isnull=True,
    )
    public = (
        findings.filter(check_name="public")
        .values_list("bucket__name", "bucket_id")
        .order_by("bucket__name")[:20]
    )
    return {
        "findings": findings.select_related("bucket").order_by("-first_seen_at")[:5],
        "count": findings.count(),
        "public_buckets": list(public),
    }
