"""In a real browser: a platform superuser logs in with a password and a TOTP code.

OTP_REQUIRED_FOR_SUPERUSERS is turned on here (pytest's env turns it off elsewhere); the code is
computed in the test from the device's key, as an authenticator app would.
"""

from __future__ import annotations

from base64 import b32decode
from typing import Any

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def code_for(key: bytes) -> str:
    return f"{TOTP(key, step=30, t0=0, digits=6).token():06d}"


@pytest.fixture
def otp_required(settings: Any) -> None:
    settings.OTP_REQUIRED_FOR_SUPERUSERS = True


def test_superuser_logs_in_with_totp_code(
    live_server: Any, page: Any, personas: Any, otp_required: None
) -> None:
    device = TOTPDevice.objects.create(user=personas.root, name="phone", confirmed=True)

    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url  # not inside without logging in
    login(page, live_server, "root", PASSWORD)
    page.wait_for_url("**/account/2fa/verify/**")
    # Password alone: the admin stays closed.
    page.goto(f"{live_server.url}/admin/")
    assert "/account/2fa/verify/" in page.url

    page.fill("#id_token", "000000")
    page.click("#otp-verify button[type=submit]")
    assert "not valid" in page.locator(".error").inner_text()
    TOTPDevice.objects.filter(pk=device.pk).update(  # the wrong code throttled the next try
        throttling_failure_count=0, throttling_failure_timestamp=None
    )

    page.fill("#id_token", code_for(device.bin_key))
    page.click("#otp-verify button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert page.locator("#content h1").first.inner_text() == "Operations"
    assert AuditEvent.objects.filter(action="auth.otp.verified", actor_name="root").count() == 1


def test_superuser_without_device_is_made_to_enrol(
    live_server: Any, page: Any, personas: Any, otp_required: None
) -> None:
    login(page, live_server, "root", PASSWORD)
    page.wait_for_url("**/account/2fa/setup/**")
    assert page.locator("#totp-qr svg").count() == 1  # drawn server-side, inline
    box = page.locator("#totp-qr svg").bounding_box()
    assert box is not None and box["width"] >= 150 and box["height"] >= 150  # visible
    key_text = page.locator("#totp-key").inner_text()
    key = b32decode(key_text + "=" * (-len(key_text) % 8))

    page.fill("#id_token", code_for(key))
    page.click("#otp-setup button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10
    page.click("#continue")
    page.goto(f"{live_server.url}/admin/")
    assert page.locator("#content h1").first.inner_text() == "Operations"
    assert TOTPDevice.objects.get(user=personas.root).confirmed
