"""Login protection: lockout (django-axes) and TOTP two-factor authentication (django-otp).

Lockout is per user AND address (AXES_LOCKOUT_PARAMETERS default); failures and lockouts are
audited. 2FA is required of superusers when OTP_REQUIRED_FOR_SUPERUSERS is on (pytest's env turns
it off for every other test module; these tests turn it on), and of the admins and operators of a
tenant with require_2fa.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def totp_code(device: TOTPDevice) -> str:
    """The code an authenticator app shows now, computed from the device's key."""
    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    totp.drift = device.drift
    return f"{totp.token():0{device.digits}d}"


def password_login(username: str, password: str = PASSWORD, ip: str = "198.51.100.7") -> Any:
    client = Client(REMOTE_ADDR=ip)
    response = client.post(reverse("login"), {"username": username, "password": password})
    return client, response


# --- lockout ---------------------------------------------------------------------------------
def test_lockout_after_limit_then_correct_password_refused(personas: Any, settings: Any) -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    for attempt in range(1, 5):
        _, response = password_login("alice", f"wrong-{attempt}")
        assert response.status_code == 200, attempt  # the login form again, with its error
    _, fifth = password_login("alice", "wrong-5")
    assert fifth.status_code == 429
    assert "Too many failed logins" in fifth.content.decode()
    client, right = password_login("alice", PASSWORD)
    assert right.status_code == 429  # locked: the right password does not help now
    assert client.get(reverse("portal:dashboard")).status_code == 302  # not logged in
    assert AuditEvent.objects.filter(action="auth.login_failed").count() >= 5
    # One lockout event for the failure that locked, one for the refused attempt after it.
    assert AuditEvent.objects.filter(action="auth.lockout").count() == 2
    lockout = AuditEvent.objects.filter(action="auth.lockout").first()
    assert lockout.target_label == "alice" and lockout.after["ip_address"] == "198.51.100.7"
    assert "wrong" not in str(lockout.after)


def test_lockout_is_per_user_and_address(personas: Any) -> None:
    for attempt in range(5):
        password_login("alice", f"wrong-{attempt}", ip="198.51.100.7")
    _, elsewhere = password_login("alice", PASSWORD, ip="203.0.113.9")
    assert elsewhere.status_code == 302  # alice from another address is not locked out
    _, other_user = password_login("bob", PASSWORD, ip="198.51.100.7")
    assert other_user.status_code == 302  # nor is another user from that address


def test_lockout_ends_after_cool_off(personas: Any, settings: Any) -> None:
    for attempt in range(5):
        password_login("alice", f"wrong-{attempt}")
    assert password_login("alice")[1].status_code == 429
    past = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert password_login("alice")[1].status_code == 302


def test_superuser_unlocks_in_admin_tenant_admin_cannot(personas: Any) -> None:
    for attempt in range(5):
        password_login("bob", f"wrong-{attempt}")
    assert password_login("bob")[1].status_code == 429
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert personas.client_for("alice").get(changelist).status_code == 403
    attempt = AccessAttempt.objects.get(username="bob")
    alice_delete = personas.client_for("alice").post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert alice_delete.status_code == 403
    root = personas.client_for("root")
    assert root.get(changelist).status_code == 200
    root.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert not AccessAttempt.objects.filter(username="bob").exists()
    assert password_login("bob")[1].status_code == 302


def test_success_resets_the_failure_count(personas: Any) -> None:
    for attempt in range(4):
        password_login("vera", f"wrong-{attempt}")
    assert password_login("vera")[1].status_code == 302
    for attempt in range(4):
        password_login("vera", f"again-{attempt}")
    assert password_login("vera")[1].status_code == 302


# --- two-factor: superusers ------------------------------------------------------------------
@pytest.fixture
def otp_on(settings: Any) -> None:
    settings.OTP_REQUIRED_FOR_SUPERUSERS = True


def confirmed_device(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)


def test_superuser_without_device_is_sent_to_enrolment_everywhere(
    personas: Any, otp_on: None
) -> None:
    client = personas.client_for("root")
    for url in [reverse("portal:dashboard"), reverse("admin:index"), "/admin/auth/user/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("portal:otp_setup")), url
    json = client.get(reverse("files:list"), HTTP_ACCEPT="application/json")
    assert json.status_code == 403 and "Two-factor" in json.json()["error"]


def test_enrolment_with_qr_and_key_then_admin_reachable(personas: Any, otp_on: None) -> None:
    client = personas.client_for("root")
    page = client.get(reverse("portal:otp_setup") + "?next=/admin/")
    body = page.content.decode()
    assert page.status_code == 200
    # Server-side SVG, inline, drawn as one path (namespaced "svg:rect" would not show in HTML).
    assert "<svg" in body and "<path" in body and "svg:rect" not in body and "<?xml" not in body
    assert "cdn" not in body.lower() and "<img" not in body
    key = re.search(r'<code id="totp-key">([A-Z2-7]+)</code>', body).group(1)
    device = TOTPDevice.objects.get(user=personas.root, confirmed=False)
    from base64 import b32encode

    assert b32encode(device.bin_key).decode().rstrip("=") == key
    bad = client.post(reverse("portal:otp_setup"), {"token": "000000", "next": "/admin/"})
    assert bad.status_code == 400
    TOTPDevice.objects.filter(pk=device.pk).update(  # a failure throttles the next try
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    device.refresh_from_db()
    done = client.post(reverse("portal:otp_setup"), {"token": totp_code(device), "next": "/admin/"})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(reverse("admin:index")).status_code == 200
    assert AuditEvent.objects.filter(action="auth.otp.enrolled", actor_name="root").exists()


def test_superuser_with_device_needs_code_after_password(personas: Any, otp_on: None) -> None:
    device = confirmed_device(personas.root)
    client, response = password_login("root")
    assert response.status_code == 302
    admin = client.get(reverse("admin:index"))
    assert admin.status_code == 302 and admin["Location"].startswith(reverse("portal:otp_verify"))
    # The password alone never enrols a second device (that would bypass the first).
    setup = client.get(reverse("portal:otp_setup"))
    assert setup["Location"].startswith(reverse("portal:otp_verify"))
    wrong = client.post(reverse("portal:otp_verify"), {"token": "123456", "next": "/admin/"})
    assert wrong.status_code == 400
    assert AuditEvent.objects.filter(action="auth.otp.failed").count() == 1
    device.refresh_from_db()
    device.throttling_failure_count = 0  # the failure above throttles: let the next one in
    device.throttling_failure_timestamp = None
    device.save()
    right = client.post(
        reverse("portal:otp_verify"), {"token": totp_code(device), "next": "/admin/"}
    )
    assert right.status_code == 302 and right["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200
    assert AuditEvent.objects.filter(action="auth.otp.verified").count() == 1


def test_verify_refuses_an_offsite_next(personas: Any, otp_on: None) -> None:
    device = confirmed_device(personas.root)
    client, _ = password_login("root")
    right = client.post(
        reverse("portal:otp_verify"), {"token": totp_code(device), "next": "https://evil.test/"}
    )
    assert right["Location"] == reverse("portal:dashboard")


def test_recovery_code_works_once(personas: Any, otp_on: None) -> None:
    from accounts.twofactor import new_recovery_codes

    confirmed_device(personas.root)
    code = new_recovery_codes(personas.root)[0]
    client, _ = password_login("root")
    assert client.post(reverse("portal:otp_verify"), {"token": code}).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    assert StaticToken.objects.filter(device__user=personas.root).count() == 9
    again, _ = password_login("root")
    assert again.post(reverse("portal:otp_verify"), {"token": code}).status_code == 400
    assert AuditEvent.objects.filter(action="auth.otp.recovery_code_used").count() == 1


def test_setting_off_does_not_force_superusers(personas: Any, settings: Any) -> None:
    settings.OTP_REQUIRED_FOR_SUPERUSERS = False
    assert personas.client_for("root").get(reverse("admin:index")).status_code == 200


def test_setting_defaults_on_outside_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_settings_security import GOOD, run_django

    monkeypatch.delenv("OTP_REQUIRED_FOR_SUPERUSERS")  # pytest's env turns it off
    show = (
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.OTP_REQUIRED_FOR_SUPERUSERS)",
    )
    production = run_django({**GOOD, "DEBUG": "false"}, *show)
    debug = run_django({"DEBUG": "true"}, *show)
    assert production.stdout.strip().splitlines()[-1] == "True", production.stderr
    assert debug.stdout.strip().splitlines()[-1] == "False", debug.stderr


# --- two-factor: per tenant ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("persona", "forced"),
    [("alice", True), ("oscar", True), ("bob", False), ("vera", False), ("carol", False)],
)
def test_tenant_switch_requires_2fa_of_its_admins_and_operators(
    personas: Any, persona: str, forced: bool
) -> None:
    personas.tenant_a.require_2fa = True
    personas.tenant_a.save()
    response = personas.client_for(persona).get(reverse("portal:dashboard"))
    if forced:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("portal:otp_setup"))
    else:
        assert response.status_code == 200


def test_tenant_admin_turns_the_switch_on_in_admin(personas: Any) -> None:
    client = personas.client_for("alice")
    url = reverse("admin:accounts_tenant_change", args=[personas.tenant_a.pk])
    response = client.post(url, {"name": "Tenant A", "require_2fa": "on"})
    assert response.status_code == 302
    personas.tenant_a.refresh_from_db()
    assert personas.tenant_a.require_2fa and personas.tenant_a.slug == "tenant-a"
    event = AuditEvent.objects.get(action="accounts.tenant.update")
    assert event.before["require_2fa"] is False and event.after["require_2fa"] is True
    # Now alice herself must enrol before going on.
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("portal:otp_setup"))


# --- security page ---------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["alice", "oscar", "bob", "vera", "carol", "root", "stranger"])
def test_security_page_for_every_logged_in_persona(personas: Any, persona: str) -> None:
    response = personas.client_for(persona).get(reverse("portal:account_security"))
    assert response.status_code == 200
    assert "Two-factor authentication" in response.content.decode()


def test_security_page_needs_login(client: Any) -> None:
    response = client.get(reverse("portal:account_security"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def _verified_client(user: Any) -> tuple[Client, TOTPDevice]:
    device = confirmed_device(user)
    client = Client()
    client.force_login(user)
    assert client.post(reverse("portal:otp_verify"), {"token": totp_code(device)}).status_code
    return client, device


def test_regenerate_codes_and_remove_when_not_required(personas: Any) -> None:
    client, _ = _verified_client(personas.bob)
    page = client.post(reverse("portal:otp_recovery_codes"))
    assert len(re.findall(r"<li><code>", page.content.decode())) == 10
    assert AuditEvent.objects.filter(action="auth.otp.recovery_codes_regenerated").count() == 1
    client.post(reverse("portal:otp_remove"))
    assert not TOTPDevice.objects.filter(user=personas.bob).exists()
    assert AuditEvent.objects.filter(action="auth.otp.removed").count() == 1


def test_remove_refused_when_required(personas: Any) -> None:
    personas.tenant_a.require_2fa = True
    personas.tenant_a.save()
    client, _ = _verified_client(personas.alice)
    response = client.post(reverse("portal:otp_remove"), follow=True)
    assert "it stays on" in response.content.decode()
    assert TOTPDevice.objects.filter(user=personas.alice, confirmed=True).exists()


def test_unverified_user_with_device_cannot_reach_security_actions(personas: Any) -> None:
    confirmed_device(personas.bob)
    client = personas.client_for("bob")  # password only (force_login), no code yet
    response = client.post(reverse("portal:otp_remove"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:otp_verify"))
    assert TOTPDevice.objects.filter(user=personas.bob).exists()
