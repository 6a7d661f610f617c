"""A stacked bar chart of daily cost by storage class, drawn server-side as SVG (no JS, no CDN)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 160, 16, 28
PALETTE = [
    "#2563eb",
    "#16a34a",
    "#d97706",
    "#9333ea",
    "#dc2626",
    "#0891b2",
    "#65a30d",
    "#db2777",
    "#4b5563",
    "#ca8a04",
    "#7c3aed",
    "#059669",
    "#ea580c",
]


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def stacked_svg(days: list[date], series: dict[str, dict[date, Decimal]], title: str) -> SafeString:
    """`series`: storage class -> day -> monthly cost. One bar per day, one band per class."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = [sum((s.get(d, Decimal(0)) for s in series.values()), Decimal(0)) for d in days]
    top = max(totals, default=Decimal(0)) or Decimal(1)
    bar_w = plot_w / max(len(days), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cost-chart" id="cost-chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#9ca3af"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end" font-size="11">'
        f"{_money(top)}</text>",
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="11">$0</text>',
    ]
    colours = {cls: PALETTE[i % len(PALETTE)] for i, cls in enumerate(sorted(series))}
    for i, day in enumerate(days):
        y = Decimal(TOP + plot_h)
        for cls in sorted(series):
            value = series[cls].get(day, Decimal(0))
            if value <= 0:
                continue
            h = Decimal(plot_h) * value / top
            y -= h
            parts.append(
                f'<rect class="bar" x="{LEFT + i * bar_w + 0.5:.2f}" y="{y:.2f}" '
                f'width="{max(bar_w - 1, 0.8):.2f}" height="{max(h, Decimal("0.5")):.2f}" '
                f'fill="{colours[cls]}" data-class="{escape(cls)}"><title>{day} {escape(cls)}: '
                f"{_money(value)}/month</title></rect>"
            )
    if days:
        parts.append(
            f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="11">{days[0]}</text>'
            f'<text x="{LEFT + plot_w}" y="{HEIGHT - 8}" font-size="11" text-anchor="end">'
            f"{days[-1]}</text>"
        )
    for i, cls in enumerate(sorted(series)):
        legend_y = TOP + 14 * i
        parts.append(
            f'<rect x="{WIDTH - RIGHT + 12}" y="{legend_y}" width="10" height="10" '
            f'fill="{colours[cls]}"/>'
            f'<text x="{WIDTH - RIGHT + 26}" y="{legend_y + 9}" font-size="11">{escape(cls)}</text>'
        )
    if not any(totals):
        parts.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
            'font-size="13" fill="#6b7280">No rollups yet</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated string is escaped above
