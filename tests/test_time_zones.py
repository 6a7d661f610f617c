"""Each person sees dates in their own time zone, with its name (issue 8, item 22)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AwsAccount, Preferences
from storage.models import Bucket
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SCANNED = datetime(2026, 12, 1, 7, 50, tzinfo=UTC)


@pytest.fixture
def bucket(personas: Any) -> Bucket:
    account = AwsAccount.objects.create(tenant=personas.tenant_a, name="acct")
    return Bucket.objects.create(account=account, name="dated", last_scanned_at=SCANNED)


def test_dates_follow_the_persons_time_zone(personas: Any, bucket: Bucket) -> None:
    client = personas.client_for("alice")
    assert "2026-12-01 07:50 UTC" in client.get(reverse("storage:bucket_list")).content.decode()
    response = client.post(reverse("portal:set_time_zone"), {"time_zone": "Europe/Berlin"})
    assert response.status_code == 302
    assert Preferences.objects.get(user=personas.alice).time_zone == "Europe/Berlin"
    page = client.get(reverse("storage:bucket_list")).content.decode()
    assert "2026-12-01 08:50 CET" in page
    # another person is not affected
    other = personas.client_for("bob").get(reverse("storage:bucket_list")).content.decode()
    assert "2026-12-01 07:50 UTC" in other


def test_the_zone_is_kept_across_logins(personas: Any, bucket: Bucket) -> None:
    Preferences.objects.create(user=personas.alice, time_zone="America/New_York")
    client = Client()
    login = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert login.status_code == 302
    page = client.get(reverse("storage:bucket_list")).content.decode()
    assert "2026-12-01 02:50 EST" in page


def test_an_unknown_zone_is_refused_and_changes_nothing(personas: Any) -> None:
    client = personas.client_for("alice")
    response = client.post(
        reverse("portal:set_time_zone"), {"time_zone": "Mars/Olympus"}, follow=True
    )
    assert response.status_code == 200
    assert "Unknown time zone" in response.content.decode()
    assert not Preferences.objects.filter(user=personas.alice).exists()
