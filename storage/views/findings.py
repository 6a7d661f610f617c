"""Findings: the tenant's list (filters, sort, export), and accept/suppress with a reason."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from accounts.access import get_for_user, tenant_required
from accounts.duplicates import shadowed_account_ids
from accounts.models import AwsAccount, Role, Tenant
from storage import suppression
from storage.models import Finding, Severity
from storage.scan.checks import CHECK_NAMES, CHECKS, label
from storage.views.rows import finding_rows

PER_PAGE = 50
# What a findings row never shows of its bucket and account.
ROW_PAYLOAD = (
    "bucket__verdict",
    "bucket__checks",
    "bucket__public_reasons",
    "bucket__account__secret_access_key",
)
EXPORT_LIMIT = 10_000
STATES = ("open", "suppressed", "resolved", "all")
# sort key -> (label, ordering); the first is the default.
SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "severity": ("severity, then oldest first", ("-severity_rank", "first_seen_at", "pk")),
    "age": ("oldest first", ("first_seen_at", "pk")),
    "-age": ("newest first", ("-first_seen_at", "-pk")),
    "bucket": ("bucket", ("bucket__name", "-severity_rank", "pk")),
    "account": ("account", ("bucket__account__name", "bucket__name", "-severity_rank", "pk")),
}
# Columns that sort, and the sort key each one uses (for links and aria-sort).
COLUMN_SORTS = {"bucket": "bucket", "account": "account", "severity": "severity", "age": "age"}


def filtered_findings(tenant: Tenant, params: Any) -> tuple[QuerySet[Finding], dict[str, str]]:
    """The tenant's findings after the list's filters and sort; and the choices made."""
    # Finding.tenant and .severity_rank are stored for this list: the default order (most severe,
    # then oldest) is read from the finding_by_severity index, without a join or a sort of every
    # open finding; rows join only to name their bucket and account (no scan JSON, no secret).
    findings: QuerySet[Finding] = (
        Finding.objects.for_tenant(tenant)
        .select_related("bucket__account", "suppressed_by")
        .defer(*ROW_PAYLOAD)
    )
    shadowed = shadowed_account_ids(tenant.pk)
    if shadowed:  # only then: the exclusion joins every finding to its bucket, counts included
        findings = findings.exclude(bucket__account_id__in=shadowed)
    state = params.get("state", "open")
    state = state if state in STATES else "open"
    if state in ("open", "suppressed"):
        findings = findings.filter(resolved_at__isnull=True)
        findings = (
            suppression.not_suppressed(findings)
            if state == "open"
            else suppression.active(findings)
        )
    elif state == "resolved":
        findings = findings.filter(resolved_at__isnull=False)
    severity = params.get("severity", "")
    if severity in Severity.values:
        findings = findings.filter(severity=severity)
    check = params.get("check", "")
    if check in CHECKS:
        findings = findings.filter(check_name=check)
    account = params.get("account", "")
    if account.isdigit():
        findings = findings.filter(bucket__account_id=int(account))
    sort = params.get("sort", "severity")
    sort = sort if sort in SORTS else "severity"
    chosen = {"state": state, "severity": severity, "check": check, "account": account}
    return findings.order_by(*SORTS[sort][1]), {**chosen, "sort": sort}


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.pk,
        "account": finding.bucket.account.name,
        "bucket": finding.bucket.name,
        "check": finding.check_name,
        "check_label": label(finding.check_name),
        "severity": finding.severity,
        "detail": finding.detail,
        "first_seen": finding.first_seen_at.isoformat(),
        "last_seen": finding.last_seen_at.isoformat(),
        "resolved": finding.resolved_at.isoformat() if finding.resolved_at else None,
        "suppression": finding.suppression or None,
        "suppression_reason": finding.suppression_reason or None,
        "suppressed_until": (
            finding.suppressed_until.isoformat() if finding.suppressed_until else None
        ),
    }


def _csv_cell(value: Any) -> str:
    # Cells starting with = + - @ are formulas in spreadsheets (CSV injection).
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _csv_rows(findings: QuerySet[Finding]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header: list[str] | None = None
    for finding in findings[:EXPORT_LIMIT].iterator():
        row = finding_dict(finding)
        if header is None:
            header = list(row)
            writer.writerow(header)
        writer.writerow([_csv_cell(row[key]) for key in header])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _export(tenant: Tenant, findings: QuerySet[Finding], fmt: str) -> HttpResponseBase:
    stem = f"findings-{tenant.slug}"
    if fmt == "json":
        rows = [finding_dict(f) for f in findings[:EXPORT_LIMIT]]
        response = HttpResponse(
            json.dumps(rows, indent=2), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.json"'
        return response
    streamed = StreamingHttpResponse(_csv_rows(findings), content_type="text/csv; charset=utf-8")
    streamed["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    return streamed


@tenant_required(Role.VIEWER)
def finding_list(request: HttpRequest, *, tenant: Tenant, role: str) -> HttpResponseBase:
    findings, chosen = filtered_findings(tenant, request.GET)
    fmt = request.GET.get("export", "")
    if fmt in ("csv", "json"):
        return _export(tenant, findings, fmt)
    page = Paginator(findings, PER_PAGE).get_page(request.GET.get("page"))
    may_suppress = role in (Role.ADMIN, Role.OPERATOR)
    # rendered once; finding_rows gives each open row a copy with its own field ids
    form_html = suppression.SuppressionForm(auto_id="id_%s_ROW").as_p() if may_suppress else ""
    query = request.GET.copy()
    query.pop("page", None)
    unsorted = query.copy()
    unsorted.pop("sort", None)
    return render(
        request,
        "storage/finding_list.html",
        {
            "tenant": tenant,
            "page": page,
            "filters": chosen,
            "state": chosen["state"],
            "querystring": query.urlencode(),
            "unsorted_querystring": unsorted.urlencode(),
            "sort": chosen["sort"],
            "sorts": [(key, text) for key, (text, _) in SORTS.items()],
            "column_sorts": COLUMN_SORTS,
            "severities": Severity.choices,
            "check_choices": [(name, label(name)) for name in CHECK_NAMES],
            "accounts": AwsAccount.objects.for_tenant(tenant)
            .defer("secret_access_key")
            .order_by("name"),
            "may_suppress": may_suppress,
            "rows": finding_rows(page.object_list, form_html),
            # one CSRF field for the 50 row forms (any masked copy of the token is valid)
            "csrf_field": format_html(
                '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
            ),
        },
    )


@login_required
@require_POST
def suppress_finding(request: HttpRequest, pk: int) -> HttpResponse:
    finding = get_for_user(request, Finding, pk, role=Role.OPERATOR)
    back = redirect("storage:finding_list")
    if finding.resolved_at is not None:
        messages.error(request, "This finding is already resolved; there is nothing to accept.")
        return back
    form = suppression.SuppressionForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[k].label}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items()
        )
        messages.error(request, f"Not saved. {problems}")
        return back
    data = form.cleaned_data
    suppression.suppress(request.user, finding, data["kind"], data["reason"], data["until"])
    messages.success(
        request,
        f"{label(finding.check_name)} on {finding.bucket.name}: "
        f"{finding.get_suppression_display()} until {data['until']:%Y-%m-%d}.",
    )
    return back


@login_required
@require_POST
def unsuppress_finding(request: HttpRequest, pk: int) -> HttpResponse:
    finding = get_for_user(request, Finding, pk, role=Role.OPERATOR)
    suppression.unsuppress(request.user, finding)
    messages.success(
        request, f"{label(finding.check_name)} on {finding.bucket.name} is back in the open list."
    )
    return redirect("storage:finding_list")
