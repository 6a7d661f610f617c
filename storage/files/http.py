"""Request plumbing shared by the file views: the user's standing, JSON-or-HTML answers, CSRF.

What each role may do with files is accounts.policy.FilesPolicy; FilesContext binds it to a
request's user, tenant and file space.

* Every answer is JSON when the client asks for it (``Accept: application/json``), HTML otherwise;
  errors are ``{"error": "..."}`` with a 4xx/5xx status, never a stack trace.
* Scoping fails closed: another tenant's file, another member's file, or a deleted file is 404;
  a role that is too weak for the action is 403.
* CSRF is checked by the views themselves (they are ``csrf_exempt`` for the middleware) so a
  failure answers in the client's format, and so an upload (uploads.py) can check a header token
  *before* it streams a single byte to S3.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils.datastructures import MultiValueDict

from accounts.access import current_tenant, get_for_user, user_role
from accounts.models import Role, Tenant
from accounts.policy import FilesPolicy
from accounts.users import User, acting_user

from .errors import FilesError
from .models import FileSpace, StoredFile, file_space_for

logger = logging.getLogger(__name__)

MAX_PK = 2**63 - 1
NOT_FOUND = "No such file: it does not exist, was deleted, or is not yours to see."


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def error_response(request: HttpRequest, message: str, status: int) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": message}, status=status)
    return render(
        request, "files/error.html", {"message": message, "status": status}, status=status
    )


@dataclass(frozen=True)
class FilesContext:
    """The user's standing in the tenant whose files a page shows.

    What the role allows is accounts.policy.FilesPolicy; this only binds it to a user, a tenant
    and its file space.
    """

    user: User
    tenant: Tenant
    role: str
    space: FileSpace | None

    @property
    def policy(self) -> FilesPolicy:
        viewers_may_download = self.space is not None and self.space.viewers_may_download
        return FilesPolicy(self.role, viewers_may_download=viewers_may_download)

    @property
    def is_admin(self) -> bool:
        return self.policy.is_admin

    @property
    def sees_all(self) -> bool:
        return self.policy.sees_all

    @property
    def may_upload(self) -> bool:
        return self.policy.may_upload

    @property
    def may_download(self) -> bool:
        return self.policy.may_download

    def may_change(self, stored: StoredFile) -> bool:
        return self.policy.may_change(owns_it=stored.owner_id == self.user.pk)

    def visible_files(self) -> Any:
        files = StoredFile.objects.active().for_tenant(self.tenant)
        if not self.sees_all:
            files = files.filter(owner=self.user)
        return files


def files_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Login (JSON clients get 401, not a redirect), a current tenant, and errors as answers.

    The view receives a :class:`FilesContext` for the user's current tenant.
    """
    return _files_view(view, with_tenant=True)


def file_action_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Like :func:`files_view` for views about one file: the file's own tenant counts (found
    through :func:`get_file`), not the current one, so anyone outside it gets 404."""
    return _files_view(view, with_tenant=False)


def _files_view(view: Callable[..., HttpResponseBase], *, with_tenant: bool) -> Any:
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
            if not with_tenant:
                return view(request, *args, **kwargs)
            tenant = current_tenant(request)
            if tenant is None:
                raise PermissionDenied("Your account does not belong to any tenant yet.")
            role = user_role(request.user, tenant)
            if role is None:  # pragma: no cover - current_tenant only returns own tenants
                raise PermissionDenied("You have no role in this tenant.")
            ctx = FilesContext(request.user, tenant, role, file_space_for(tenant))
            return view(request, ctx, *args, **kwargs)
        except FilesError as exc:
            return error_response(request, exc.message, exc.status)
        except Http404 as exc:
            return error_response(request, str(exc) or NOT_FOUND, 404)
        except PermissionDenied as exc:
            return error_response(request, str(exc) or "You may not do this.", 403)

    return wrapper


def require_method(request: HttpRequest, *methods: str) -> None:
    if request.method not in methods:
        raise FilesError(
            f"Method {request.method} is not allowed here; use {' or '.join(methods)}.", 405
        )


def get_file(request: HttpRequest, pk: int, *, action: str) -> tuple[StoredFile, FilesContext]:
    """The file `pk` if the user may `action` ("view", "download" or "change") it.

    Another tenant's file, another member's file and a deleted file are all 404: the answer
    never tells whether such a file exists. A viewer trying to change (or, unless the tenant
    allows it, download) a file gets 403.
    """
    if pk > MAX_PK:
        raise Http404(NOT_FOUND)
    try:
        stored = get_for_user(request, StoredFile, pk, role=Role.VIEWER)
    except Http404:
        raise Http404(NOT_FOUND) from None
    role = user_role(request.user, stored.tenant)
    assert role is not None  # get_for_user checked membership
    ctx = FilesContext(acting_user(request), stored.tenant, role, file_space_for(stored.tenant_id))
    owns_it = stored.owner_id == request.user.pk
    if stored.deleted_at is not None or not ctx.policy.may_see(owns_it=owns_it):
        raise Http404(NOT_FOUND)
    if action == "download" and not ctx.may_download:
        raise PermissionDenied(
            "Viewers may not download files in this tenant (a tenant admin can allow it)."
        )
    if action == "change" and not ctx.may_change(stored):
        raise PermissionDenied("Your role has read-only access to this file.")
    return stored, ctx


# --------------------------------------------------------------------------- CSRF


class _FilesCsrf(CsrfViewMiddleware):
    """Django's CSRF checks, answering in the client's format (JSON or the HTML error page)."""

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        logger.warning("CSRF check failed for %s: %s", request.path, reason)
        return error_response(
            request,
            f"CSRF verification failed: {reason} Reload the page and try again; scripts send "
            "the csrftoken cookie's value in the X-CSRFToken header.",
            403,
        )


def _protected_view(request: HttpRequest) -> HttpResponse:  # stands in for the protected view
    return HttpResponse()


def check_csrf(request: HttpRequest) -> HttpResponse | None:
    """Run the CSRF checks now; None if they pass, else the 403 answer."""
    checker = _FilesCsrf(lambda r: HttpResponse())
    checker.process_request(request)
    return checker.process_view(request, _protected_view, (), {})


def check_csrf_before_body(request: HttpRequest) -> HttpResponse | None:
    """CSRF checks from the X-CSRFToken header alone, without reading the request body.

    Django's check looks at the form field first, which would parse (and so upload) the whole
    body; presenting an empty form makes it use the header, and the body stays unread.
    """
    request._post = QueryDict()  # type: ignore[attr-defined]
    request._files = MultiValueDict()  # type: ignore[attr-defined]
    try:
        return check_csrf(request)
    finally:
        del request._post  # type: ignore[attr-defined]
        del request._files  # type: ignore[attr-defined]


def has_csrf_header(request: HttpRequest) -> bool:
    return bool(request.META.get(settings.CSRF_HEADER_NAME))
