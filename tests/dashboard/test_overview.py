"""The overview, on both backends: revenue as its largest figure, the period's payments, failed
payments and refunds, correct plurals, the "New link" button, and a chart with labelled axes
(counts on the left, revenue in its currency on the right, dates below) that scales to its box.
The scale's arithmetic is checked on its own at the end."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import pytest
from factories import VISA_NO_FUNDS, TestAccount, auth, link, pay, sign_in

from paylinks.clock import FrozenClock
from paylinks.dashboard.charts import Day, axis_money, daily_chart, ticks
from paylinks.db import Database
from paylinks.models import links

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - the app's own SVG, not untrusted input


def the_chart(page: str) -> ET.Element:
    found = re.search(r"<svg .*?</svg>", page, re.S)
    assert found is not None, "no chart"
    return parse(found.group(0))


def labels(chart: ET.Element, kind: str = "label") -> list[str]:
    return [t.text or "" for t in chart.iter(f"{SVG}text") if t.get("class") == kind]


def test_the_period_counts_revenue_payments_failures_and_refunds(
    make_client: Any, account: TestAccount, db: Database
) -> None:
    clock = FrozenClock(datetime(2026, 6, 10, 9, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    old = link(client, account, title="Last month", amount=70000)
    pay(client, account, old["id"])  # 20 days before the page: in 30 days, not in 7
    clock.advance(20 * 86400)
    sign_in(client, account.test.secret_key)  # a session would have expired meanwhile
    mug = link(client, account, title="Mug", multiple=True, amount=150000)
    cup = link(client, account, title="Cup", multiple=True, amount=50000)
    paid = pay(client, account, mug["id"]).json()
    pay(client, account, mug["id"])
    pay(client, account, cup["id"])
    assert pay(client, account, cup["id"], VISA_NO_FUNDS).json()["status"] == "failed"
    refunded = client.post(
        f"/charges/{paid['id']}/refunds", auth=auth(account.test.secret_key), json={"amount": 25000}
    )
    assert refunded.status_code == 200, refunded.text
    with db.transaction() as conn:
        for made, views in ((mug, 4), (cup, 1)):
            conn.execute(links.update().where(links.c.id == made["id"]).values(views=views))
    week = client.get("/dashboard", params={"days": "7"}).text
    # Revenue first, in the page's largest type (dashboard.css: larger than the heading).
    assert '<p class="headline-figure">฿3,500.00</p>' in week
    assert week.index("headline-figure") < week.index("Successful payments")
    assert "<dt>Successful payments</dt><dd>3 payments</dd>" in week
    assert "<dt>Failed payments</dt><dd>1 payment</dd>" in week
    assert "<dt>Refunds</dt><dd>1 refund · ฿250.00</dd>" in week
    assert "฿3,000.00 · 2 payments</span>" in week  # the mug, ranked by revenue
    assert "฿500.00 · 1 payment</span>" in week  # the cup: one successful, one failed
    assert "of 4 views</span>" in week and "of 1 view</span>" in week
    month = client.get("/dashboard", params={"days": "30"}).text
    assert '<p class="headline-figure">฿4,200.00</p>' in month
    assert "<dd>4 payments</dd>" in month


def test_an_empty_overview_says_so_in_the_singular_and_plural(
    make_client: Any, account: TestAccount
) -> None:
    client = make_client()
    sign_in(client, account.test.secret_key)
    page = client.get("/dashboard").text
    assert '<p class="headline-figure">—' in page
    assert "<dd>0 payments</dd>" in page and "<dd>0 refunds</dd>" in page
    assert '<a class="button primary" href="/dashboard/links/new">New link</a>' in page
    assert client.get("/dashboard/links/new").status_code == 200  # where the button goes
    chart = the_chart(page)
    assert labels(chart, "label revenue") == []  # no revenue: no money scale to draw
    assert [t for t in labels(chart) if t.isdigit()] == ["0", "1"]


def test_the_chart_has_axes_with_units_and_scales_to_its_box(
    make_client: Any, account: TestAccount
) -> None:
    clock = FrozenClock(datetime(2026, 6, 30, 9, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    sign_in(client, account.test.secret_key)
    made = link(client, account, multiple=True, amount=1250000)
    for _ in range(3):
        pay(client, account, made["id"])
    chart = the_chart(client.get("/dashboard", params={"days": "30"}).text)
    assert chart.get("viewBox") == "0 0 640 240"
    assert chart.get("width") is None and chart.get("height") is None  # the CSS sizes it
    assert len([r for r in chart.iter(f"{SVG}rect") if r.get("class") == "bar"]) == 30
    counts = [t for t in labels(chart) if t.isdigit()]
    assert counts[0] == "0" and int(counts[-1]) >= 3  # the count scale reaches the busiest day
    money = labels(chart, "label revenue")
    assert money[0] == "฿0" and money[-1] == "฿40k"  # ฿37,500 on the day, rounded up
    dates = [t for t in labels(chart) if re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", t)]
    assert dates[0] == "1 Jun" and dates[-1] == "30 Jun" and len(dates) == 4


@pytest.mark.parametrize(
    ("top", "whole", "expected"),
    [
        (0, True, [0, 1]),
        (3, True, [0, 1, 2, 3]),
        (17, True, [0, 5, 10, 15, 20]),
        (1, True, [0, 1]),
        (375, False, [0, 100, 200, 300, 400]),
        (5000, False, [0, 2000, 4000, 6000]),
    ],
)
def test_ticks_are_round_and_reach_the_top(top: float, whole: bool, expected: list[int]) -> None:
    assert ticks(top, whole=whole) == expected


def test_axis_amounts_are_short_and_carry_the_currency() -> None:
    assert [axis_money(v, "thb") for v in (0, 500, 2500, 1_500_000)] == [
        "฿0",
        "฿500",
        "฿2.5k",
        "฿1.5M",
    ]
    assert axis_money(2000, "usd") == "$2k"
    assert axis_money(2000, "sgd") == "SGD 2k"  # a code, not a sign: spaced from the number


def test_a_chart_without_a_currency_draws_no_revenue_scale() -> None:
    days = [Day(datetime(2026, 1, d, tzinfo=UTC).date(), d % 3, 10000 * d) for d in range(1, 8)]
    drawn = parse(daily_chart(days, title="Seven days"))
    assert labels(drawn, "label revenue") == [] and not list(drawn.iter(f"{SVG}polyline"))
    with_money = parse(daily_chart(days, title="Seven days", currency="thb"))
    assert labels(with_money, "label revenue")[-1] == "฿800"  # ฿700 at most, rounded up
