"""manage.py cost, size_buckets and refresh_prices."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts import aws
from storage.cost.models import BucketUsage, CostRollup, Source
from storage.cost.prices import DEFAULT_TABLE, load_table
from storage.models import Bucket

from .cost_helpers import GiB


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def usage_rows(account_a: Any, account_b: Any) -> None:
    today = timezone.now().date()
    a = Bucket.objects.create(account=account_a, name="alpha", region="us-east-1")
    b = Bucket.objects.create(account=account_b, name="bravo", region="us-east-1")
    BucketUsage.objects.create(
        bucket=a,
        day=today - timedelta(days=40),
        storage_class="STANDARD",
        bytes=GiB,
        object_count=1,
        source=Source.LISTING,
    )
    BucketUsage.objects.create(
        bucket=a,
        day=today,
        storage_class="STANDARD",
        bytes=10 * GiB,
        object_count=3,
        source=Source.LISTING,
    )
    BucketUsage.objects.create(
        bucket=a,
        day=today,
        storage_class="STANDARD_IA",
        bytes=GiB,
        object_count=1,
        source=Source.LISTING,
    )
    BucketUsage.objects.create(
        bucket=b,
        day=today,
        storage_class="STANDARD",
        bytes=2 * GiB,
        object_count=2,
        source=Source.LISTING,
    )


def test_cost_json_shape(usage_rows: None) -> None:
    data = json.loads(run("cost", "--format", "json"))
    assert data["total_monthly_cost_usd"] == "0.2885"  # (10 + 2) x 0.023 + 1 x 0.0125
    assert data["price_table_date"] == "2025-10-28"
    row = data["rows"][0]
    for key in (
        "tenant",
        "account",
        "bucket",
        "region",
        "storage_class",
        "bytes",
        "objects",
        "monthly_cost_usd",
    ):
        assert key in row
    by = {(r["bucket"], r["storage_class"]): r for r in data["rows"]}
    assert by[("alpha", "STANDARD")]["monthly_cost_usd"] == "0.23"
    assert by[("alpha", "STANDARD")]["bytes"] == 10 * GiB
    assert by[("alpha", "STANDARD")]["objects"] == 3
    assert isinstance(by[("alpha", "STANDARD")]["monthly_cost_usd"], str)


def test_cost_filters_month_and_formats(usage_rows: None) -> None:
    only_b = json.loads(run("cost", "--tenant", "tenant-b", "--format", "json"))
    assert [r["bucket"] for r in only_b["rows"]] == ["bravo"]
    assert (
        json.loads(run("cost", "--bucket", "alpha", "--format", "json"))["total_monthly_cost_usd"]
        == "0.2425"
    )
    past = (timezone.now().date() - timedelta(days=40)).strftime("%Y-%m")
    old = json.loads(run("cost", "--bucket", "alpha", "--month", past, "--format", "json"))
    assert old["total_monthly_cost_usd"] == "0.023"  # the sizing of 40 days ago
    csv_out = run("cost", "--format", "csv").splitlines()
    assert csv_out[0].startswith("tenant,account,bucket,region,storage_class,bytes,objects")
    table = run("cost")
    assert "total monthly cost: 0.2885 USD (price table 2025-10-28)" in table
    with pytest.raises(CommandError, match="YYYY-MM"):
        run("cost", "--month", "2026-13")


def test_size_buckets_listing_json(account_a: Any) -> None:
    s3 = aws.client(account_a, "s3")
    s3.create_bucket(Bucket="cli-sized")
    s3.put_bucket_versioning(Bucket="cli-sized", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="cli-sized", Key="k", Body=b"1" * 10)
    s3.put_object(Bucket="cli-sized", Key="k", Body=b"2" * 20)
    s3.put_object(Bucket="cli-sized", Key="gone", Body=b"3" * 5)
    s3.delete_object(Bucket="cli-sized", Key="gone")
    s3.create_multipart_upload(Bucket="cli-sized", Key="mpu")
    Bucket.objects.create(account=account_a, name="cli-sized", region="us-east-1")
    data = json.loads(
        run("size_buckets", "--tenant", "tenant-a", "--source", "listing", "--format", "json")
    )
    (row,) = data
    assert {
        k: row[k]
        for k in (
            "bucket",
            "storage_class",
            "bytes",
            "objects",
            "noncurrent_bytes",
            "noncurrent_objects",
            "delete_markers",
            "incomplete_upload_bytes",
            "incomplete_uploads",
        )
    } == {
        "bucket": "cli-sized",
        "storage_class": "STANDARD",
        "bytes": 20,
        "objects": 1,
        "noncurrent_bytes": 15,
        "noncurrent_objects": 2,
        "delete_markers": 1,
        "incomplete_upload_bytes": 0,
        "incomplete_uploads": 1,
    }
    assert CostRollup.objects.filter(bucket__name="cli-sized").count() == 1


def test_size_buckets_reports_failures(account_a: Any) -> None:
    Bucket.objects.create(account=account_a, name="missing-bucket", region="us-east-1")
    with pytest.raises(CommandError, match="could not be measured"):
        run("size_buckets", "--source", "listing")
    with pytest.raises(CommandError, match="no AWS account"):
        run("size_buckets", "--tenant", "nope")


def offer_file(path: Path) -> Path:
    """A small AmazonS3 offer file in the shape AWS publishes (products + terms.OnDemand)."""

    def product(sku: str, region: str, usage_type: str) -> dict[str, Any]:
        return {
            "sku": sku,
            "productFamily": "Storage",
            "attributes": {
                "servicecode": "AmazonS3",
                "regionCode": region,
                "usagetype": usage_type,
                "location": region,
                "locationType": "AWS Region",
            },
        }

    def term(sku: str, dims: list[tuple[str, str, str]], unit: str = "GB-Mo") -> dict[str, Any]:
        return {
            f"{sku}.JRTCKXETXF": {
                "offerTermCode": "JRTCKXETXF",
                "sku": sku,
                "effectiveDate": "2026-11-01T00:00:00Z",
                "priceDimensions": {
                    f"{sku}.JRTCKXETXF.{i}": {
                        "beginRange": b,
                        "endRange": e,
                        "unit": unit,
                        "pricePerUnit": {"USD": usd},
                        "description": "storage",
                    }
                    for i, (b, e, usd) in enumerate(dims)
                },
            }
        }

    data = {
        "formatVersion": "v1.0",
        "offerCode": "AmazonS3",
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z",
        "products": {
            "STD1": product("STD1", "eu-west-1", "EU-TimedStorage-ByteHrs"),
            "SIA1": product("SIA1", "eu-west-1", "EU-TimedStorage-SIA-ByteHrs"),
            "GDA1": product("GDA1", "eu-west-1", "EU-TimedStorage-GDA-ByteHrs"),
            "MON1": {
                "sku": "MON1",
                "productFamily": "Fee",
                "attributes": {
                    "regionCode": "eu-west-1",
                    "usagetype": "EU-Monitoring-Automation-INT",
                },
            },
            "ODD1": product("ODD1", "eu-west-1", "EU-TimedStorage-Mystery-ByteHrs"),
        },
        "terms": {
            "OnDemand": {
                "STD1": term(
                    "STD1",
                    [
                        ("0", "51200", "0.0240000000"),
                        ("51200", "512000", "0.0230000000"),
                        ("512000", "Inf", "0.0220000000"),
                    ],
                ),
                "SIA1": term("SIA1", [("0", "Inf", "0.0131000000")]),
                "GDA1": term("GDA1", [("0", "Inf", "0.0010000000")]),
                "MON1": term("MON1", [("0", "Inf", "0.0000025000")], unit="Objects"),
                "ODD1": term("ODD1", [("0", "Inf", "9.99")]),
            }
        },
    }
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def table_copy(tmp_path: Path, settings: Any) -> Path:
    copy = tmp_path / "prices.json"
    shutil.copy(DEFAULT_TABLE, copy)
    settings.COST_PRICE_TABLE = str(copy)
    return copy


def test_refresh_prices_from_offer_file(tmp_path: Path, table_copy: Path) -> None:
    out = run("refresh_prices", "--from-file", str(offer_file(tmp_path / "offer.json")))
    assert "eu-west-1 (3 classes)" in out
    table = load_table()
    eu = table.regions["eu-west-1"]
    assert eu.verified and "offerCode AmazonS3" in eu.source and "2026-11-01" in eu.source
    assert [(t.up_to_gb, t.usd) for t in eu.storage["STANDARD"]] == [
        (Decimal(51200), Decimal("0.024")),
        (Decimal(512000), Decimal("0.023")),
        (None, Decimal("0.022")),
    ]
    assert eu.storage["DEEP_ARCHIVE"][0].usd == Decimal("0.001")
    assert eu.it_monitoring_per_1000 == Decimal("0.0025")
    assert table.effective_date == "2026-11-01"
    # us-east-1 (not in this offer) is kept as it was
    assert table.regions["us-east-1"].storage["STANDARD"][0].usd == Decimal("0.023")
    assert table.table_date == timezone.now().date().isoformat()


def test_refresh_prices_refuses_bad_files(tmp_path: Path, table_copy: Path) -> None:
    before = table_copy.read_text()
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(CommandError, match="not an AWS offer file"):
        run("refresh_prices", "--from-file", str(bad))
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="cannot read offer file"):
        run("refresh_prices", "--from-file", str(bad))
    with pytest.raises(CommandError, match="cannot read"):
        run("refresh_prices", "--from-file", str(tmp_path / "absent.json"))
    assert table_copy.read_text() == before


def test_refresh_prices_from_the_price_list_api(
    tmp_path: Path, table_copy: Path, aws_env: None, monkeypatch: Any
) -> None:
    """moto has no Price List API: botocore's Stubber answers GetProducts the way AWS does."""
    from botocore.stub import Stubber

    offer = json.loads(offer_file(tmp_path / "o.json").read_text())
    items = [
        json.dumps(
            {
                "product": offer["products"][sku],
                "terms": {"OnDemand": offer["terms"]["OnDemand"][sku]},
                "serviceCode": "AmazonS3",
            }
        )
        for sku in ("STD1", "SIA1")
    ]
    real_client = aws.platform_client

    def stubbed(service: str, region: str = "us-east-1") -> Any:
        made = real_client(service, region)
        assert service == "pricing" and region == "us-east-1"
        stub = Stubber(made)
        stub.add_response("get_products", {"PriceList": items, "FormatVersion": "aws_v1"})
        stub.add_response("get_products", {"PriceList": [], "FormatVersion": "aws_v1"})
        stub.activate()
        return made

    monkeypatch.setattr(aws, "platform_client", stubbed)
    out = run("refresh_prices", "--region", "eu-west-1")
    assert "eu-west-1 (2 classes)" in out
    assert "pricing:GetProducts" in load_table().regions["eu-west-1"].source
