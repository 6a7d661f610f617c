"""Template helpers of the storage pages, and the dashboard's high-severity findings banner."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.db.models import QuerySet
from django.utils.safestring import SafeString, mark_safe

from storage import suppression
from storage.models import SEVERITY_RANK, Finding, Severity
from storage.scan.checks import label

register = template.Library()
BANNER_BUCKETS = 5  # buckets listed in the dashboard banner (the count covers all)

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
    """Buckets with open high-severity findings, each with its causes, until resolved.

    Counted by bucket: one public bucket is one bucket at risk, even when the verdict and
    the policy check both say so.
    """
    if tenant is None:
        return {"buckets": [], "count": 0}
    findings: QuerySet[Finding] = Finding.objects.for_tenant(tenant).filter(
        severity_rank=SEVERITY_RANK[Severity.HIGH],
        resolved_at__isnull=True,
        bucket__gone_at__isnull=True,
    )
    findings = suppression.not_suppressed(findings)
    count = findings.values("bucket_id").distinct().count()
    # The first BANNER_BUCKETS buckets by name, then only their findings (never every one).
    shown = [
        bucket_id
        for bucket_id, _ in findings.values_list("bucket_id", "bucket__name")
        .distinct()
        .order_by("bucket__name")[:BANNER_BUCKETS]
    ]
    rows = (
        findings.filter(bucket_id__in=shown)
        .select_related("bucket")
        .only("check_name", "severity", "detail", "bucket_id", "bucket__name")
        .order_by("bucket__name", "check_name")
    )
    at_risk: dict[int, dict[str, Any]] = {}
    for finding in rows:
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
