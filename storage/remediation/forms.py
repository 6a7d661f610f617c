"""Parameter forms of the fixes (portal pages and admin actions share them)."""

from __future__ import annotations

from typing import Any

from django import forms

from storage.models import Bucket


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class FixParamsForm(forms.Form):
    """A fix without parameters."""

    def __init__(self, *args: Any, bucket: Bucket | None = None, **kwargs: Any) -> None:
        self.bucket = bucket
        super().__init__(*args, **kwargs)

    def params(self) -> dict[str, Any]:
        return {}


class DefaultEncryptionForm(FixParamsForm):
    kms_key_id = forms.CharField(
        label="KMS key (id, alias or ARN)",
        required=False,
        max_length=2048,
        help_text="Leave empty for SSE-S3 (AES256).",
    )
    bucket_key = forms.BooleanField(
        label="Use an S3 Bucket Key (fewer KMS requests, lower cost)",
        required=False,
        initial=True,
    )

    def params(self) -> dict[str, Any]:
        key = self.cleaned_data["kms_key_id"].strip()
        return {"kms_key_id": key, "bucket_key": self.cleaned_data["bucket_key"] if key else None}


class AccessLoggingForm(FixParamsForm):
    target_bucket = forms.CharField(label="Log bucket", max_length=63)
    target_prefix = forms.CharField(
        label="Prefix",
        required=False,
        initial="{bucket}/",
        max_length=900,
        help_text="{bucket} is replaced by the bucket's name.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.bucket is not None:
            names = (
                Bucket.objects.filter(account=self.bucket.account, gone_at__isnull=True)
                .exclude(pk=self.bucket.pk)
                .values_list("name", flat=True)[:200]
            )
            self.fields["target_bucket"].widget.attrs["list"] = "log-buckets"
            self.log_bucket_choices = list(names)

    def params(self) -> dict[str, Any]:
        return {
            "target_bucket": self.cleaned_data["target_bucket"],
            "target_prefix": self.cleaned_data["target_prefix"],
        }


class ResetObjectAclsForm(FixParamsForm):
    only = forms.CharField(
        label="Only keys matching (one glob per line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. reports/*.pdf; empty: every object.",
    )
    exclude = forms.CharField(
        label="Except keys matching (one glob per line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def params(self) -> dict[str, Any]:
        return {
            "only": _lines(self.cleaned_data["only"]),
            "exclude": _lines(self.cleaned_data["exclude"]),
        }


def statement_value(statement: dict[str, Any]) -> str:
    """How a public statement is named to the fix: its Sid, else "#N" (1-based)."""
    return statement.get("sid") or f"#{int(statement.get('index', 0)) + 1}"


class RemovePublicStatementForm(FixParamsForm):
    statement = forms.ChoiceField(label="Public statement to remove")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        statements = (self.bucket.verdict or {}).get("public_statements", []) if self.bucket else []
        field = self.fields["statement"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (statement_value(s), s.get("reason") or s.get("label") or statement_value(s))
            for s in statements
        ]

    def params(self) -> dict[str, Any]:
        return {"statement": self.cleaned_data["statement"]}


class PublicReadForm(FixParamsForm):
    confirm = forms.CharField(
        label="Type the bucket's name to make every object public", max_length=63
    )

    def params(self) -> dict[str, Any]:
        return {"confirm": self.cleaned_data.get("confirm", "")}


FIX_FORMS: dict[str, type[FixParamsForm]] = {
    "default_encryption": DefaultEncryptionForm,
    "access_logging": AccessLoggingForm,
    "reset_object_acls": ResetObjectAclsForm,
    "remove_public_statement": RemovePublicStatementForm,
    "public_read": PublicReadForm,
}


def form_class(action: str) -> type[FixParamsForm]:
    return FIX_FORMS.get(action, FixParamsForm)


def needs_input(action: str) -> bool:
    """Fixes whose form must be filled in before a dry run makes sense."""
    return action in ("access_logging", "public_read")


def default_data(form_cls: type[FixParamsForm], bucket: Bucket | None) -> dict[str, Any]:
    """A fix form's initial values as submitted data, so a dry run can be shown at once (a
    choice with a single option is taken)."""
    form = form_cls(bucket=bucket)
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        initial = form.get_initial_for_field(field, name)
        if isinstance(initial, bool):
            if initial:
                data[name] = "on"
        elif initial is not None:
            data[name] = initial
        choices = list(getattr(field, "choices", []) or [])
        if choices and name not in data and len(choices) == 1:
            data[name] = choices[0][0]
    return data
