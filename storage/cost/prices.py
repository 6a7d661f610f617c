"""The shipped, dated S3 price table (prices/aws-s3-prices.json) and tenant overrides.

Money is Decimal throughout; the file stores every figure as a string so nothing passes through
float. A price is looked up per (region, storage class); a missing one is None, never invented.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULT_TABLE = Path(__file__).resolve().parent / "prices" / "aws-s3-prices.json"
GB = Decimal(2**30)  # AWS bills GB-months of 2^30 bytes


@dataclass(frozen=True)
class Tier:
    up_to_gb: Decimal | None  # cumulative upper bound of the tier; None: no bound
    usd: Decimal  # per GB-month


@dataclass(frozen=True)
class ClassRules:
    min_days: int
    min_object_bytes: int  # objects smaller than this bill as this size (IA classes, Glacier IR)
    class_overhead_bytes: int  # per object, billed at the class rate (Glacier, Deep Archive)
    standard_overhead_bytes: int  # per object, billed at the Standard rate
    monitored_above_bytes: int | None = None  # Intelligent-Tiering monitoring threshold


@dataclass(frozen=True)
class RegionPrices:
    region: str
    verified: bool
    source: str
    date: str
    storage: dict[str, tuple[Tier, ...]]
    unverified_classes: dict[str, str]
    it_monitoring_per_1000: Decimal | None
    requests_per_1000: dict[str, Decimal]

    def is_verified(self, storage_class: str) -> bool:
        return self.verified and storage_class not in self.unverified_classes


@dataclass(frozen=True)
class PriceTable:
    table_date: str
    effective_date: str
    classes: dict[str, ClassRules]
    regions: dict[str, RegionPrices]
    path: str = ""
    built_by: str = ""
    classes_source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def tiers(self, region: str, storage_class: str) -> tuple[Tier, ...] | None:
        prices = self.regions.get(region)
        if prices is None:
            return None
        return prices.storage.get(storage_class)

    def rules(self, storage_class: str) -> ClassRules:
        return self.classes.get(storage_class) or ClassRules(0, 0, 0, 0)


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


def parse_table(data: dict[str, Any], path: str = "") -> PriceTable:
    classes = {
        name: ClassRules(
            min_days=int(c.get("min_days", 0)),
            min_object_bytes=int(c.get("min_object_bytes", 0)),
            class_overhead_bytes=int(c.get("class_overhead_bytes", 0)),
            standard_overhead_bytes=int(c.get("standard_overhead_bytes", 0)),
            monitored_above_bytes=c.get("monitored_above_bytes"),
        )
        for name, c in data.get("classes", {}).items()
    }
    regions: dict[str, RegionPrices] = {}
    for region, r in data.get("regions", {}).items():
        storage = {
            cls: tuple(
                Tier(
                    up_to_gb=None if t.get("up_to_gb") is None else _money(t["up_to_gb"]),
                    usd=_money(t["usd"]),
                )
                for t in tiers
            )
            for cls, tiers in r.get("storage", {}).items()
        }
        monitoring = r.get("it_monitoring_per_1000_objects")
        regions[region] = RegionPrices(
            region=region,
            verified=bool(r.get("verified", False)),
            source=str(r.get("source", "")),
            date=str(r.get("date", "")),
            storage=storage,
            unverified_classes=dict(r.get("unverified_classes", {})),
            it_monitoring_per_1000=None if monitoring is None else _money(monitoring),
            requests_per_1000={k: _money(v) for k, v in r.get("requests_per_1000", {}).items()},
        )
    return PriceTable(
        table_date=str(data.get("table_date", "")),
        effective_date=str(data.get("effective_date", "")),
        classes=classes,
        regions=regions,
        path=path,
        built_by=str(data.get("built_by", "")),
        classes_source=str(data.get("classes_source", "")),
    )


def table_path() -> Path:
    configured = getattr(settings, "COST_PRICE_TABLE", "")
    return Path(configured) if configured else DEFAULT_TABLE


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> PriceTable:
    with open(path, encoding="utf-8") as fh:
        return parse_table(json.load(fh), path=path)


def load_table() -> PriceTable:
    """The price table, re-read when the file changes (refresh_prices rewrites it)."""
    path = table_path()
    return _load(str(path), path.stat().st_mtime)


def tiered_cost(gb: Decimal, tiers: tuple[Tier, ...]) -> Decimal:
    """Cost of `gb` GB-months through cumulative tiers (first 50 TB, next 450 TB, ...)."""
    cost = Decimal(0)
    below = Decimal(0)
    for tier in tiers:
        if gb <= below:
            break
        top = gb if tier.up_to_gb is None else min(gb, tier.up_to_gb)
        cost += (top - below) * tier.usd
        if tier.up_to_gb is None:
            break
        below = tier.up_to_gb
    return cost
