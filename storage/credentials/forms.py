"""The issue form, and the role rules for who may issue what.

Tenant admins: anything in the tenant. Operators: temporary credentials only. Members: their own
file-space prefix only (read-write or read-only; permanent ones must expire within the tenant's
limit), and only if the tenant allows it. Viewers: nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import AwsAccount, Role, Tenant

from .issuing import MAX_DURATION, MIN_DURATION, CredentialError, IssueRequest, parse_duration
from .models import CredentialSettings, Kind
from .policies import AccessLevel

DURATIONS = [("15m", "15 minutes"), ("1h", "1 hour"), ("4h", "4 hours"), ("12h", "12 hours")]


def member_scope(tenant: Tenant, user: Any) -> tuple[AwsAccount, str, str] | None:
    """(account, bucket, prefix) of the member's own file-space folder, or None."""
    from storage.files.models import FileSpace

    space = FileSpace.objects.for_tenant(tenant).select_related("account").first()
    if space is None:
        return None
    head = f"{space.prefix.strip('/')}/" if space.prefix.strip("/") else ""
    return space.account, space.bucket, f"{head}users/{int(user.pk)}/"


def may_issue(role: str | None, tenant: Tenant) -> bool:
    if role in (Role.ADMIN, Role.OPERATOR):
        return True
    return role == Role.MEMBER and CredentialSettings.for_tenant(tenant).members_may_issue


class IssueForm(forms.Form):
    account = forms.ModelChoiceField(queryset=AwsAccount.objects.none(), required=False)
    buckets = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One bucket per line (the tenant's own buckets only).",
    )
    prefixes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: one key prefix per line; every bucket is limited to them.",
    )
    access = forms.ChoiceField(choices=AccessLevel.choices, initial=AccessLevel.READ_WRITE)
    custom_policy = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="For a custom policy: a JSON policy; $!BUCKET_NAME!$ becomes every bucket.",
    )
    statements = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional extra statements: a JSON statement or list of statements.",
    )
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.TEMPORARY)
    duration = forms.ChoiceField(choices=DURATIONS, initial="1h", required=False)
    role_arn = forms.CharField(
        required=False,
        max_length=2048,
        help_text="Temporary only: a role of this account to assume (empty: the portal's role).",
    )
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Permanent only: the keys are deactivated and deleted on this date.",
    )
    username = forms.CharField(required=False, max_length=64)
    purpose = forms.CharField(required=False, max_length=300)
    no_boundary = forms.BooleanField(
        required=False, help_text="Tenant admins only: no permissions boundary."
    )
    planned_name = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, tenant: Tenant, user: Any, role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant, self.user, self.role = tenant, user, role
        account = cast(forms.ModelChoiceField, self.fields["account"])
        account.queryset = AwsAccount.objects.for_tenant(tenant).order_by("name")
        if role == Role.MEMBER:
            cast(forms.ChoiceField, self.fields["access"]).choices = [
                (AccessLevel.READ_WRITE, "Read and write"),
                (AccessLevel.READ_ONLY, "Read only"),
            ]
            for name in ("account", "buckets", "prefixes", "custom_policy", "statements"):
                del self.fields[name]
            for name in ("role_arn", "username", "no_boundary"):
                del self.fields[name]
        if role == Role.OPERATOR:
            kind = cast(forms.ChoiceField, self.fields["kind"])
            kind.choices = [(Kind.TEMPORARY, Kind.TEMPORARY.label)]
            del self.fields["no_boundary"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind = data.get("kind")
        if kind == Kind.TEMPORARY:
            try:
                data["duration_seconds"] = parse_duration(data.get("duration") or "1h")
            except CredentialError as exc:
                self.add_error("duration", str(exc))
        if self.role == Role.MEMBER:
            scope = member_scope(self.tenant, self.user)
            if scope is None:
                raise forms.ValidationError("File storage is not set up for this tenant yet.")
            if kind == Kind.PERMANENT:
                limit = CredentialSettings.for_tenant(self.tenant).member_max_lifetime_days
                latest = timezone.localdate() + timedelta(days=limit)
                expires = data.get("expires_on")
                if expires is None or expires > latest:
                    self.add_error(
                        "expires_on",
                        f"Members' permanent credentials must expire within {limit} days "
                        f"(on or before {latest:%Y-%m-%d}).",
                    )
        elif data.get("account") is None:
            self.add_error("account", "Choose the AWS account.")
        if (
            data.get("access") == AccessLevel.CUSTOM
            and not (data.get("custom_policy") or "").strip()
        ):
            self.add_error("custom_policy", "A custom policy needs a policy document.")
        return data

    def to_request(self) -> IssueRequest:
        data = self.cleaned_data
        if self.role == Role.VIEWER:
            raise PermissionDenied("Viewers cannot issue credentials.")
        if self.role == Role.MEMBER:
            scope = member_scope(self.tenant, self.user)
            assert scope is not None  # checked in clean()
            account, bucket, prefix = scope
            buckets, prefixes, custom, statements = [bucket], [prefix], "", []
        else:
            account = data["account"]
            buckets = _lines(data.get("buckets", ""))
            prefixes = _lines(data.get("prefixes", ""))
            custom = data.get("custom_policy", "")
            statements = [data["statements"]] if (data.get("statements") or "").strip() else []
        if self.role == Role.OPERATOR and data["kind"] != Kind.TEMPORARY:
            raise PermissionDenied("Operators may issue temporary credentials only.")
        return IssueRequest(
            tenant=self.tenant,
            account=account,
            buckets=buckets,
            prefixes=prefixes,
            access=data["access"],
            custom_policy=custom,
            statements=statements,
            kind=data["kind"],
            duration_seconds=int(data.get("duration_seconds") or 3600),
            expires_on=data.get("expires_on") if data["kind"] == Kind.PERMANENT else None,
            username=data.get("username", ""),
            role_arn=data.get("role_arn", ""),
            purpose=data.get("purpose", ""),
            no_boundary=bool(data.get("no_boundary")) and self.role == Role.ADMIN,
            actor=self.user,
            planned_name=data.get("planned_name", ""),
        )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class RotateForm(forms.Form):
    grace_days = forms.IntegerField(
        min_value=0,
        max_value=90,
        initial=lambda: settings.CREDENTIALS_DEFAULT_GRACE_DAYS,
        help_text="Days the old key stays active (0: delete it now).",
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(max_length=300)


__all__ = ["MAX_DURATION", "MIN_DURATION", "IssueForm", "RevokeForm", "RotateForm", "may_issue"]
