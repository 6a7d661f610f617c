"""Template helpers of the storage pages, and the dashboard's high-severity findings banner."""

from __future__ import annotations

import json
from typing import Any

from django import template

from storage import suppression
from storage.models import Finding, Severity
from storage.scan.checks import label

register = template.Library()
BANNER_BUCKETS = 5  # buckets listed in the dashboard banner (the count covers all)

_STATUS_CLASS = {"pass": "good", "fail": "bad", "error": "warn"}
_SEVERITY_CLASS = {Severity.HIGH: "bad", Severity.MEDIUM: "warn"}


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
    """Buckets with open high-severity findings, each with its causes, until resolved.

    Counted by bucket: one public bucket is one bucket at risk, even when the verdict and
    the policy check both say so.
    """
    if tenant is None:
        return {"buckets": [], "count": 0}
    findings = Finding.objects.filter(
        bucket__account__tenant=tenant,
        severity=Severity.HIGH,
        resolved_at__isnull=True,
        bucket__gone_at__isnull=True,
    )
    findings = suppression.not_suppressed(findings)
    count = findings.values("bucket_id").distinct().count()
    at_risk: dict[int, dict[str, Any]] = {}
    for finding in findings.select_related("bucket").order_by("bucket__name", "check_name"):
        if finding.bucket_id not in at_risk and len(at_risk) == BANNER_BUCKETS:
            break
        entry = at_risk.setdefault(
            finding.bucket_id,
            {"name": finding.bucket.name, "pk": finding.bucket_id, "verdict": None, "causes": []},
        )
        if finding.check_name == "public":
            entry["verdict"] = finding  # the summary; the checks below it are the causes
        else:
            entry["causes"].append(finding)
    for entry in at_risk.values():
        if not entry["causes"] and entry["verdict"] is not None:
            entry["causes"] = [entry["verdict"]]
    return {"buckets": list(at_risk.values()), "count": count}


@register.filter
def pretty_json(value: Any) -> str:
    """A stored document as indented JSON (what the API returned), never a Python repr."""
    return json.dumps(value, indent=2, sort_keys=True, default=str)
