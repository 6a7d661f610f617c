"""Issue 8 page items checked without a browser (17, 20, 21, 22, 14) and issue 13's
templates bullet (head/scripts blocks, one pager, aria-sort, switcher, messages)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

import audit
from storage.remediation.base import FixPlan
from storage.remediation.outcome_text import applied_message
from tests.files_fixtures import *  # noqa: F403
from tests.files_fixtures import BACKUP_A, BUCKET_A, stored_file

ROOT = Path(__file__).resolve().parent.parent


# --- 17: file space admin ----------------------------------------------------------------


@pytest.mark.django_db
def test_file_space_admin_shows_placeholders_and_sizes_in_words(
    personas: Any, space_a: Any
) -> None:
    client = personas.client_for("alice")
    url = reverse("admin:files_filespace_change", args=[space_a.pk])
    page = client.get(url).content.decode()
    # "<prefix>" was swallowed as an unknown HTML tag ("/users//...").
    assert "files are stored under &lt;prefix&gt;/users/&lt;user id&gt;/..." in page
    assert 'name="max_file_size" value="20 MB"' in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "stored"),
    [("5 GB", 5 * 1024**3), ("500MB", 500 * 1024**2), ("1.5 GB", 3 * 1024**3 // 2), ("4096", 4096)],
)
def test_file_space_admin_accepts_sizes_in_words(
    personas: Any, space_a: Any, typed: str, stored: int
) -> None:
    from storage.files.forms import FileSpaceAdminForm

    form = FileSpaceAdminForm(instance=space_a)
    data = {name: form[name].value() for name in form.fields}
    data.update({"max_file_size": typed, "viewers_may_download": "", "browser_can_reach_s3": "on"})
    bound = FileSpaceAdminForm(data, instance=space_a)
    assert bound.is_valid(), bound.errors
    assert bound.cleaned_data["max_file_size"] == stored


@pytest.mark.django_db
def test_a_size_that_is_not_one_says_how_to_write_it(personas: Any, space_a: Any) -> None:
    from storage.files.forms import FileSpaceAdminForm

    bound = FileSpaceAdminForm({"max_file_size": "lots"}, instance=space_a)
    assert not bound.is_valid()
    assert bound.errors["max_file_size"] == ["Give a size like 5 GB, 500 MB or 1073741824 (bytes)."]


# --- 20: JSON, never Python repr ----------------------------------------------------------


@pytest.mark.django_db
def test_audit_csv_before_and_after_are_json(personas: Any) -> None:
    audit.record(
        personas.alice,
        personas.tenant_a,
        "test.change",
        personas.tenant_a,
        before={"enabled": False, "name": None},
        after={"enabled": True, "name": "x"},
    )
    response = personas.client_for("alice").get(reverse("admin:audit_auditevent_export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    row = next(r for r in rows if r["action"] == "test.change")
    assert json.loads(row["before"]) == {"enabled": False, "name": None}
    assert json.loads(row["after"]) == {"enabled": True, "name": "x"}
    assert "True" not in row["after"] and "'" not in row["after"]


@pytest.mark.django_db
def test_snapshot_raw_answers_are_pretty_json(personas: Any, account_a: Any) -> None:
    from storage.models import Bucket, BucketSnapshot

    bucket = Bucket.objects.create(account=account_a, name="raw-bucket")
    data = {"acl": {"Grants": [], "ok": True, "missing": None}}
    snapshot = BucketSnapshot.objects.create(bucket=bucket, data=data, checks={})
    page = (
        personas.client_for("vera")
        .get(reverse("storage:snapshot_detail", args=[bucket.pk, snapshot.pk]))
        .content.decode()
    )
    shown = re.search(r'<pre class="doc" id="snapshot-data">(.*?)</pre>', page, re.S)
    assert shown is not None
    text = shown.group(1).replace("&quot;", '"')
    assert json.loads(text) == data
    assert '\n  "acl": {' in text  # indented
    assert "True" not in text and "None" not in text


# --- 21: a refused expiry stays on the list ---------------------------------------------


@pytest.mark.django_db
def test_a_past_expiry_shows_the_error_beside_the_field(
    personas: Any, space_a: Any, enqueued: list[int]
) -> None:
    stored = stored_file(space_a, personas.bob, "plan.txt", b"1")
    response = personas.client_for("bob").post(
        reverse("files:expiry", args=[stored.pk]), {"expires_on": "2000-01-01"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Request refused" not in page
    assert 'id="file-table"' in page  # the list itself, not a bare error page
    assert f'aria-describedby="expiry-error-{stored.pk}"' in page
    assert (
        f'id="expiry-error-{stored.pk}">expires_on 2000-01-01 is in the past; choose today or '
        "a later date.</p>"
    ) in page
    stored.refresh_from_db()
    assert stored.expires_on is None


# --- 22: one date format --------------------------------------------------------------------


@pytest.mark.django_db
def test_one_date_format_with_the_zone_named(personas: Any, account_a: Any) -> None:
    from accounts.models import AwsAccount

    moment = datetime(2026, 12, 1, 7, 50, 59, tzinfo=UTC)
    AwsAccount.objects.filter(pk=account_a.pk).update(last_verified_at=moment)
    page = personas.client_for("alice").get("/").content.decode()
    assert "2026-12-01 07:50 UTC" in page
    assert "Dec. 1, 2026" not in page and "a.m." not in page
    admin_page = personas.client_for("alice").get(reverse("admin:accounts_awsaccount_changelist"))
    assert "2026-12-01 07:50 UTC" in admin_page.content.decode()


def test_no_locale_date_picker_and_no_hand_written_formats() -> None:
    templates = list((ROOT / "templates").rglob("*.html"))
    for path in templates:
        text = path.read_text()
        assert 'type="date"' not in text, path
        assert '|date:"Y-m-d H:i' not in text, path  # DATETIME_FORMAT names the zone


# --- 14: what a fix changed, in one sentence -----------------------------------------------


def test_a_fix_that_did_not_touch_exposure_does_not_talk_about_it() -> None:
    plan = FixPlan("enable_versioning", "demo-private", "Enable versioning (now never enabled).")
    assert applied_message(plan, False, False) == "Versioning is now enabled on demo-private."
    plan = FixPlan("block_public_access", "b", "Turn on ...")
    assert applied_message(plan, True, False) == (
        "All four Block Public Access settings are now on for b, and the rescan finds it "
        "not public now (it was public)."
    )


# --- issue 13, templates ------------------------------------------------------------------


def test_pages_link_css_and_scripts_only_in_their_blocks() -> None:
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if '{% extends "base.html" %}' not in text:
            continue
        content = text.split("{% block content %}", 1)[-1]
        assert "<link " not in content and "<script" not in content, path


def test_one_pager_include() -> None:
    hand_made = [
        p
        for p in (ROOT / "templates").rglob("*.html")
        if 'class="pager"' in p.read_text() and p.name != "_pager.html"
    ]
    assert hand_made == []


@pytest.mark.django_db
def test_header_switcher_needs_no_script_and_messages_are_status(
    personas: Any, space_a: Any
) -> None:
    from accounts.models import Membership, Role

    Membership.objects.create(user=personas.alice, tenant=personas.tenant_b, role=Role.VIEWER)
    client = personas.client_for("alice")
    response = client.post(reverse("portal:switch_tenant"), {"tenant": "tenant-b"}, follow=True)
    page = response.content.decode()
    assert 'onchange="this.form.submit()"' not in page
    assert '<button type="submit" id="tenant-switch">Switch</button>' in page
    assert '<ul class="messages" role="status"' in page
    files = client.get(reverse("files:list"))
    assert files.status_code == 200
    admin = client.get(reverse("admin:index")).content.decode()
    assert 'class="topbar"' in admin and 'id="tenant-switch"' in admin
    assert 'name="next" value="/admin/"' in admin
    back = client.post(reverse("portal:switch_tenant"), {"tenant": "tenant-a", "next": "/admin/"})
    assert back["Location"] == "/admin/"
    away = client.post(
        reverse("portal:switch_tenant"), {"tenant": "tenant-a", "next": "https://evil.example/"}
    )
    assert away["Location"] == reverse("portal:dashboard")


@pytest.mark.django_db
def test_sortable_file_columns_say_their_sort(
    personas: Any, space_a: Any, enqueued: list[int]
) -> None:
    stored_file(space_a, personas.bob, "sorted.txt", b"1")
    page = personas.client_for("bob").get(reverse("files:list"), {"sort": "name"}).content
    assert b'<th aria-sort="ascending"><a href="?sort=-name">Name</a>' in page
    assert b'<th aria-sort="none"><a href="?sort=size">Size</a>' in page


__all__ = ["BACKUP_A", "BUCKET_A"]
