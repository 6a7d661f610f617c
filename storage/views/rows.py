"""Display rows of the long tables (buckets, findings), computed once in Python.

A list page draws 50 rows of 7 cells; resolving each cell through template filters, `{% url %}`
and inclusion tags was half of a request's CPU (issue 13). Here every cell is a plain string or
number, so the template only looks them up and escapes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from storage.models import Bucket, Finding
from storage.scan.checks import label

_SEVERITY_CLASS = {"high": "bad", "medium": "warn"}


def short_time(value: datetime | None, empty: str = "—") -> str:
    """'2026-12-01 07:50 UTC': the portal's DATETIME_FORMAT (s3portal/formats), current zone."""
    if value is None:
        return empty
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")


@cache
def _url_pattern(name: str) -> str:
    """reverse(name, args=[pk]) as a format string: reversed once, not once per row."""
    return reverse(name, args=[0]).replace("/0/", "/{}/", 1)


def bucket_url(bucket_id: int) -> str:
    return _url_pattern("storage:bucket_detail").format(bucket_id)


def _finding_url(act: str, pk: int) -> str:
    """reverse("storage:<act>_finding", args=[pk])."""
    return _url_pattern(f"storage:{act}_finding").format(pk)


def bucket_rows(buckets: Iterable[Bucket]) -> list[dict[str, Any]]:
    return [
        {
            "pk": b.pk,
            "name": b.name,
            "url": bucket_url(b.pk),
            "gone": b.gone_at is not None,
            "account": b.account.name,
            "region": b.region or "?",
            "is_public": b.is_public,
            "scanned": b.last_scanned_at is not None,
            "fail_count": b.fail_count,
            "worst_severity": b.worst_severity,
            "severity_class": _SEVERITY_CLASS.get(b.worst_severity, ""),
            "error_count": b.error_count,
            "last_scanned": short_time(b.last_scanned_at, "never"),
        }
        for b in buckets
    ]


def finding_rows(findings: Iterable[Finding], form_html: str = "") -> list[dict[str, Any]]:
    """`form_html` is the accept/suppress form rendered once with "ROW" in its field ids; each
    open row gets a copy with its own ids (rendering a form per row costs more than the rest)."""
    now = timezone.now()
    return [
        {
            "pk": f.pk,
            "finding": f,
            "account": f.bucket.account.name,
            "bucket": f.bucket.name,
            "bucket_url": bucket_url(f.bucket_id),
            "check": label(f.check_name),
            "severity": f.severity,
            "severity_class": _SEVERITY_CLASS.get(f.severity, ""),
            "detail": f.detail,
            "first_seen": short_time(f.first_seen_at),
            "last_seen": short_time(f.last_seen_at),
            "resolved": short_time(f.resolved_at, "") if f.resolved_at else "",
            "suppressed": f.is_suppressed(now),
            "form_html": mark_safe(form_html.replace("ROW", str(f.pk))),  # noqa: S308 - our form
            "suppress_url": _finding_url("suppress", f.pk),
        }
        for f in findings
    ]
