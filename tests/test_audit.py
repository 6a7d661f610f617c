"""The audit trail: hash chain, tamper detection, read-only admin, CSV export, login events."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

import audit
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def make_events(personas: Any, n: int = 4) -> list[AuditEvent]:
    return [
        audit.record(
            personas.alice,
            personas.tenant_a,
            f"test.event{i}",
            personas.tenant_a,
            before={"n": i},
            after={"n": i + 1, "when": "2026-01-01"},
        )
        for i in range(n)
    ]


def test_events_chain_and_verify(personas: Any, capsys: Any) -> None:
    events = make_events(personas)
    assert events[1].prev_hash == events[0].hash
    call_command("verify_audit")
    assert "4 events verified" in capsys.readouterr().out


def test_edited_row_is_detected(personas: Any) -> None:
    events = make_events(personas)
    AuditEvent.objects.filter(pk=events[2].pk).update(after={"n": 999})
    with pytest.raises(CommandError, match=f"broken at event {events[2].pk}: its content"):
        call_command("verify_audit")


def test_deleted_row_is_detected(personas: Any) -> None:
    events = make_events(personas)
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    with pytest.raises(CommandError, match=f"broken at event {events[2].pk}: the previous"):
        call_command("verify_audit")


def test_deleted_first_row_is_detected(personas: Any) -> None:
    events = make_events(personas)
    AuditEvent.objects.filter(pk=events[0].pk).delete()
    with pytest.raises(CommandError, match=f"broken at event {events[1].pk}"):
        call_command("verify_audit")


def test_verify_audit_exit_code_is_non_zero(personas: Any) -> None:
    events = make_events(personas, 2)
    AuditEvent.objects.filter(pk=events[0].pk).update(actor_name="mallory")
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit")
    assert excinfo.value.returncode == 1


def test_deleting_tenant_and_user_keeps_events_verifiable(personas: Any) -> None:
    make_events(personas, 2)
    personas.tenant_a.delete()
    personas.alice.delete()
    call_command("verify_audit")
    event = AuditEvent.objects.order_by("id").first()
    assert event.actor_name == "alice" and event.tenant_slug == "tenant-a"


def test_secret_keys_are_scrubbed(personas: Any) -> None:
    event = audit.record(
        None,
        None,
        "test.scrub",
        None,
        after={"secret_access_key": "s3cr3t", "nested": [{"password": "pw"}]},
    )
    assert "s3cr3t" not in str(event.after) and "pw" not in str(event.after["nested"])


def test_request_id_and_ip_recorded_from_request(personas: Any, client: Any) -> None:
    client.post(
        reverse("login"),
        {"username": "alice", "password": "correct horse battery staple"},
        HTTP_X_REQUEST_ID="req-12345678",
        REMOTE_ADDR="203.0.113.7",
    )
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor_name == "alice"
    assert event.request_id == "req-12345678" and event.client_ip == "203.0.113.7"


def test_failed_login_recorded_without_password(personas: Any, client: Any) -> None:
    response = client.post(reverse("login"), {"username": "alice", "password": "guess-123!"})
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.target_label == "alice"
    assert "guess-123" not in str(event.after) + event.target_label + event.actor_name


def test_audit_admin_is_read_only_even_for_root(personas: Any) -> None:
    event = make_events(personas, 1)[0]
    client = personas.client_for("root")
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert (
        client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {}).status_code
        == 403
    )
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    page = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert "delete_selected" not in page


def test_audit_admin_filters(personas: Any) -> None:
    make_events(personas, 2)
    audit.record(personas.carol, personas.tenant_b, "other.action", personas.tenant_b)
    client = personas.client_for("root")
    url = reverse("admin:audit_auditevent_changelist")

    def listed(params: dict[str, Any]) -> set[str]:
        body = client.get(url, params).content.decode()
        return set(re.findall(r'<td class="field-action">([^<]+)</td>', body))

    assert listed({"action": "other.action"}) == {"other.action"}
    assert listed({"tenant": personas.tenant_a.pk}) == {"test.event0", "test.event1"}
    assert listed({"q": "carol"}) == {"other.action"}
    assert listed({"actor_name": "carol"}) == {"other.action"}
    today = {
        "created_at__gte": "2000-01-01 00:00+00:00",
        "created_at__lt": "2100-01-01 00:00+00:00",
    }
    assert "test.event0" in listed(today)
    alice_sees = personas.client_for("alice").get(url).content.decode()
    assert "other.action" not in alice_sees  # not in rows, nor in the action filter


def _export(client: Any, params: dict[str, Any] | None = None) -> list[dict[str, str]]:
    response = client.get(reverse("admin:audit_auditevent_export"), params or {})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_is_filtered_and_scoped(personas: Any) -> None:
    make_events(personas, 3)
    audit.record(personas.carol, personas.tenant_b, "b.secret.action", personas.tenant_b)
    audit.record(None, personas.tenant_a, "=HYPERLINK(evil)", None)
    rows = _export(personas.client_for("alice"))
    actions = [r["action"] for r in rows]
    assert "b.secret.action" not in actions
    assert {"test.event0", "test.event1", "test.event2"} <= set(actions)
    assert "'=HYPERLINK(evil)" in actions  # neutralised spreadsheet formula
    filtered = _export(personas.client_for("alice"), {"action": "test.event1"})
    assert [r["action"] for r in filtered] == ["test.event1"]
    assert {r["action"] for r in _export(personas.client_for("root"))} >= {"b.secret.action"}


def test_csv_export_refused_below_admin(personas: Any) -> None:
    url = reverse("admin:audit_auditevent_export")
    assert personas.client_for("oscar").get(url).status_code == 403
    assert personas.client_for("bob").get(url).status_code == 302  # members never reach admin
