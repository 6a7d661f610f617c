"""Request plumbing of the browser views: login, JSON-or-HTML answers, errors as answers.

Same contract as the files API (storage/files/http.py, whose CSRF helpers are reused): JSON
when the client sends ``Accept: application/json``, ``{"error": "..."}`` with a 4xx/5xx status,
401 instead of a login redirect for JSON clients, never a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from storage.files.http import check_csrf, wants_json

from .keys import BadInput

__all__ = ["browser_view", "check_csrf", "error_response", "require_method", "wants_json"]


def error_response(request: HttpRequest, message: str, status: int) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": message}, status=status)
    return render(
        request, "browser/error.html", {"message": message, "status": status}, status=status
    )


def require_method(request: HttpRequest, *methods: str) -> None:
    if request.method not in methods:
        raise BadInput(
            f"Method {request.method} is not allowed here; use {' or '.join(methods)}.", 405
        )


def browser_view(
    view: Callable[..., HttpResponseBase], *, csrf: bool = False
) -> Callable[..., HttpResponseBase]:
    """Login (401 for JSON clients), CSRF for POSTs when `csrf`, and errors as answers."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            if not request.user.is_authenticated:
                if wants_json(request):
                    return JsonResponse(
                        {"error": "Not logged in: authenticate with a session first."},
                        status=401,
                    )
                return redirect_to_login(request.get_full_path(), reverse(settings.LOGIN_URL))
            if csrf and request.method == "POST":
                rejected = check_csrf(request)
                if rejected is not None:
                    return rejected
            return view(request, *args, **kwargs)
        except BadInput as exc:
            return error_response(request, exc.message, exc.status)
        except Http404 as exc:
            return error_response(request, str(exc) or "Not found.", 404)
        except PermissionDenied as exc:
            return error_response(request, str(exc) or "You may not do this.", 403)

    return wrapper


def action_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponseBase]:
    """browser_view for POST forms: CSRF checked by the view (answers in the client's format)."""
    from django.views.decorators.csrf import csrf_exempt

    return csrf_exempt(browser_view(view, csrf=True))
