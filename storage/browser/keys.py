"""Object keys and prefixes as they arrive in query strings and forms: checked, never rewritten.

A key is any UTF-8 string of 1 to 1,024 bytes (S3's rule: "The name for a key is a sequence of
Unicode characters whose UTF-8 encoding is at most 1,024 bytes long"). The portal passes it to
S3 byte for byte: no stripping, no normalisation, no decoding of "%" sequences.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import MAX_KEY_BYTES


class BadInput(ValueError):
    """Input the portal refuses: the message says what is wrong (answered with a 4xx)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def utf8_length(text: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # a lone surrogate cannot be a key
        raise BadInput("Keys must be valid Unicode text (UTF-8).") from exc


def check_key(key: str | None) -> str:
    """The key as sent, or BadInput (empty, longer than 1,024 bytes, not UTF-8)."""
    if key is None or key == "":
        raise BadInput("Send the object's key in the 'key' parameter; it may not be empty.")
    size = utf8_length(key)
    if size > MAX_KEY_BYTES:
        raise BadInput(
            f"The key is {size} bytes long; S3 keys are at most {MAX_KEY_BYTES:,} bytes of UTF-8."
        )
    return key


def check_prefix(prefix: str | None) -> str:
    """A listing prefix ('' is the bucket's top), at most 1,024 bytes like a key."""
    prefix = prefix or ""
    size = utf8_length(prefix)
    if size > MAX_KEY_BYTES:
        raise BadInput(
            f"The prefix is {size} bytes long; S3 keys (and so prefixes) are at most "
            f"{MAX_KEY_BYTES:,} bytes."
        )
    return prefix


def check_version(version_id: str | None) -> str:
    """'' (the current version) or a version id as S3 gave it (at most 1,024 characters)."""
    version_id = version_id or ""
    if len(version_id) > 1024 or any(ord(ch) < 32 for ch in version_id):
        raise BadInput("That is not a version id S3 could have issued.")
    return version_id


@dataclass(frozen=True)
class Crumb:
    label: str
    prefix: str


def breadcrumbs(prefix: str) -> list[Crumb]:
    """The folders above (and including) `prefix`, split on "/" exactly as S3 groups them.

    "a//b/" gives "a", "" (shown as an empty name) and "b"; a part after the last "/" (a search
    text) is not a folder and is left out.
    """
    crumbs = [Crumb("(top)", "")]
    end = prefix.find("/")
    while end != -1:
        start = len(crumbs[-1].prefix)
        crumbs.append(Crumb(prefix[start:end], prefix[: end + 1]))
        end = prefix.find("/", end + 1)
    return crumbs


def folder_of(prefix: str) -> str:
    """The folder part of a listing prefix (up to and including its last '/')."""
    cut = prefix.rfind("/")
    return prefix[: cut + 1] if cut != -1 else ""


def relative_name(key: str, folder: str) -> str:
    """How a key or sub-folder is named inside `folder` (its full key when it is not inside)."""
    return key[len(folder) :] if key.startswith(folder) and key != folder else key


def download_name(key: str) -> str:
    """The file name a download gets: the key's last non-empty segment ("a/b.txt" -> "b.txt")."""
    parts = [p for p in key.split("/") if p]
    return parts[-1] if parts else "download"
