"""Admin pages of the object browser, by persona: settings for tenant admins, records read-only."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from audit.models import AuditEvent
from storage.browser.models import BrowserSettings, ObjectExpiry
from tests.browser_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/admin/browser/browsersettings/"


def test_tenant_admin_sets_browser_settings_audited(personas: Any) -> None:
    alice = personas.client_for("alice")
    answer = alice.post(
        f"{SETTINGS_URL}add/",
        {
            "tenant": personas.tenant_a.pk,
            "members_may_browse": "on",
            "max_share_seconds": "3600",
            "browser_can_reach_s3": "on",
        },
    )
    assert answer.status_code == 302, answer.content[:500]
    saved = BrowserSettings.objects.get()
    assert saved.members_may_browse and saved.max_share_seconds == 3600
    event = AuditEvent.objects.get(action="browser.settings.update")
    assert event.after["max_share_seconds"] == 3600
    too_long = alice.post(
        f"{SETTINGS_URL}{saved.pk}/change/",
        {"tenant": personas.tenant_a.pk, "max_share_seconds": str(8 * 86400)},
    )
    assert too_long.status_code == 200 and b"604800" in too_long.content


def test_settings_scoped_by_persona(personas: Any) -> None:
    saved = BrowserSettings.objects.create(tenant=personas.tenant_a)
    change = f"{SETTINGS_URL}{saved.pk}/change/"
    assert personas.client_for("alice").get(change).status_code == 200
    assert personas.client_for("root").get(change).status_code == 200
    assert personas.client_for("carol").get(change).status_code == 404
    oscar = personas.client_for("oscar")
    assert oscar.get(change).status_code == 200  # operators see, cannot change
    assert (
        oscar.post(change, {"tenant": personas.tenant_a.pk, "max_share_seconds": "60"}).status_code
        == 403
    )
    assert personas.client_for("bob").get(SETTINGS_URL).status_code in (302, 403)


def test_expiry_records_are_read_only(personas: Any, bucket_a: Any) -> None:
    row = ObjectExpiry.objects.create(
        bucket=bucket_a, key="k <b>", expected_etag='"e"', expires_on=date(2099, 1, 1)
    )
    alice = personas.client_for("alice")
    listing = alice.get("/admin/browser/objectexpiry/")
    assert listing.status_code == 200 and b"k &lt;b&gt;" in listing.content
    assert alice.get("/admin/browser/objectexpiry/add/").status_code == 403
    assert (
        personas.client_for("carol")
        .get(f"/admin/browser/objectexpiry/{row.pk}/change/")
        .status_code
        == 404
    )
