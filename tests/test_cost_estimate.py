"""The cost arithmetic, to the cent, for hand-computed inventories (us-east-1 list prices of the
shipped table, dated 2025-10-28: Standard 0.023 / 0.022 / 0.021 per GB-month for the first 50 TB /
next 450 TB / over 500 TB; Standard-IA 0.0125; Glacier Flexible 0.0036; GB = 2^30 bytes)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from storage.cost.estimate import Override, estimate
from storage.cost.prices import load_table, tiered_cost
from storage.cost.usage import Accumulator, ClassUsage

from .cost_helpers import NOW, GiB, KiB, cents, inventory, line_from, total

TB_GB = 1024  # 1 TB = 1,024 GB in AWS's tiers (the offer file's 51200 / 512000 GB bounds)


def standard(gb: int, **kw: object) -> ClassUsage:
    return ClassUsage(bytes=gb * GiB, object_count=1)


@pytest.mark.parametrize(
    ("gb", "expected"),
    [
        (1, Decimal("0.023")),
        (50 * TB_GB, Decimal("1177.6")),  # exactly the first tier: 51,200 x 0.023
        (50 * TB_GB + 1, Decimal("1177.622")),  # one GB into the second tier
        (500 * TB_GB, Decimal("11315.2")),  # 1,177.60 + 460,800 x 0.022
        (500 * TB_GB + 10, Decimal("11315.41")),  # + 10 GB at 0.021
    ],
)
def test_standard_tier_boundaries(gb: int, expected: Decimal) -> None:
    lines = [line_from(standard(gb), "STANDARD")]
    assert total(lines) == expected


def test_tiered_cost_is_exact_decimal() -> None:
    tiers = load_table().tiers("us-east-1", "STANDARD")
    assert tiers is not None
    assert tiered_cost(Decimal(51201), tiers) == Decimal("1177.622")


def test_tiers_apply_per_account_and_region() -> None:
    # Two buckets of 30 TB in one account share the tiers: 61,440 GB = 1,177.60 + 10,240 x 0.022
    same = [
        line_from(standard(30 * TB_GB), "STANDARD", bucket_id=1),
        line_from(standard(30 * TB_GB), "STANDARD", bucket_id=2),
    ]
    est = estimate(same, load_table())
    assert est.total == Decimal("1402.88")
    assert [p.monthly_cost for p in est.lines] == [Decimal("701.44"), Decimal("701.44")]
    # In two accounts each stays in the first tier: 30,720 x 0.023 = 706.56 each
    apart = [
        line_from(standard(30 * TB_GB), "STANDARD", account_id=1, bucket_id=1),
        line_from(standard(30 * TB_GB), "STANDARD", account_id=2, bucket_id=2),
    ]
    assert total(apart) == Decimal("1413.12")


def test_ia_bills_128_kb_minimum_per_object() -> None:
    # 1,000 objects of 1 KB in Standard-IA bill as 1,000 x 128 KB = 131,072,000 bytes
    # = 0.1220703125 GB x 0.0125 = 0.00152587890625
    lines = inventory([(f"k{i}", KiB, "STANDARD_IA") for i in range(1000)])
    assert lines[0].billed_bytes == 1000 * 128 * KiB
    assert total(lines) == Decimal("0.00152587890625")
    # An object of 128 KB or more bills as its size: 10 objects of 1 GiB = 10 x 0.0125
    big = inventory([(f"k{i}", GiB, "STANDARD_IA") for i in range(10)])
    assert total(big) == Decimal("0.125")


def test_glacier_ir_has_the_128_kb_minimum_too() -> None:
    lines = inventory([("a", 0, "GLACIER_IR"), ("b", 64 * KiB, "GLACIER_IR")])
    # 2 x 128 KB = 262,144 bytes x 0.004 / 2^30
    assert total(lines) == Decimal(262144) * Decimal("0.004") / Decimal(GiB)


def test_glacier_40_kb_overhead_32_at_class_8_at_standard() -> None:
    # 1,000 objects of 1 MiB in Glacier Flexible Retrieval:
    #   (1,048,576 + 32,768) x 1,000 = 1,081,344,000 B = 1.007080078125 GB x 0.0036
    #     = 0.00362548828125
    #   8,192 x 1,000 = 8,192,000 B = 0.00762939453125 GB x 0.023 (Standard) = 0.00017547607421875
    lines = inventory([(f"k{i}", 1024 * KiB, "GLACIER") for i in range(1000)])
    est = estimate(lines, load_table())
    (priced,) = est.lines
    assert priced.storage_cost == Decimal("0.00362548828125")
    assert priced.standard_overhead_cost == Decimal("0.00017547607421875")
    assert est.total == Decimal("0.00380096435546875")


def test_deep_archive_overhead() -> None:
    lines = inventory([("k", GiB, "DEEP_ARCHIVE")])
    expected = Decimal(GiB + 32 * KiB) * Decimal("0.00099") + Decimal(8 * KiB) * Decimal("0.023")
    assert total(lines) == expected / Decimal(GiB)


def test_noncurrent_versions_and_unfinished_uploads_are_billed() -> None:
    acc = Accumulator(NOW, load_table())
    acc.add_version("k", GiB, "STANDARD", True, NOW)
    acc.add_version("k", GiB, "STANDARD", False, NOW)
    acc.add_version("k", GiB, "STANDARD", False, NOW)
    acc.add_upload("STANDARD", 2 * GiB, NOW)
    (usage,) = acc.finish().values()
    assert (usage.bytes, usage.noncurrent_bytes, usage.incomplete_upload_bytes) == (
        GiB,
        2 * GiB,
        2 * GiB,
    )
    # 5 GiB x 0.023 = 0.115
    assert total([line_from(usage, "STANDARD")]) == Decimal("0.115")


def test_intelligent_tiering_monitoring_only_for_objects_of_128_kb_or_more() -> None:
    objects = [(f"big{i}", 1024 * KiB, "INTELLIGENT_TIERING") for i in range(2000)]
    objects += [(f"small{i}", KiB, "INTELLIGENT_TIERING") for i in range(1000)]
    lines = inventory(objects)
    assert lines[0].monitored_objects == 2000
    est = estimate(lines, load_table())
    (priced,) = est.lines
    assert priced.monitoring_cost == Decimal("0.005")  # 2,000 / 1,000 x 0.0025
    # storage: 2,098,176,000 B / 2^30 = 1.95407867431640625 GB x 0.023 (Frequent Access)
    assert priced.storage_cost == Decimal("0.04494380950927734375")
    assert cents(est.total) == Decimal("0.05")


def test_discount_applies_to_aws_prices() -> None:
    lines = [line_from(standard(100), "STANDARD")]
    assert total(lines, {1: Override(discount_percent=Decimal("10"))}) == Decimal("2.07")


def test_s3_compatible_account_without_price_is_not_invented() -> None:
    lines = [line_from(standard(10), "STANDARD", s3_compatible=True)]
    est = estimate(lines, load_table())
    assert est.total == Decimal(0)
    (priced,) = est.unpriced
    assert priced.monthly_cost is None
    assert "no AWS price applies" in priced.note


def test_s3_compatible_account_with_tenant_price() -> None:
    lines = inventory([("k", 10 * GiB, "STANDARD")], s3_compatible=True)
    override = Override(compatible_usd_per_gb=Decimal("0.0059"))
    assert total(lines, {1: override}) == Decimal("0.059")
    # a per-class price wins over the default one; no AWS minimums for another provider
    small = inventory([("k", KiB, "STANDARD_IA")], s3_compatible=True)
    per_class = Override(
        compatible_usd_per_gb=Decimal("0.0059"),
        compatible_class_prices={"STANDARD_IA": Decimal("0.004")},
    )
    assert total(small, {1: per_class}) == Decimal(KiB) * Decimal("0.004") / Decimal(GiB)


def test_region_without_price_says_so() -> None:
    est = estimate([line_from(standard(1), "STANDARD", region="cn-north-1")], load_table())
    (priced,) = est.unpriced
    assert "cn-north-1" in priced.note and "refresh_prices" in priced.note


def test_a_class_missing_from_a_region_is_not_invented() -> None:
    """mx-central-1 is newer than the full export: its Standard tiers were not found."""
    lines = [
        line_from(standard(1), "STANDARD", region="mx-central-1"),
        line_from(ClassUsage(bytes=GiB, object_count=1), "GLACIER", region="mx-central-1"),
    ]
    est = estimate(lines, load_table())
    assert [p.usage.storage_class for p in est.unpriced] == ["STANDARD"]
    assert est.total > 0  # Glacier is priced


def test_unverified_region_is_flagged() -> None:
    est = estimate([line_from(standard(1), "STANDARD", region="eu-west-1")], load_table())
    assert est.total == Decimal("0.023")
    assert est.uses_unverified and est.unverified_regions == {"eu-west-1"}
    assert est.unverified_labels == ["eu-west-1 (prices of 2024-09-25)"]
    verified = estimate([line_from(standard(1), "STANDARD")], load_table())
    assert not verified.uses_unverified


def test_cloudwatch_overheads_are_priced_at_their_class_rate() -> None:
    # CloudWatch: StandardIAStorage 1 GiB + StandardIASizeOverhead 1 GiB -> 2 GiB x 0.0125;
    # GlacierStorage 1 GiB + GlacierObjectOverhead 1 GiB at 0.0036 + GlacierS3ObjectOverhead
    # 1 GiB at Standard's 0.023. Nothing is added from object counts on top.
    ia = ClassUsage(bytes=GiB, class_overhead_bytes=GiB)
    glacier = ClassUsage(bytes=GiB, class_overhead_bytes=GiB, standard_overhead_bytes=GiB)
    lines = [line_from(ia, "STANDARD_IA"), line_from(glacier, "GLACIER", bucket_id=2)]
    assert total(lines) == Decimal("0.025") + Decimal("0.0072") + Decimal("0.023")


def test_shares_add_up_to_the_total() -> None:
    lines = [line_from(standard(gb), "STANDARD", bucket_id=gb) for gb in (1, 7, 51190, 13)]
    est = estimate(lines, load_table())
    assert sum(p.monthly_cost for p in est.lines) == est.total  # type: ignore[misc]
    assert est.total == Decimal("1177.842")  # 51,200 x 0.023 + 11 x 0.022
