"""In a real browser: the cost page draws its SVG trend chart (screenshot kept for a look)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import AwsAccount
from storage.cost import rollup
from storage.cost.models import BucketUsage, Source
from storage.models import Bucket
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)
GiB = 2**30


def test_cost_page_draws_the_chart(live_server: Any, page: Any, personas: Any) -> None:
    account = AwsAccount.objects.create(tenant=personas.tenant_a, name="prod")
    bucket = Bucket.objects.create(account=account, name="chart-data", region="us-east-1")
    today = timezone.now().date()
    for back in range(30):
        day = today - timedelta(days=back)
        for storage_class, gb in (("STANDARD", 500 + 10 * back), ("GLACIER", 2000)):
            BucketUsage.objects.create(
                bucket=bucket,
                day=day,
                storage_class=storage_class,
                bytes=gb * GiB,
                object_count=gb,
                source=Source.LISTING,
            )
        rollup.rollup_day(account.pk, day)

    login(page, live_server, "vera", PASSWORD)
    page.goto(f"{live_server.url}/cost/")
    chart = page.locator("svg#cost-chart")
    chart.wait_for()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    sizes = page.eval_on_selector_all(
        "svg#cost-chart rect.bar",
        "els => els.map(e => { const b = e.getBBox(); return [b.width, b.height,"
        " e.getAttribute('data-class')]; })",
    )
    assert len(sizes) == 60  # 30 days x 2 classes, stacked
    assert all(w > 0 and h > 0 for w, h, _ in sizes)
    assert {c for _, _, c in sizes} == {"STANDARD", "GLACIER"}
    shot = Path("var/test-screenshots")
    shot.mkdir(parents=True, exist_ok=True)
    png = page.screenshot(path=str(shot / "cost-page.png"), full_page=True)
    assert len(png) > 10_000
    assert "chart-data" in page.locator("#cost-buckets").inner_text()
