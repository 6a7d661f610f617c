"""Forms: the file list's query (search, sort, page, owner) and the admin's file space form."""

from __future__ import annotations

from typing import Any

from django import forms

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


class FileSpaceAdminForm(forms.ModelForm):
    """Saving checks that both buckets are reachable with the chosen accounts."""

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
