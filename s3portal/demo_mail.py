"""The demo's mail page: what the portal sent, read from the file-based mail backend's folder.

Only with DEBUG and S3PORTAL_DEMO_MAIL_PAGE (set by `make run`), only for platform
superusers; anything else is 404, so production never has this page.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

MAX_MESSAGES = 50


@dataclass(frozen=True)
class Mail:
    file_name: str
    sender: str
    to: str
    subject: str
    date: str
    body: str


def read_messages(folder: Path, limit: int = MAX_MESSAGES) -> list[Mail]:
    """Newest first. A file may hold several messages (one per send), split by Django's rule."""
    if not folder.is_dir():
        return []
    messages: list[Mail] = []
    files = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    separator = "-" * 79
    for path in files:
        chunks = [c.strip() for c in path.read_text(errors="replace").split(separator)]
        for chunk in reversed([c for c in chunks if c]):
            parsed = email.message_from_string(chunk, policy=email.policy.default)
            part = parsed.get_body(preferencelist=("plain", "html"))
            body = part.get_content() if part is not None else parsed.get_payload()
            messages.append(
                Mail(
                    file_name=path.name,
                    sender=str(parsed.get("From", "")),
                    to=str(parsed.get("To", "")),
                    subject=str(parsed.get("Subject", "")),
                    date=str(parsed.get("Date", "")),
                    body=str(body),
                )
            )
            if len(messages) >= limit:
                return messages
    return messages


@login_required
def mail_page(request: HttpRequest) -> HttpResponse:
    if not settings.DEMO_MAIL_PAGE or not request.user.is_superuser:
        raise Http404("No such page.")
    folder = Path(settings.EMAIL_FILE_PATH)
    return render(
        request,
        "portal/demo_mail.html",
        {"messages_sent": read_messages(folder), "folder": folder},
    )
