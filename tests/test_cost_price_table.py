"""The shipped price table: every AWS region, each entry sourced and dated, figures as the
sources give them (spot checks), unverified wherever the source is not AWS's own price list."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import botocore
import pytest

from storage.cost.prices import load_table, table_path

DATA = json.loads(Path(table_path()).read_text())


def aws_partition_regions() -> list[str]:
    endpoints = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    (aws,) = [p for p in endpoints["partitions"] if p["partition"] == "aws"]
    return sorted(aws["regions"])


def test_every_region_of_the_aws_partition_has_an_entry() -> None:
    missing = set(aws_partition_regions()) - set(DATA["regions"])
    assert not missing, f"regions without prices: {sorted(missing)}"


@pytest.mark.parametrize("region", sorted(DATA["regions"]))
def test_each_entry_names_its_source_and_date(region: str) -> None:
    entry = DATA["regions"][region]
    assert len(entry["source"]) > 40 and entry["date"][:2] == "20"
    assert entry["verified"] is (region == "us-east-1")  # the only offer-file source
    if not entry["verified"]:
        assert entry["source"].startswith("UNVERIFIED")
    for tiers in entry["storage"].values():
        assert all(Decimal(t["usd"]) > 0 for t in tiers)
        assert tiers[-1]["up_to_gb"] is None
    standard = entry["storage"].get("STANDARD")
    if standard:  # first 50 TB, next 450 TB, over 500 TB
        assert [t["up_to_gb"] for t in standard] == ["51200", "512000", None]
        assert (
            Decimal(standard[0]["usd"])
            >= Decimal(standard[1]["usd"])
            >= Decimal(standard[2]["usd"])
        )


@pytest.mark.parametrize(
    ("region", "standard", "standard_ia", "put_per_1000"),
    [
        # StephenWetzel/aws_s3_pricing_scraper outputs/aws_s3_cost_s3-standard_2024-09-25*.csv
        ("us-east-1", ["0.023", "0.022", "0.021"], "0.0125", "0.005"),
        ("eu-west-1", ["0.023", "0.022", "0.021"], "0.0125", "0.005"),
        ("eu-central-1", ["0.0245", "0.0235", "0.0225"], "0.0135", "0.0054"),
        ("sa-east-1", ["0.0405", "0.039", "0.037"], "0.0221", "0.007"),
        ("af-south-1", ["0.0274", "0.0262", "0.025"], "0.0149", "0.006"),
        ("ap-southeast-5", ["0.0225", "0.0216", "0.0207"], "0.01242", "0.0045"),
    ],
)
def test_spot_checks_against_the_sources(
    region: str, standard: list[str], standard_ia: str, put_per_1000: str
) -> None:
    prices = load_table().regions[region]
    assert [t.usd for t in prices.storage["STANDARD"]] == [Decimal(v) for v in standard]
    assert prices.storage["STANDARD_IA"][0].usd == Decimal(standard_ia)
    assert prices.requests_per_1000["put_copy_post_list"] == Decimal(put_per_1000)


def test_intelligent_tiering_tiers_follow_their_classes() -> None:
    """A check on the sources' columns: IT Frequent = Standard, IT Infrequent = Standard-IA,
    Archive Instant = Glacier IR, Archive = Glacier, Deep Archive = Deep Archive."""
    pairs = {
        "INTELLIGENT_TIERING": "STANDARD",
        "INTELLIGENT_TIERING_IA": "STANDARD_IA",
        "INTELLIGENT_TIERING_AIA": "GLACIER_IR",
        "INTELLIGENT_TIERING_AA": "GLACIER",
        "INTELLIGENT_TIERING_DAA": "DEEP_ARCHIVE",
    }
    for region, prices in load_table().regions.items():
        for tiering, same_as in pairs.items():
            if tiering in prices.storage and same_as in prices.storage:
                assert prices.storage[tiering] == prices.storage[same_as], (region, tiering)
