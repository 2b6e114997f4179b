"""Charts as server-rendered SVG (no script, no external asset): daily payments as bars and
revenue as a line, with a title for screen readers and the numbers beside it in a table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

WIDTH, HEIGHT, PAD = 640, 200, 28


@dataclass(frozen=True)
class Day:
    day: date
    payments: int
    revenue: int  # minor units


def _scale(value: float, top: float) -> float:
    return HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value / top if top else 0)


def daily_chart(days: list[Day], *, title: str) -> str:
    """An accessible SVG: bars for payments (left scale), a line for revenue (right scale)."""
    count = max(len(days), 1)
    step = (WIDTH - 2 * PAD) / count
    most = max((d.payments for d in days), default=0)
    richest = max((d.revenue for d in days), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="chart" aria-labelledby="chart-title"><title id="chart-title">{escape(title)}'
        "</title>",
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'class="axis"/>',
    ]
    points = []
    for i, d in enumerate(days):
        x = PAD + i * step
        top = _scale(d.payments, most)
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{top:.1f}" width="{step * 0.7:.1f}" '
            f'height="{HEIGHT - PAD - top:.1f}" class="bar"><title>{d.day}: {d.payments} '
            "payments</title></rect>"
        )
        points.append(f"{x + step / 2:.1f},{_scale(d.revenue, richest):.1f}")
    if points:
        parts.append(f'<polyline points="{" ".join(points)}" class="line" fill="none"/>')
    if days:
        parts.append(f'<text x="{PAD}" y="{HEIGHT - 8}" class="label">{days[0].day}</text>')
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" class="label" text-anchor="end">'
            f"{days[-1].day}</text>"
        )
    parts.append(f'<text x="{PAD}" y="16" class="label">most in a day: {most}</text>')
    parts.append("</svg>")
    return "".join(parts)
