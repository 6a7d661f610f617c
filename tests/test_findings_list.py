"""Issue 8 item 12: findings sorted by severity then age, an Account column and filters,
export (CSV, JSON), and accept/suppress with a reason and an expiry (audited)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AwsAccount
from audit.models import AuditEvent
from storage.models import Bucket, Finding

pytestmark = pytest.mark.django_db
URL = "/buckets/findings/"


@pytest.fixture
def findings(personas: Any) -> dict[str, Finding]:
    now = timezone.now()
    prod = AwsAccount.objects.create(tenant=personas.tenant_a, name="prod")
    dev = AwsAccount.objects.create(tenant=personas.tenant_a, name="dev")
    other = AwsAccount.objects.create(tenant=personas.tenant_b, name="b-main")

    def finding(account: Any, bucket: str, check: str, severity: str, days: int) -> Finding:
        row, _ = Bucket.objects.get_or_create(account=account, name=bucket)
        return Finding.objects.create(
            bucket=row,
            check_name=check,
            severity=severity,
            detail=f"{check} of {bucket}",
            first_seen_at=now - timedelta(days=days),
        )

    return {
        "low_old": finding(prod, "logs-bucket", "logging", "low", 30),
        "high_new": finding(prod, "public-bucket", "policy", "high", 1),
        "high_old": finding(dev, "old-public", "acl", "high", 10),
        "medium": finding(dev, "dev-bucket", "versioning", "medium", 5),
        "carol": finding(other, "b-bucket", "acl", "high", 2),
    }


def rows(response: Any) -> list[str]:
    page = response.context["page"]
    return [f"{f.bucket.name}:{f.check_name}" for f in page.object_list]


def test_default_sort_is_severity_then_oldest(personas: Any, findings: Any) -> None:
    response = personas.client_for("vera").get(URL)
    assert response.status_code == 200
    assert rows(response) == [
        "old-public:acl",
        "public-bucket:policy",
        "dev-bucket:versioning",
        "logs-bucket:logging",
    ]
    html = response.content.decode()
    assert "b-bucket" not in html  # tenant B's finding never shows
    assert '<th aria-sort="descending"><a href="?sort=severity">Severity</a></th>' in html
    assert '<td class="nowrap"><a href=' in html  # bucket names stay on one line


def test_account_column_and_filters(personas: Any, findings: Any) -> None:
    client = personas.client_for("bob")
    dev = AwsAccount.objects.get(name="dev")
    response = client.get(URL, {"account": dev.pk})
    assert rows(response) == ["old-public:acl", "dev-bucket:versioning"]
    assert '<td class="nowrap">dev</td>' in response.content.decode()
    response = client.get(URL, {"severity": "high", "sort": "age"})
    assert rows(response) == ["old-public:acl", "public-bucket:policy"]
    response = client.get(URL, {"sort": "account"})
    assert rows(response)[:2] == ["dev-bucket:versioning", "old-public:acl"]  # dev, by bucket


def test_export_csv_and_json_follow_the_filters(personas: Any, findings: Any) -> None:
    client = personas.client_for("vera")
    response = client.get(URL, {"severity": "high", "export": "json"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="findings-tenant-a.json"'
    data = json.loads(response.content)
    assert [(d["account"], d["bucket"], d["severity"]) for d in data] == [
        ("dev", "old-public", "high"),
        ("prod", "public-bucket", "high"),
    ]
    response = client.get(URL, {"export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["bucket"] for r in table] == [
        "old-public",
        "public-bucket",
        "dev-bucket",
        "logs-bucket",
    ]
    assert table[0]["account"] == "dev" and table[0]["check_label"]


def test_csv_export_neutralises_formulas(personas: Any, findings: Any) -> None:
    Finding.objects.filter(pk=findings["medium"].pk).update(detail="=HYPERLINK(1)")
    response = personas.client_for("vera").get(URL, {"export": "csv", "severity": "medium"})
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert table[0]["detail"] == "'=HYPERLINK(1)"


def suppress_url(finding: Finding) -> str:
    return reverse("storage:suppress_finding", args=[finding.pk])


def test_accept_with_reason_and_expiry_hides_it_until_then_audited(
    personas: Any, findings: Any
) -> None:
    target = findings["high_new"]
    until = timezone.localdate() + timedelta(days=30)
    client = personas.client_for("oscar")
    response = client.post(
        suppress_url(target),
        {"kind": "accepted", "reason": "public website by design", "until": until.isoformat()},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.suppression == "accepted" and target.is_suppressed()
    assert target.suppression_reason == "public website by design"
    assert target.suppressed_by == personas.oscar
    assert "public-bucket:policy" not in rows(client.get(URL))
    assert rows(client.get(URL, {"state": "suppressed"})) == ["public-bucket:policy"]
    event = AuditEvent.objects.get(action="storage.finding.suppress")
    assert event.actor_name == "oscar"
    assert event.after["reason"] == "public website by design"
    assert event.after["until"].startswith(until.isoformat())
    assert event.before["suppression"] == ""

    # Expired: back in the open list by itself.
    Finding.objects.filter(pk=target.pk).update(suppressed_until=timezone.now())
    assert "public-bucket:policy" in rows(client.get(URL))

    client.post(reverse("storage:unsuppress_finding", args=[target.pk]))
    target.refresh_from_db()
    assert target.suppression == "" and target.suppressed_until is None
    assert AuditEvent.objects.filter(action="storage.finding.unsuppress").count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "accepted", "reason": "  ", "until": "+5"}, "Reason: This field is required."),
        ({"kind": "accepted", "reason": "x", "until": "+0"}, "Until: Choose a day after today."),
        ({"kind": "accepted", "reason": "x", "until": "+400"}, "Until: At most 366 days ahead"),
        ({"kind": "nope", "reason": "x", "until": "+5"}, "Decision: Select a valid choice."),
    ],
)
def test_a_decision_needs_a_reason_and_a_sane_expiry(
    personas: Any, findings: Any, data: dict[str, str], message: str
) -> None:
    days = int(data["until"])
    data = {**data, "until": (timezone.localdate() + timedelta(days=days)).isoformat()}
    client = personas.client_for("alice")
    response = client.post(suppress_url(findings["medium"]), data, follow=True)
    assert message in response.content.decode()
    findings["medium"].refresh_from_db()
    assert findings["medium"].suppression == ""
    assert not AuditEvent.objects.filter(action="storage.finding.suppress").exists()


@pytest.mark.parametrize(("persona", "status"), [("bob", 403), ("vera", 403), ("carol", 404)])
def test_only_operators_and_admins_of_the_tenant_decide(
    personas: Any, findings: Any, persona: str, status: int
) -> None:
    until = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = personas.client_for(persona).post(
        suppress_url(findings["medium"]), {"kind": "accepted", "reason": "x", "until": until}
    )
    assert response.status_code == status
    response = personas.client_for(persona).post(
        reverse("storage:unsuppress_finding", args=[findings["medium"].pk])
    )
    assert response.status_code == status
    assert not AuditEvent.objects.filter(action__startswith="storage.finding.").exists()


def test_accepted_findings_leave_the_dashboard_banner(personas: Any, findings: Any) -> None:
    client = personas.client_for("alice")
    assert "2 buckets at risk" in client.get("/").content.decode()
    until = (timezone.localdate() + timedelta(days=3)).isoformat()
    client.post(
        suppress_url(findings["high_old"]), {"kind": "suppressed", "reason": "test", "until": until}
    )
    assert "1 bucket at risk" in client.get("/").content.decode()
