"""audit.record(): append one event to the chain, in the caller's transaction."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import connection, models, transaction
from django.utils import timezone

from audit.chain import GENESIS, event_digest, normalise_json
from audit.context import current_request
from audit.models import AuditEvent

logger = logging.getLogger(__name__)

# Who did it: a user, an anonymous visitor (a failed login), or None (the system).
Actor = AbstractBaseUser | AnonymousUser | None

# Keys that must never reach the trail even if a caller passes them by mistake.
SECRET_KEYS = {
    "secret_access_key",
    "aws_secret_access_key",
    "password",
    "session_token",
    "token",
    "secret",
}
_CHAIN_LOCK_ID = 727_001  # PostgreSQL advisory lock serialising appends to the chain


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("(redacted)" if str(k).lower() in SECRET_KEYS else _scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _actor_fields(actor: Actor) -> tuple[int | None, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, "" if actor is None else "anonymous"
    return actor.pk, actor.get_username()


def record(
    actor: Actor,
    tenant: models.Model | None,
    action: str,
    target: models.Model | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    target_type: str | None = None,
    target_label: str | None = None,
    actor_name: str | None = None,
) -> AuditEvent:
    """Record `action` (a dotted name like "accounts.aws_account.create").

    `actor` is a user or None (system); `tenant` a Tenant or None (platform-level events);
    `target` any model instance (or None). Must be called inside the transaction of the change.
    """
    actor_id, name = _actor_fields(actor)
    ctx = current_request.get()
    event = AuditEvent(
        created_at=timezone.now(),
        tenant_id=getattr(tenant, "pk", None),
        tenant_slug=getattr(tenant, "slug", "") or "",
        actor_id=actor_id,
        actor_name=actor_name if actor_name is not None else name,
        action=action,
        target_type=target_type or (target._meta.label_lower if target is not None else ""),
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=(target_label if target_label is not None else str(target or ""))[:255],
        before=normalise_json(_scrub(before)),
        after=normalise_json(_scrub(after)),
        request_id=ctx.request_id if ctx else "",
        client_ip=ctx.client_ip if ctx else None,
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event.prev_hash = last or GENESIS
        event.hash = event_digest(event, event.prev_hash)
        event.save(force_insert=True)
    logger.info("audit %s by %s on %s", action, event.actor_name or "system", event.target_label)
    return event
