"""Charts as server-rendered SVG (no script, no external asset): daily payments as bars on the
left scale and revenue as a line on the right scale (in one currency), dates along the bottom,
with a title for screen readers and each bar's numbers in its tooltip.

The SVG scales to its box (a viewBox, no fixed size), so the same drawing serves a phone and a
desktop; the stylesheets draw its labels larger on a narrow screen (`svg.chart .label`), and the
margins below leave room for labels of that size."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from babel.numbers import get_currency_symbol

from paylinks.money import NARROW_SYMBOLS, format_money, parse_currency

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 88, 16, 36  # room for the count, revenue and date labels
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
DATE_LABELS = 4


@dataclass(frozen=True)
class Day:
    day: date
    payments: int
    revenue: int  # minor units


def ticks(top: float, *, whole: bool) -> list[float]:
    """Round values from 0 to at least `top` for an axis, at most five, 1-2-5 apart (whole
    numbers for counts)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if whole:
        step = max(1.0, float(math.ceil(step)))
    count = math.ceil(top / step - 1e-9)
    return [i * step for i in range(count + 1)]


def axis_money(major: float, currency: str) -> str:
    """An axis label: short, with the currency's symbol ("฿2.5k", "$300", "SGD 1M")."""
    code = currency.upper()
    symbol = NARROW_SYMBOLS.get(currency.lower()) or get_currency_symbol(code, locale="en")
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k"), (1, "")):
        if abs(major) >= size or size == 1:
            number = f"{major / size:.3g}{suffix}"
            break
    return f"{symbol} {number}" if symbol[-1].isalpha() else f"{symbol}{number}"


def _y(value: float, top: float) -> float:
    return TOP + PLOT_HEIGHT * (1 - (value / top if top else 0))


def _date_label(day: date) -> str:
    return f"{day.day} {day:%b}"


def _bar_title(d: Day, currency: str | None) -> str:
    said = f"{d.day}: {d.payments} payment{'' if d.payments == 1 else 's'}"
    return f"{said}, {format_money(d.revenue, currency, 'en')}" if currency else said


def _count_axis(most: int) -> tuple[list[str], float]:
    marks = ticks(most, whole=True)
    parts = []
    for value in marks:
        y = _y(value, marks[-1])
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y:.1f}" dy=".35em" class="label" text-anchor="end">'
            f"{int(value)}</text>"
        )
    return parts, marks[-1]


def _revenue_axis(richest: int, currency: str) -> tuple[list[str], float]:
    """The right scale, in major units of `currency`; its top in minor units."""
    unit = 10 ** parse_currency(currency).exponent
    marks = ticks(richest / unit, whole=False)
    parts = [
        f'<text x="{WIDTH - RIGHT + 6}" y="{_y(v, marks[-1]):.1f}" dy=".35em" '
        f'class="label revenue">{escape(axis_money(v, currency))}</text>'
        for v in marks
    ]
    return parts, marks[-1] * unit


def _date_axis(days: list[Day], step: float) -> list[str]:
    count = len(days)
    shown = sorted({round(i * (count - 1) / (DATE_LABELS - 1)) for i in range(DATE_LABELS)})
    return [
        f'<text x="{LEFT + (i + 0.5) * step:.1f}" y="{HEIGHT - 8}" class="label" '
        f'text-anchor="middle">{_date_label(days[i].day)}</text>'
        for i in shown
        if i < count
    ]


def daily_chart(days: list[Day], *, title: str, currency: str | None = None) -> str:
    """An accessible SVG: bars for payments (left scale), and, when `currency` is given, a line
    for revenue in it (right scale, amounts in that currency); dates below."""
    step = PLOT_WIDTH / max(len(days), 1)
    count_axis, most = _count_axis(max((d.payments for d in days), default=0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="chart" aria-labelledby="chart-title"><title id="chart-title">{escape(title)}'
        "</title>",
        *count_axis,
    ]
    for i, d in enumerate(days):
        x, top = LEFT + i * step, _y(d.payments, most)
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{top:.1f}" width="{step * 0.7:.1f}" '
            f'height="{TOP + PLOT_HEIGHT - top:.1f}" class="bar"><title>'
            f"{escape(_bar_title(d, currency))}</title></rect>"
        )
    if currency is not None and days:
        revenue_axis, richest = _revenue_axis(max(d.revenue for d in days), currency)
        points = " ".join(
            f"{LEFT + (i + 0.5) * step:.1f},{_y(d.revenue, richest):.1f}"
            for i, d in enumerate(days)
        )
        parts += [*revenue_axis, f'<polyline points="{points}" class="line" fill="none"/>']
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + PLOT_HEIGHT}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + PLOT_HEIGHT}" class="axis"/>'
    )
    parts += _date_axis(days, step)
    parts.append("</svg>")
    return "".join(parts)
