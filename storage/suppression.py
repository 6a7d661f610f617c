"""Accept or suppress a finding, with a reason and an expiry; lift it again. Audited.

An accepted or suppressed finding stays open (the scan keeps refreshing it) but leaves the
open list, the dashboard banner and the bucket-at-risk count until its expiry; then it is
back by itself. The audit trail keeps who decided, why and until when.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

import audit
from storage.models import Finding, Suppression

MAX_SUPPRESSION_DAYS = 366  # a decision is revisited at least once a year


def _state(finding: Finding) -> dict[str, Any]:
    return {
        "suppression": finding.suppression,
        "reason": finding.suppression_reason,
        "until": finding.suppressed_until.isoformat() if finding.suppressed_until else None,
    }


def active(qs: QuerySet[Finding], now: datetime | None = None) -> QuerySet[Finding]:
    """The findings of `qs` that are accepted or suppressed right now."""
    return qs.exclude(suppression="").filter(suppressed_until__gt=now or timezone.now())


def not_suppressed(qs: QuerySet[Finding], now: datetime | None = None) -> QuerySet[Finding]:
    return qs.filter(Q(suppression="") | Q(suppressed_until__lte=now or timezone.now()))


class SuppressionForm(forms.Form):
    kind = forms.ChoiceField(label="Decision", choices=Suppression.choices)
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "why (kept in the audit trail)"}),
    )
    until = forms.DateField(
        label="Until",
        # ISO like every date the portal shows (a date picker would show the browser's locale).
        widget=forms.DateInput(
            format="%Y-%m-%d",
            attrs={"placeholder": "YYYY-MM-DD", "inputmode": "numeric", "size": 10},
        ),
        help_text=f"lapses at the start of that day; at most {MAX_SUPPRESSION_DAYS} days",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why: the reason is kept in the audit trail.")
        return reason

    def clean_until(self) -> date:
        until: date = self.cleaned_data["until"]
        today = timezone.localdate()
        if until <= today:
            raise forms.ValidationError("Choose a day after today.")
        if until > today + timedelta(days=MAX_SUPPRESSION_DAYS):
            raise forms.ValidationError(
                f"At most {MAX_SUPPRESSION_DAYS} days ahead; decide again then."
            )
        return until


def suppress(actor: Any, finding: Finding, kind: str, reason: str, until: date) -> Finding:
    before = _state(finding)
    with transaction.atomic():
        finding.suppression = kind
        finding.suppression_reason = reason
        finding.suppressed_until = timezone.make_aware(datetime.combine(until, time.min))
        finding.suppressed_at = timezone.now()
        finding.suppressed_by = actor if getattr(actor, "is_authenticated", False) else None
        finding.save(
            update_fields=[
                "suppression",
                "suppression_reason",
                "suppressed_until",
                "suppressed_at",
                "suppressed_by",
            ]
        )
        audit.record(
            actor,
            finding.bucket.account.tenant,
            "storage.finding.suppress",
            finding,
            before=before,
            after=_state(finding),
        )
    return finding


def unsuppress(actor: Any, finding: Finding) -> Finding:
    before = _state(finding)
    with transaction.atomic():
        finding.suppression = ""
        finding.suppression_reason = ""
        finding.suppressed_until = None
        finding.save(update_fields=["suppression", "suppression_reason", "suppressed_until"])
        audit.record(
            actor,
            finding.bucket.account.tenant,
            "storage.finding.unsuppress",
            finding,
            before=before,
            after=_state(finding),
        )
    return finding
