"""Cost pages, exports and admin: scoping by persona, constant query counts, the chart."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from storage.cost import rollup
from storage.cost.models import BucketUsage, CostRollup, Source, TenantPricing
from storage.cost.waste import lifecycle_editor_url
from storage.models import Bucket

from .cost_helpers import GiB

TODAY = timezone.now().date()


def seed(account: Any, count: int, prefix: str, days: int = 3) -> list[Bucket]:
    """`count` buckets, each with Standard + Glacier usage and a noncurrent/upload waste."""
    buckets = [
        Bucket.objects.create(account=account, name=f"{prefix}-{i:03}", region="us-east-1")
        for i in range(count)
    ]
    for day_back in range(days):
        day = TODAY - timedelta(days=day_back)
        for b in buckets:
            BucketUsage.objects.create(
                bucket=b,
                day=day,
                storage_class="STANDARD",
                bytes=10 * GiB,
                object_count=10,
                noncurrent_bytes=GiB,
                noncurrent_objects=4,
                noncurrent_expirable_bytes=GiB // 2,
                incomplete_upload_bytes=GiB,
                incomplete_uploads=1,
                stale_upload_bytes=GiB,
                stale_uploads=1,
                expired_delete_markers=2,
                old_current_bytes=5 * GiB,
                old_current_objects=5,
                source=Source.LISTING,
            )
            BucketUsage.objects.create(
                bucket=b,
                day=day,
                storage_class="GLACIER",
                bytes=100 * GiB,
                object_count=100,
                class_overhead_bytes=100 * 32768,
                standard_overhead_bytes=100 * 8192,
                source=Source.LISTING,
            )
        rollup.rollup_day(account.pk, day)
    return buckets


@pytest.fixture
def seeded(account_a: Any, account_b: Any) -> dict[str, list[Bucket]]:
    return {"a": seed(account_a, 2, "alpha"), "b": seed(account_b, 1, "bravo")}


TENANT_PAGES = ["cost:tenant", "cost:tenant_csv", "cost:trend_csv"]


@pytest.mark.parametrize("name", TENANT_PAGES)
@pytest.mark.parametrize("persona", ["alice", "oscar", "bob", "vera"])
def test_every_role_of_the_tenant_reads_cost(
    personas: Any, seeded: Any, name: str, persona: str
) -> None:
    response = personas.client_for(persona).get(reverse(name))
    assert response.status_code == 200
    body = response.content.decode()
    assert "alpha-000" in body and "bravo" not in body


@pytest.mark.parametrize("name", TENANT_PAGES)
def test_other_tenant_sees_only_its_own(personas: Any, seeded: Any, name: str) -> None:
    body = personas.client_for("carol").get(reverse(name)).content.decode()
    assert "bravo-000" in body and "alpha" not in body


@pytest.mark.parametrize("name", TENANT_PAGES)
def test_strangers_and_anonymous(personas: Any, seeded: Any, name: str, client: Any) -> None:
    assert personas.client_for("stranger").get(reverse(name)).status_code == 403
    assert client.get(reverse(name)).status_code == 302  # to the login page


def test_cost_page_content(personas: Any, seeded: Any) -> None:
    body = personas.client_for("vera").get(reverse("cost:tenant")).content.decode()
    assert 'id="cost-chart"' in body and "<rect" in body
    assert "table of 2025-10-28" in body  # the price table's date on every cost page
    assert "unverified-warning" not in body  # us-east-1 only
    # waste: noncurrent, delete markers, uploads, transition; the rule as JSON (no editor yet)
    for kind in ("noncurrent", "uploads", "delete_markers", "transition"):
        assert f'data-kind="{kind}"' in body
    assert "NoncurrentVersionExpiration" in body and "AbortIncompleteMultipartUpload" in body
    # per bucket: 10 + 1 + 1 GiB Standard = 12 x 0.023 = 0.276; Glacier (100 GiB + 3,276,800 B)
    # x 0.0036 + 819,200 B x 0.023, both buckets together:
    glacier = (
        Decimal(100 * GiB + 3276800) * Decimal("0.0036") + Decimal(819200) * Decimal("0.023")
    ) / Decimal(GiB)
    expected = 2 * (Decimal("0.276") + glacier)
    assert f"${expected.quantize(Decimal('0.01')):,}" in body


def test_unverified_prices_are_announced(personas: Any, account_a: Any) -> None:
    b = Bucket.objects.create(account=account_a, name="dublin", region="eu-west-1")
    BucketUsage.objects.create(
        bucket=b, day=TODAY, storage_class="STANDARD", bytes=GiB, source=Source.LISTING
    )
    body = personas.client_for("alice").get(reverse("cost:tenant")).content.decode()
    assert 'id="unverified-warning"' in body and "eu-west-1 (prices of 2024-09-25)" in body


def test_trend_days_choice(personas: Any, seeded: Any) -> None:
    client = personas.client_for("alice")
    for days in ("30", "90", "365", "bogus"):
        assert client.get(reverse("cost:tenant"), {"days": days}).status_code == 200
    csv_body = client.get(reverse("cost:trend_csv"), {"days": "90"}).content.decode()
    assert csv_body.splitlines()[0].startswith("day,account,bucket")
    assert len(csv_body.splitlines()) == 1 + 3 * 2 * 2  # 3 days x 2 buckets x 2 classes


def test_estimate_csv_has_full_precision(personas: Any, seeded: Any) -> None:
    lines = personas.client_for("bob").get(reverse("cost:tenant_csv")).content.decode().splitlines()
    assert lines[0].split(",")[:5] == ["tenant", "account", "bucket", "region", "storage_class"]
    standard = [line for line in lines if ",STANDARD," in line][0]
    assert ",0.276," in standard


def test_platform_chargeback_is_for_superusers(personas: Any, seeded: Any) -> None:
    for name in ("cost:platform", "cost:platform_csv"):
        for persona in ("alice", "carol", "vera"):
            assert personas.client_for(persona).get(reverse(name)).status_code == 403
        body = personas.client_for("root").get(reverse(name)).content.decode()
        assert "tenant-a" in body and "tenant-b" in body


def test_measure_request_roles(
    personas: Any, account_a: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from storage.cost import tasks

    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(tasks.size_account, "delay", lambda a, s: sent.append((a, s)))
    url = reverse("cost:measure", args=[account_a.pk])
    assert personas.client_for("carol").post(url).status_code == 404
    assert personas.client_for("bob").post(url).status_code == 403
    assert personas.client_for("vera").post(url).status_code == 403
    assert personas.client_for("oscar").get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        assert personas.client_for("oscar").post(url).status_code == 302
    assert sent == [(account_a.pk, "listing")]
    assert AuditEvent.objects.filter(action="cost.sizing.request").count() == 1


def test_lifecycle_editor_url_contract(settings: Any) -> None:
    rule = {"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}}
    # the lifecycle editor's agreed URL name and parameter (lifecycle:rule_new, ?rule=)
    assert lifecycle_editor_url(7, rule) == (
        "/buckets/7/lifecycle/new/?rule="
        "%7B%22ID%22%3A%22x%22%2C%22Status%22%3A%22Enabled%22%2C%22Filter%22%3A%7B%22Prefix"
        "%22%3A%22%22%7D%7D"
    )
    # without a lifecycle app there is no editor: the page shows the rule as JSON instead
    settings.ROOT_URLCONF = "storage.cost.urls"
    assert lifecycle_editor_url(1, rule) is None


@pytest.mark.parametrize(
    "page", ["cost:tenant", "cost:tenant_csv", "storage:bucket_list", "portal:dashboard"]
)
def test_query_count_is_constant_in_buckets(
    personas: Any, account_a: Any, django_assert_max_num_queries: Any, page: str
) -> None:
    client = personas.client_for("alice")
    seed(account_a, 5, "few", days=1)
    client.get(reverse(page))  # warm the session
    with django_assert_max_num_queries(14) as few:
        assert client.get(reverse(page)).status_code == 200
    seed(account_a, 45, "many", days=1)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        assert client.get(reverse(page)).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_bucket_pages_show_size_and_classes(personas: Any, seeded: Any) -> None:
    client = personas.client_for("vera")
    listing = client.get(reverse("storage:bucket_list")).content.decode()
    assert "112.0\xa0GB · 110 objects" in listing  # 10 + 1 + 1 + 100 GiB; 10 + 100 objects
    assert "GLACIER 100.0\xa0GB · STANDARD 12.0\xa0GB" in listing  # the class breakdown
    bucket = seeded["a"][0]
    detail = client.get(reverse("storage:bucket_detail", args=[bucket.pk])).content.decode()
    assert 'id="bucket-usage"' in detail and 'data-class="GLACIER"' in detail
    assert (
        personas.client_for("carol")
        .get(reverse("storage:bucket_detail", args=[bucket.pk]))
        .status_code
        == 404
    )


def test_dashboard_shows_estimate_and_change(personas: Any, account_a: Any) -> None:
    b = Bucket.objects.create(account=account_a, name="grow", region="us-east-1")
    for back, gb in ((30, 100), (0, 150)):
        day = TODAY - timedelta(days=back)
        BucketUsage.objects.create(
            bucket=b, day=day, storage_class="STANDARD", bytes=gb * GiB, source=Source.LISTING
        )
        rollup.rollup_day(account_a.pk, day)
    body = personas.client_for("bob").get(reverse("portal:dashboard")).content.decode()
    assert "$3.45" in body and "+$1.15" in body and "(50.0%)" in body


# --------------------------------------------------------------------------- admin
ADMIN_MODELS = ["bucketusage", "costrollup", "sizingjob"]


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_admin_usage_and_rollups_read_only_and_scoped(
    personas: Any, seeded: Any, model: str
) -> None:
    changelist = reverse(f"admin:cost_{model}_changelist")
    alice = personas.client_for("alice").get(changelist)
    assert alice.status_code == 200
    if model != "sizingjob":
        assert "alpha" in alice.content.decode() and "bravo" not in alice.content.decode()
    assert personas.client_for("bob").get(changelist).status_code == 302  # no admin for members
    carol = personas.client_for("carol").get(changelist).content.decode()
    assert "alpha" not in carol
    assert personas.client_for("alice").get(reverse(f"admin:cost_{model}_add")).status_code == 403
    if model == "sizingjob":
        return
    a_row = (
        (BucketUsage if model == "bucketusage" else CostRollup)
        .objects.filter(
            **(
                {"bucket__account__tenant": personas.tenant_a}
                if model == "bucketusage"
                else {"tenant": personas.tenant_a}
            )
        )
        .first()
    )
    change = reverse(f"admin:cost_{model}_change", args=[a_row.pk])
    assert personas.client_for("carol").get(change).status_code == 404
    page = personas.client_for("alice").get(change)
    assert page.status_code == 200 and "Save" not in page.content.decode()  # read-only
    root = personas.client_for("root").get(changelist).content.decode()
    if model != "sizingjob":
        assert "alpha" in root and "bravo" in root


def test_admin_price_overrides_per_tenant(personas: Any) -> None:
    add = reverse("admin:cost_tenantpricing_add")
    form = {
        "tenant": personas.tenant_a.pk,
        "discount_percent": "12.5",
        "compatible_usd_per_gb": "0.0059",
        "compatible_class_prices": "{}",
    }
    assert personas.client_for("oscar").get(add).status_code == 403  # admins only
    response = personas.client_for("carol").post(add, form)
    assert response.status_code == 200 and not TenantPricing.objects.exists()  # not her tenant
    assert personas.client_for("alice").post(add, form).status_code == 302
    pricing = TenantPricing.objects.get()
    assert pricing.discount_percent == Decimal("12.5")
    assert AuditEvent.objects.filter(action="cost.pricing.create").count() == 1
    change = reverse("admin:cost_tenantpricing_change", args=[pricing.pk])
    assert personas.client_for("carol").get(change).status_code == 404
    bad = dict(form, discount_percent="150")
    assert personas.client_for("alice").post(change, bad).status_code == 200  # form error
    pricing.refresh_from_db()
    assert pricing.discount_percent == Decimal("12.5")


def test_discount_override_changes_the_page(personas: Any, account_a: Any) -> None:
    b = Bucket.objects.create(account=account_a, name="disc", region="us-east-1")
    BucketUsage.objects.create(
        bucket=b, day=TODAY, storage_class="STANDARD", bytes=100 * GiB, source=Source.LISTING
    )
    TenantPricing.objects.create(tenant=personas.tenant_a, discount_percent=Decimal("10"))
    body = personas.client_for("alice").get(reverse("cost:tenant")).content.decode()
    assert 'id="cost-total">$2.07<' in body


def test_waste_button_opens_the_lifecycle_editor_once_it_exists(
    personas: Any, seeded: Any, settings: Any
) -> None:
    settings.ROOT_URLCONF = "tests.cost_urls"  # a stand-in for lifecycle:rule_new
    body = personas.client_for("alice").get(reverse("cost:tenant")).content.decode()
    bucket = seeded["a"][0]
    assert f'href="/lifecycle/buckets/{bucket.pk}/rules/new/?rule=%7B%22ID%22' in body
    assert "Open in the lifecycle editor" in body
