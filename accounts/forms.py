"""Forms for AWS accounts, memberships, invitations and two-factor codes.

The AWS secret is write-only everywhere."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator

from accounts import trust
from accounts.models import AuthMethod, AwsAccount, Invitation, Membership, Role


class AwsAccountForm(forms.ModelForm):
    secret_access_key = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: never shown again. Leave empty to keep the stored secret.",
    )

    class Meta:
        model = AwsAccount
        fields = [
            "tenant",
            "name",
            "auth_method",
            "access_key_id",
            "secret_access_key",
            "role_arn",
            "role_session_name",
            "default_region",
            "endpoint_url",
        ]

    # Who fills the form in (set by the admin); decides whether platform credentials are offered.
    actor: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Never send the stored secret back to the browser.
        self.initial.pop("secret_access_key", None)
        method = self.fields.get("auth_method")
        if method is not None and not trust.may_grant_platform_credentials(self.actor, None):
            # Not offered; a request for it still validates here and is then refused with a 403
            # by the service layer (accounts/trust.py), which knows the tenant.
            method.widget.choices = [c for c in method.widget.choices if c[0] != AuthMethod.AMBIENT]
            method.help_text = (
                "Ambient (the platform's own credentials) is for platform administrators. "
                "Assume-role needs an access key of your own as its source."
            )

    def clean_secret_access_key(self) -> str:
        new = self.cleaned_data.get("secret_access_key", "")
        if not new and self.instance.pk:
            return self.instance.secret_access_key  # keep the stored one
        return new

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        method = data.get("auth_method")
        key_id, secret = data.get("access_key_id"), data.get("secret_access_key")
        if method == AuthMethod.ACCESS_KEY and not (key_id and secret):
            raise forms.ValidationError("An access-key account needs a key id and a secret key.")
        if method == AuthMethod.ASSUME_ROLE and not data.get("role_arn"):
            self.add_error("role_arn", "An assume-role account needs the role ARN.")
        if bool(key_id) != bool(secret) and method != AuthMethod.AMBIENT:
            raise forms.ValidationError("Give both the access key id and its secret, or neither.")
        if method == AuthMethod.AMBIENT:
            data["access_key_id"], data["secret_access_key"], data["role_arn"] = "", "", ""
        return data


class MembershipForm(forms.ModelForm):
    """Pick the person by username: a tenant admin never sees the platform's user list."""

    username = forms.CharField(max_length=150)

    class Meta:
        model = Membership
        fields = ["tenant", "username", "role"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["username"].initial = self.instance.user.get_username()
            self.fields["username"].disabled = True

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if self.instance.pk:
            return self.instance.user.get_username()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(
                "No user with that username. Create it first (manage.py add_member "
                "--create-user) or ask a platform administrator."
            )
        self.instance.user = user
        return username

    def validate_unique(self) -> None:
        super().validate_unique()
        tenant = self.cleaned_data.get("tenant")
        if (
            not self.instance.pk
            and tenant
            and hasattr(self.instance, "user")
            and Membership.objects.filter(tenant=tenant, user=self.instance.user).exists()
        ):
            self.add_error("username", "This user is already a member of that tenant.")


class InvitationForm(forms.Form):
    """Invite by e-mail. No lookup of the address: the answer never says whether it exists."""

    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class InvitationAdminForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["tenant", "email", "role"]


class SignUpForm(forms.Form):
    """A new person creates their account from an invitation (the e-mail comes from it)."""

    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_username(self) -> str:
        from accounts.invitations import username_taken

        username = self.cleaned_data["username"]
        if username_taken(username):
            raise forms.ValidationError(
                "That username is taken. If it is yours, log in instead and accept there."
            )
        return username

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            probe = get_user_model()(username=data.get("username", ""), email=self.email)
            try:
                password_validation.validate_password(first, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class OTPTokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
    )

    def clean_token(self) -> str:
        return "".join(self.cleaned_data["token"].split())
