"""The request an audit event belongs to, kept in a contextvar.

The web layer (s3portal.middleware.RequestIdMiddleware) sets it for the duration of a request;
audit.record() reads it. Outside a request (tasks, commands) it is None.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_ip: str | None


current_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "s3portal_request", default=None
)
