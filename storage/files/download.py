"""Streaming downloads and safe handling of user-supplied file names.

* :func:`stream_object` -- GetObject as an iterator of chunks for a
  ``StreamingHttpResponse``; the S3 body is closed when the iterator is exhausted, fails
  or is closed (Django closes it when the response is closed, even unstarted).
* :func:`content_disposition` -- an RFC 6266 ``Content-Disposition`` value with an ASCII
  ``filename=`` fallback and an RFC 5987 / RFC 8187 ``filename*=UTF-8''...`` parameter.
* :func:`safe_object_name` -- a browser-supplied file name turned into a safe last key
  segment.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any, Self
from urllib.parse import quote

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_NAME_BYTES",
    "MAX_DISPLAY_NAME_BYTES",
    "ObjectStream",
    "clean_display_name",
    "content_disposition",
    "safe_object_name",
    "stream_object",
]

DEFAULT_CHUNK_SIZE = 1024 * 1024
DEFAULT_NAME_BYTES = 200
FALLBACK_FILENAME = "download"


# --------------------------------------------------------------------------- streaming


class ObjectStream(Iterator[bytes]):
    """Iterator over the body of a GetObject response, with its headers.

    Yields non-empty ``bytes`` of at most ``chunk_size``. The underlying HTTP body is
    closed once exhausted, on the first error, or when :meth:`close` is called.
    """

    def __init__(self, response: Mapping[str, Any], chunk_size: int) -> None:
        self._body = response["Body"]
        self._chunks: Iterator[bytes] = self._body.iter_chunks(chunk_size)
        self._closed = False
        self.content_length: int | None = response.get("ContentLength")
        self.content_type: str | None = response.get("ContentType")
        self.etag: str | None = response.get("ETag")
        self.version_id: str | None = response.get("VersionId")
        self.metadata: dict[str, str] = dict(response.get("Metadata") or {})

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> bytes:
        if self._closed:
            raise StopIteration
        try:
            return next(self._chunks)
        except BaseException:  # StopIteration included: exhausted
            self.close()
            raise

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._body.close()


def stream_object(
    client: Any,
    bucket: str,
    key: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    version_id: str | None = None,
) -> ObjectStream:
    """Fetch ``s3://bucket/key`` and return an iterator over its bytes.

    ``GetObject`` is issued *now*, not on first iteration, so ``NoSuchKey`` /
    ``AccessDenied`` are raised to the caller (e.g. to answer 404) before any response
    starts. The returned :class:`ObjectStream` also carries ``content_length``,
    ``content_type``, ``etag``... for the response headers. Memory: one ``chunk_size``.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    response = client.get_object(**kwargs)
    return ObjectStream(response, chunk_size)


# --------------------------------------------------------------------------- file names

# Bidirectional-text controls (used to disguise extensions, "gpj.exe") and the BOM.
_INVISIBLE = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)
# Control characters (C0, DEL, C1 -- NUL, CR, LF, TAB...), lone surrogates (not
# encodable as UTF-8) and the Unicode line/paragraph separators.
_REMOVED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _strip_unsafe_chars(text: str) -> str:
    return "".join(
        ch
        for ch in text
        if ch not in _INVISIBLE and unicodedata.category(ch) not in _REMOVED_CATEGORIES
    )


def _only_dots(text: str) -> bool:
    return not text.strip(". ")


def _cut_utf8(text: str, max_bytes: int) -> str:
    """Longest prefix of ``text`` whose UTF-8 encoding fits ``max_bytes``."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    # A prefix of valid UTF-8 is only invalid at its very end: "ignore" drops exactly
    # the incomplete trailing character.
    cut = encoded[:max_bytes].decode("utf-8", errors="ignore")
    return cut.rstrip("\u200d")  # no dangling zero-width joiner


def _truncate_keeping_extension(name: str, max_bytes: int) -> str:
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    stem, dot, ext = name.rpartition(".")
    ext_bytes = len(ext.encode("utf-8")) + 1
    if dot and stem.strip(". ") and ext and " " not in ext and ext_bytes <= min(32, max_bytes // 2):
        cut_stem = _cut_utf8(stem, max_bytes - ext_bytes).rstrip(" .")
        if cut_stem:
            return f"{cut_stem}.{ext}"
    return _cut_utf8(name, max_bytes).rstrip(" .")


def safe_object_name(name: str, max_bytes: int = DEFAULT_NAME_BYTES) -> str:
    """Turn an untrusted browser file name into a safe last segment of an S3 key.

    * Unicode is normalised to NFC (so "é" is one code point whatever the OS sent).
    * Control characters (NUL, CR, LF, TAB, DEL, C1), lone surrogates, line/paragraph
      separators and bidi override characters are removed.
    * Any directory part is dropped, for ``/`` and ``\\`` alike (``..\\..\\x`` -> ``x``).
    * Surrounding whitespace and trailing dots are stripped (Windows drops them too).
    * The result is cut to ``max_bytes`` of UTF-8 without splitting a character,
      keeping the extension (up to 31 bytes) when there is room for part of the stem.

    Other characters -- including ``<``, ``>``, ``"``, ``&`` -- are kept as text:
    escaping is the job of whoever renders the name.

    :raises ValueError: if nothing usable remains (empty, only dots or spaces, a bare
        directory such as ``"foo/"``).
    """
    if max_bytes < 1:
        raise ValueError("max_bytes must be positive")
    original = name
    name = unicodedata.normalize("NFC", name)
    name = _strip_unsafe_chars(name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = name.strip().rstrip(". ")
    if not name or _only_dots(name):
        raise ValueError(f"File name {original!r} contains no usable characters")
    name = _truncate_keeping_extension(name, max_bytes)
    name = unicodedata.normalize("NFC", name)
    if not name or _only_dots(name) or len(name.encode("utf-8")) > max_bytes:
        raise ValueError(f"File name {original!r} contains no usable characters")
    return name


#: S3's key limit; a file name longer than a whole key is refused rather than cut.
MAX_DISPLAY_NAME_BYTES = 1024


def clean_display_name(name: str, max_bytes: int = MAX_DISPLAY_NAME_BYTES) -> str:
    """The name to keep and show for an uploaded file: the browser's name, minus what is unsafe.

    Same cleaning as :func:`safe_object_name` (NFC, no controls / bidi overrides, no directory
    part, no surrounding spaces or trailing dots) but never shortened: a name longer than
    ``max_bytes`` of UTF-8 raises ``ValueError`` (the caller answers 400).
    """
    original = name
    name = unicodedata.normalize("NFC", name)
    name = _strip_unsafe_chars(name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = name.strip().rstrip(". ")
    if not name or _only_dots(name):
        raise ValueError(f"File name {original[:100]!r} contains no usable characters")
    if len(name.encode("utf-8")) > max_bytes:
        raise ValueError(
            f"File name is {len(name.encode('utf-8'))} bytes long; "
            f"names may be at most {max_bytes} bytes (S3's key limit)"
        )
    return name


# --------------------------------------------------------------------------- headers

# Characters kept verbatim in the quoted ASCII fallback. Excluded on purpose: '"' and
# '\' (quoted-string syntax), '%' (some browsers percent-decode filename=), '/' ':' '*'
# '?' '<' '>' '|' (not allowed in Windows file names) and all controls.
_FALLBACK_SAFE = frozenset(string.ascii_letters + string.digits + " !#$&'()+,-.;=@[]^_`{}~")


def _ascii_fallback(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    chars = (ch for ch in decomposed if unicodedata.category(ch) != "Mn")  # é -> e
    fallback = "".join(ch if ch in _FALLBACK_SAFE else "_" for ch in chars).strip()
    return fallback or FALLBACK_FILENAME


def content_disposition(filename: str, inline: bool = False) -> str:
    """Build a ``Content-Disposition`` header value for ``filename``.

    Produces ``attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded>``
    (``inline`` instead of ``attachment`` on request). Controls (CR, LF, NUL...) and bidi
    overrides are dropped and path separators become ``_`` before anything else, so the
    value can neither inject headers nor break out of its quoted string. The ASCII
    fallback transliterates accents (``é`` -> ``e``) and replaces everything else
    outside a conservative set with ``_``. An unusable name becomes ``download``.
    """
    disposition = "inline" if inline else "attachment"
    name = unicodedata.normalize("NFC", filename or "")
    name = _strip_unsafe_chars(name).replace("/", "_").replace("\\", "_").strip()
    if not name:
        name = FALLBACK_FILENAME
    fallback = _ascii_fallback(name)
    encoded = quote(name, safe="", encoding="utf-8")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
