"""Forms: the file list's query (search, sort, page, owner) and the admin's file space form."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.html import escape

from .models import FileSpace
from .services import check_file_space

# Public sort names (the JSON contract) -> model fields.
SORTS: dict[str, str] = {
    "name": "original_name",
    "size": "size",
    "uploaded": "uploaded_at",
    "expires": "expires_on",
    "owner": "owner__username",
    "backup": "backup_state",
}
DEFAULT_SORT = "-uploaded"
MAX_PER_PAGE = 100


class ListQueryForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, strip=True)
    sort = forms.ChoiceField(
        required=False,
        choices=[(s, s) for name in SORTS for s in (name, f"-{name}")],
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=10**9)
    per_page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PER_PAGE)
    owner = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def ordering(self) -> list[str]:
        sort = self.cleaned_data.get("sort") or DEFAULT_SORT
        field = SORTS[sort.lstrip("-")]
        desc = sort.startswith("-")
        return [f"-{field}" if desc else field, "-id" if desc else "id"]

    def error_text(self) -> str:
        parts = []
        for field, errors in self.errors.items():
            parts.append(f"{field}: {' '.join(str(e) for e in errors)}")
        return "Invalid list parameters: " + "; ".join(parts)


_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str) -> int:
    """'5 GB', '5G', '5GiB', '1.5 GB', '500 MB', '5368709120' -> bytes (1 GB = 1024**3, as the
    portal shows sizes). Raises ValueError for anything else."""
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(text)
    try:
        number = Decimal(match.group(1))
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    return int(number * _SIZE_UNITS[match.group(2).upper()])


def format_size(size: int) -> str:
    """The largest unit that shows `size` exactly: 5368709120 -> '5 GB'; else bytes."""
    for unit in ("T", "G", "M", "K"):
        factor = _SIZE_UNITS[unit]
        if size and size % factor == 0:
            return f"{size // factor} {unit}B"
    return str(size)


class SizeField(forms.Field):
    """A size in bytes, typed and shown as "5 GB" (K, M, G, T; binary units; bytes also)."""

    default_error_messages = {
        "invalid": "Give a size like 5 GB, 500 MB or 1073741824 (bytes).",
        "min_value": "The size must be at least 1 byte.",
    }

    def to_python(self, value: Any) -> int | None:
        if value in (None, ""):
            return None
        if isinstance(value, int):
            return value
        try:
            size = parse_size(str(value))
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if size < 1:
            raise forms.ValidationError(self.error_messages["min_value"], code="min_value")
        return size

    def prepare_value(self, value: Any) -> Any:
        return format_size(value) if isinstance(value, int) else value


class FileSpaceAdminForm(forms.ModelForm):
    """Saving checks that both buckets are reachable with the chosen accounts."""

    max_file_size = SizeField(
        label="Max file size",
        help_text="Largest file a person may upload, e.g. 5 GB, 500 MB (1 GB = 1024 MB).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The admin shows help texts as HTML: "<prefix>" would vanish as an unknown tag.
        for field in self.fields.values():
            field.help_text = escape(field.help_text)

    class Meta:
        model = FileSpace
        fields = [
            "tenant",
            "account",
            "bucket",
            "prefix",
            "region",
            "backup_account",
            "backup_bucket",
            "backup_region",
            "max_file_size",
            "viewers_may_download",
            "browser_can_reach_s3",
            "delete_retention_days",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        # The model's clean() ran in _post_clean after this; run the bucket check only on an
        # otherwise valid space, so its messages are about reachability alone.
        space = self.instance
        for name in self.Meta.fields:
            if name in cleaned:
                setattr(space, name, cleaned[name])
        try:
            space.clean()
        except forms.ValidationError:
            return cleaned  # reported by _post_clean
        problems = check_file_space(space)
        if problems:
            raise forms.ValidationError(problems)
        return cleaned
