"""Each person's own time zone: dates are shown in it, with its name (issue 8, item 22).

The zone is kept on the person's `Preferences` row and, for speed, in their session (set at
login and when they change it), so no request pays a query for it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

SESSION_KEY = "s3portal_time_zone"


@cache
def zone_names() -> list[str]:
    return sorted(available_timezones())


def is_zone(name: str) -> bool:
    return name in set(zone_names())


def remember(request: HttpRequest, name: str) -> None:
    """Use `name` for this session from now on ("" for the portal's own TIME_ZONE)."""
    request.session[SESSION_KEY] = name


class TimezoneMiddleware:
    """Activate the person's time zone for the request (after sessions and authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = request.session.get(SESSION_KEY, "") if hasattr(request, "session") else ""
        if name and is_zone(name):
            timezone.activate(ZoneInfo(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
