"""Rebuild the price table from AWS's Price List: an offer file or pricing:GetProducts.

Offer files ("…/offers/v1.0/aws/AmazonS3/current/<region>/index.json") and GetProducts answers
share one shape per product: `product.attributes` (regionCode, usagetype, ...) and
`terms.OnDemand.<offer>.priceDimensions.<rate>` (beginRange, endRange in GB, pricePerUnit.USD).
Storage usage types carry a region prefix (none for us-east-1, "EU-" for eu-west-1, ...).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

# usage type (without region prefix) -> storage class (cloud-carbon-footprint's
# AWSStorageUsageTypes and the fact sheet section 3)
USAGE_TYPES = {
    "TimedStorage-ByteHrs": "STANDARD",
    "TimedStorage-SIA-ByteHrs": "STANDARD_IA",
    "TimedStorage-ZIA-ByteHrs": "ONEZONE_IA",
    "TimedStorage-GIR-ByteHrs": "GLACIER_IR",
    "TimedStorage-GlacierByteHrs": "GLACIER",
    "TimedStorage-GDA-ByteHrs": "DEEP_ARCHIVE",
    "TimedStorage-RRS-ByteHrs": "REDUCED_REDUNDANCY",
    "TimedStorage-INT-FA-ByteHrs": "INTELLIGENT_TIERING",
    "TimedStorage-INT-IA-ByteHrs": "INTELLIGENT_TIERING_IA",
    "TimedStorage-INT-AIA-ByteHrs": "INTELLIGENT_TIERING_AIA",
    "TimedStorage-INT-AA-ByteHrs": "INTELLIGENT_TIERING_AA",
    "TimedStorage-INT-DAA-ByteHrs": "INTELLIGENT_TIERING_DAA",
}
MONITORING_USAGE_TYPE = "Monitoring-Automation-INT"


class OfferError(ValueError):
    pass


def strip_region_prefix(usage_type: str) -> str:
    for known in (*USAGE_TYPES, MONITORING_USAGE_TYPE):
        if usage_type == known or usage_type.endswith("-" + known):
            return known
    return usage_type


def products_of_offer_file(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Offer-file products joined with their OnDemand terms (the GetProducts item shape)."""
    if "products" not in data or "terms" not in data:
        raise OfferError("not an AWS offer file: it needs 'products' and 'terms'")
    on_demand = data["terms"].get("OnDemand", {})
    for sku, product in data["products"].items():
        yield {"product": product, "terms": {"OnDemand": on_demand.get(sku, {})}}


def _dimensions(item: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for offer in item.get("terms", {}).get("OnDemand", {}).values():
        found += list(offer.get("priceDimensions", {}).values())
    return found


def regions_from_products(
    items: Iterable[dict[str, Any]],
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """region -> {"storage": {class: tiers}, "it_monitoring_per_1000_objects": ...}; skipped."""
    regions: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    for item in items:
        attributes = item.get("product", {}).get("attributes", {})
        region = attributes.get("regionCode")
        usage_type = strip_region_prefix(attributes.get("usagetype", ""))
        if not region:
            continue
        entry = regions.setdefault(region, {"storage": {}, "it_monitoring_per_1000_objects": None})
        if usage_type == MONITORING_USAGE_TYPE:
            for dim in _dimensions(item):
                per_object = Decimal(dim["pricePerUnit"]["USD"])
                entry["it_monitoring_per_1000_objects"] = str((per_object * 1000).normalize())
            continue
        storage_class = USAGE_TYPES.get(usage_type)
        if storage_class is None:
            if usage_type.startswith("TimedStorage"):
                skipped.append(f"{region}: {attributes.get('usagetype')}")
            continue
        tiers = []
        for dim in sorted(_dimensions(item), key=lambda d: Decimal(d.get("beginRange", "0"))):
            if dim.get("unit", "GB-Mo") not in ("GB-Mo", "GB-Month"):
                continue
            end = dim.get("endRange", "Inf")
            tiers.append(
                {
                    "up_to_gb": None if end in ("Inf", "", None) else str(Decimal(end).normalize()),
                    "usd": str(Decimal(dim["pricePerUnit"]["USD"]).normalize()),
                }
            )
        if tiers:
            entry["storage"][storage_class] = tiers
    return regions, skipped


def merge_into_table(
    table: dict[str, Any],
    regions: dict[str, dict[str, Any]],
    *,
    source: str,
    table_date: str,
    effective_date: str,
) -> dict[str, Any]:
    """The table with these regions replaced (verified, dated); other regions kept as they were."""
    merged = json.loads(json.dumps(table))
    merged["table_date"] = table_date
    if effective_date:
        merged["effective_date"] = effective_date
    merged["built_by"] = "manage.py refresh_prices"
    for region, entry in regions.items():
        old = merged.setdefault("regions", {}).get(region, {})
        merged["regions"][region] = {
            "verified": True,
            "source": source,
            "date": table_date,
            "storage": entry["storage"],
            "unverified_classes": {},
            "it_monitoring_per_1000_objects": entry["it_monitoring_per_1000_objects"],
            # Request prices are not rebuilt yet: keep what the table had.
            "requests_per_1000": old.get("requests_per_1000", {}),
        }
        if old.get("unverified_requests"):
            merged["regions"][region]["unverified_requests"] = old["unverified_requests"]
    return merged


def write_table(path: Path, table: dict[str, Any]) -> None:
    """Atomically (a reader never sees half a file)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".prices-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(table, fh, indent=2, sort_keys=False)
        fh.write("\n")
    os.replace(tmp, path)


def get_products(pricing: Any, region: str | None = None) -> Iterator[dict[str, Any]]:
    """pricing:GetProducts for AmazonS3 storage (and the Intelligent-Tiering monitoring fee)."""
    filters = [{"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Storage"}]
    if region:
        filters.append({"Type": "TERM_MATCH", "Field": "regionCode", "Value": region})
    families = [filters]
    monitoring = [{"Type": "TERM_MATCH", "Field": "usagetype", "Value": MONITORING_USAGE_TYPE}]
    if region:
        monitoring.append({"Type": "TERM_MATCH", "Field": "regionCode", "Value": region})
    families.append(monitoring)
    for wanted in families:
        paginator = pricing.get_paginator("get_products")
        for page in paginator.paginate(ServiceCode="AmazonS3", Filters=wanted):
            for raw in page.get("PriceList", ()):
                yield json.loads(raw) if isinstance(raw, str) else raw
