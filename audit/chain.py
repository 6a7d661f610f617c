"""The hash chain: each event's hash covers its content and the previous event's hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from audit.models import AuditEvent

GENESIS = "0" * 64


def normalise_json(value: Any) -> Any:
    """Round-trip through JSON so what is hashed is exactly what the database gives back."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True))


def event_digest(event: AuditEvent, prev_hash: str) -> str:
    content = {
        "prev": prev_hash,
        "created_at": event.created_at.isoformat(),
        "tenant_id": event.tenant_id,
        "tenant_slug": event.tenant_slug,
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "before": event.before,
        "after": event.after,
        "request_id": event.request_id,
        "client_ip": event.client_ip,
    }
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def verify_chain(events: Iterable[AuditEvent]) -> tuple[int, ChainBreak | None]:
    """Walk events in id order; return (events checked, first break or None)."""
    expected_prev = GENESIS
    checked = 0
    for event in events:
        if event.prev_hash != expected_prev:
            reason = (
                "the previous event is missing or was altered "
                f"(prev_hash {event.prev_hash[:12]}... does not match {expected_prev[:12]}...)"
            )
            return checked, ChainBreak(event.id, reason)
        if event_digest(event, event.prev_hash) != event.hash:
            return checked, ChainBreak(event.id, "its content was altered (hash mismatch)")
        expected_prev = event.hash
        checked += 1
    return checked, None
