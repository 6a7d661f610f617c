"""Monthly cost estimates from usage rows: tiers, minimums, overheads, monitoring, overrides.

Tiers (Standard's first 50 TB / next 450 TB / over 500 TB, Intelligent-Tiering Frequent Access's)
apply to the total of a storage class in one AWS account and region; each bucket's share of a
tier-priced total is proportional to its bytes, so the shares add up to the total exactly.
Money stays Decimal at full precision; rounding happens only when shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from .prices import GB, PriceTable, RegionPrices, tiered_cost

STANDARD = "STANDARD"
HUNDRED = Decimal(100)
THOUSAND = Decimal(1000)


@dataclass(frozen=True)
class Override:
    discount_percent: Decimal = Decimal(0)
    compatible_usd_per_gb: Decimal | None = None
    compatible_class_prices: dict[str, Decimal] = field(default_factory=dict)

    def compatible_price(self, storage_class: str) -> Decimal | None:
        return self.compatible_class_prices.get(storage_class, self.compatible_usd_per_gb)


@dataclass
class UsageLine:
    """One (bucket, storage class) row to price, with the context pricing needs."""

    tenant_id: int
    tenant: str
    account_id: int
    account: str
    s3_compatible: bool
    bucket_id: int
    bucket: str
    region: str
    storage_class: str
    bytes: int = 0
    object_count: int | None = None
    noncurrent_bytes: int = 0
    incomplete_upload_bytes: int = 0
    class_overhead_bytes: int = 0
    standard_overhead_bytes: int = 0
    monitored_objects: int | None = None

    @property
    def account_label(self) -> str:
        return f"{self.tenant} / {self.account}"

    @property
    def class_rate_bytes(self) -> int:
        """Bytes billed at the class's rate (all versions, upload parts, class-rate overhead)."""
        stored = self.bytes + self.noncurrent_bytes + self.incomplete_upload_bytes
        return stored if self.s3_compatible else stored + self.class_overhead_bytes

    @property
    def standard_rate_bytes(self) -> int:
        return 0 if self.s3_compatible else self.standard_overhead_bytes

    @property
    def billed_bytes(self) -> int:
        return self.class_rate_bytes + self.standard_rate_bytes


@dataclass
class PricedLine:
    usage: UsageLine
    monthly_cost: Decimal | None  # None: no price known
    verified: bool
    note: str = ""
    storage_cost: Decimal = Decimal(0)
    standard_overhead_cost: Decimal = Decimal(0)
    monitoring_cost: Decimal = Decimal(0)

    def rate_per_byte(self) -> Decimal | None:
        """The average price of one byte-month of this line's class-rate bytes."""
        if self.monthly_cost is None or not self.usage.class_rate_bytes:
            return None
        return self.storage_cost / Decimal(self.usage.class_rate_bytes)


@dataclass
class Estimate:
    lines: list[PricedLine]
    table_date: str
    # region -> the date of its prices, for every region whose prices are not verified
    unverified_price_dates: dict[str, str] = field(default_factory=dict)

    @property
    def unverified_regions(self) -> set[str]:
        return set(self.unverified_price_dates)

    @property
    def unverified_labels(self) -> list[str]:
        """ "eu-west-1 (prices of 2024-09-25)", for the pages' unverified-price note."""
        return [
            f"{region} (prices of {date})" if date else region
            for region, date in sorted(self.unverified_price_dates.items())
        ]

    @property
    def total(self) -> Decimal:
        return sum((p.monthly_cost for p in self.lines if p.monthly_cost is not None), Decimal(0))

    @property
    def unpriced(self) -> list[PricedLine]:
        return [p for p in self.lines if p.monthly_cost is None]

    @property
    def uses_unverified(self) -> bool:
        return any(not p.verified for p in self.lines if p.monthly_cost is not None)


def _group_key(line: UsageLine, storage_class: str) -> tuple[int, str, str]:
    return (line.account_id, line.region, storage_class)


def _discount(amount: Decimal, override: Override) -> Decimal:
    if not override.discount_percent:
        return amount
    return amount * (HUNDRED - override.discount_percent) / HUNDRED


def estimate(
    usage_lines: Iterable[UsageLine],
    table: PriceTable,
    overrides: dict[int, Override] | None = None,
) -> Estimate:
    lines = list(usage_lines)
    overrides = overrides or {}
    # Tier volumes per (account, region, class): class-rate bytes of that class plus, for
    # Standard, every class's Standard-rate overhead.
    volume: dict[tuple[int, str, str], int] = defaultdict(int)
    for line in lines:
        if line.s3_compatible:
            continue
        volume[_group_key(line, line.storage_class)] += line.class_rate_bytes
        if line.standard_rate_bytes:
            volume[_group_key(line, STANDARD)] += line.standard_rate_bytes
    group_cost: dict[tuple[int, str, str], Decimal | None] = {}
    for key, total_bytes in volume.items():
        _, region, storage_class = key
        tiers = table.tiers(region, storage_class)
        group_cost[key] = None if tiers is None else tiered_cost(Decimal(total_bytes) / GB, tiers)

    # Each member's share is proportional to its bytes; the last member of a group gets the
    # remainder, so the shares add up to the tier-priced total exactly.
    members: dict[tuple[int, str, str], list[tuple[int, int]]] = defaultdict(list)
    for index, line in enumerate(lines):
        if line.s3_compatible:
            continue
        members[_group_key(line, line.storage_class)].append((index, line.class_rate_bytes))
        if line.standard_rate_bytes:
            members[_group_key(line, STANDARD)].append((index, line.standard_rate_bytes))
    shares: dict[tuple[tuple[int, str, str], int], Decimal] = {}
    for key, parts in members.items():
        cost = group_cost.get(key)
        if cost is None:
            continue
        whole = Decimal(volume[key])
        given = Decimal(0)
        for n, (index, part) in enumerate(parts):
            if n == len(parts) - 1:
                shares[(key, index)] = cost - given
            else:
                portion = cost * Decimal(part) / whole if whole else Decimal(0)
                shares[(key, index)] = portion
                given += portion

    def share(key: tuple[int, str, str], index: int, part: int) -> Decimal | None:
        if not part:
            return Decimal(0)
        if group_cost.get(key) is None:
            return None
        return shares[(key, index)]

    priced: list[PricedLine] = []
    unverified: dict[str, str] = {}
    for index, line in enumerate(lines):
        override = overrides.get(line.tenant_id, Override())
        if line.s3_compatible:
            priced.append(_price_compatible(line, override))
            continue
        region_prices = table.regions.get(line.region)
        storage = share(_group_key(line, line.storage_class), index, line.class_rate_bytes)
        standard = share(_group_key(line, STANDARD), index, line.standard_rate_bytes)
        missing = _missing_price(line, region_prices, storage, standard, table)
        if missing:
            priced.append(PricedLine(line, None, False, missing))
            continue
        assert storage is not None and standard is not None  # noqa: S101 - narrowed above
        monitoring = Decimal(0)
        note = ""
        if line.monitored_objects and region_prices and region_prices.it_monitoring_per_1000:
            monitoring = Decimal(line.monitored_objects) * region_prices.it_monitoring_per_1000
            monitoring /= THOUSAND
        elif line.storage_class == "INTELLIGENT_TIERING" and line.monitored_objects is None:
            note = "monitoring fee not included: object sizes unknown (CloudWatch sizing)"
        verified = bool(region_prices and region_prices.is_verified(line.storage_class))
        if line.standard_rate_bytes and region_prices:
            verified = verified and region_prices.is_verified(STANDARD)
        if not verified:
            unverified[line.region] = region_prices.date if region_prices else ""
        priced.append(
            PricedLine(
                line,
                _discount(storage + standard + monitoring, override),
                verified,
                note,
                storage_cost=_discount(storage, override),
                standard_overhead_cost=_discount(standard, override),
                monitoring_cost=_discount(monitoring, override),
            )
        )
    return Estimate(priced, table.table_date, unverified)


def _missing_price(
    line: UsageLine,
    region_prices: RegionPrices | None,
    storage: Decimal | None,
    standard: Decimal | None,
    table: PriceTable,
) -> str:
    if region_prices is None:
        return (
            f"no price for region {line.region} in the price table of {table.table_date} "
            "(run manage.py refresh_prices)"
        )
    if storage is None:
        return f"no {line.storage_class} price for {line.region} in the price table"
    if standard is None:
        return f"no STANDARD price for {line.region} (needed for the 8 KB per-object overhead)"
    return ""


def _price_compatible(line: UsageLine, override: Override) -> PricedLine:
    price = override.compatible_price(line.storage_class)
    if price is None:
        return PricedLine(
            line,
            None,
            False,
            f"S3-compatible account {line.account}: no AWS price applies and the tenant has set "
            "none (tenant price overrides)",
        )
    cost = Decimal(line.class_rate_bytes) / GB * price
    return PricedLine(line, cost, True, "tenant's own price", storage_cost=cost)


def money_str(value: Decimal | None) -> str | None:
    """Full precision, no exponent, no trailing zeros: Decimal("0.27600") -> "0.276"."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text
