"""Page tokens for folder listings, bound to one bucket, one prefix and one listing mode.

S3's continuation token (or key + version-id markers) goes inside a token signed with the
project's SECRET_KEY (django.core.signing), together with the bucket id, the prefix and the
stack of earlier pages' tokens (for "previous"). A token from another bucket or folder, or an
altered one, is refused with a 400: it can never list something the URL does not name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core import signing

from .keys import BadInput

SALT = "storage.browser.page"
#: How many earlier pages "previous" can step back through (the stack rides in the token).
MAX_STACK = 20


@dataclass(frozen=True)
class PageState:
    """Where a listing page starts: None = the first page; `back` = the earlier pages' starts."""

    start: Any = None
    back: tuple[Any, ...] = field(default_factory=tuple)
    number: int = 1


def encode(bucket_id: int, prefix: str, mode: str, state: PageState) -> str:
    payload = {
        "b": bucket_id,
        "p": prefix,
        "m": mode,
        "s": state.start,
        "k": list(state.back),
        "n": state.number,
    }
    return signing.dumps(payload, salt=SALT, compress=True)


def decode(token: str, bucket_id: int, prefix: str, mode: str) -> PageState:
    if not token:
        return PageState()
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise BadInput(
            "This page token is not valid (altered or from another portal); start from the "
            "folder's first page."
        ) from None
    if payload.get("b") != bucket_id or payload.get("p") != prefix or payload.get("m") != mode:
        raise BadInput(
            "This page token belongs to another bucket, folder, search or listing mode; "
            "start from the folder's first page."
        )
    number = payload.get("n")
    return PageState(
        start=payload.get("s"),
        back=tuple(payload.get("k") or ()),
        number=number if isinstance(number, int) and number > 0 else 1,
    )


def next_state(current: PageState, start: Any) -> PageState:
    back = (*current.back, current.start)
    return PageState(start=start, back=back[-MAX_STACK:], number=current.number + 1)


def previous_state(current: PageState) -> PageState | None:
    """The page before, or None on the first page (or when the stack ran out: first page)."""
    if current.start is None:
        return None
    if not current.back or current.number <= 2:
        return PageState()
    return PageState(start=current.back[-1], back=current.back[:-1], number=current.number - 1)
