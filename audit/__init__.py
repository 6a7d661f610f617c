"""Tamper-evident audit trail. `audit.record(...)` is the only way in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.models import AuditEvent


def record(*args: Any, **kwargs: Any) -> AuditEvent:
    """Append an event; see audit.trail.record for the signature."""
    # Imported on call, not at the top: Django imports this package (the app) before any
    # model can be loaded, and audit.trail needs AuditEvent.
    from audit.trail import record as _record

    return _record(*args, **kwargs)
