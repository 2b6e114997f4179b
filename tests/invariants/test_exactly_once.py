"""Exactly-once payment of links (reliability notes §2, T2.1, T2.3, T2.4, T2.6).

The hammer: a real `paylinks serve` (two worker processes, so two SQLite writer threads or two
PostgreSQL connection pools compete) and 4 client processes (spawn) × 50 attempts. Each attempt
makes its own token *before* a multiprocessing.Barrier; after it, every process fires its 50
`POST /charges` at once (asyncio, many in flight per process). The checks are over the whole
history, Jepsen style, not per request, and over the card network as well as the rows: the
server's test processor journals every call it receives (`PAYLINKS_TEST_PROCESSOR_JOURNAL`), and
every test asserts that the calls are exactly the charges recorded, one call each. A build that
called the processor before the claim (the losers' cards charged, their rows rolled back) fails
here even though the rows look right.

What each database can prove: on SQLite every write transaction takes the database's write lock
(`BEGIN IMMEDIATE`), so claims are serialised whatever the code does, and a check-then-act bug in
the claim cannot show up in the SQLite runs; they still prove the rows, the journal and the HTTP
answers. The PostgreSQL runs are the ones that can catch a racy claim (READ COMMITTED, real
concurrent transactions).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from factories import make_account
from servers import LiveServer, live_server

from paylinks.clock import SystemClock, to_micros
from paylinks.db import Database
from paylinks.models import charges, links

PROCESSES = 4
ATTEMPTS_PER_PROCESS = 50
ATTEMPTS = PROCESSES * ATTEMPTS_PER_PROCESS
IN_FLIGHT_PER_PROCESS = 25
AMOUNT = 100000  # THB 1,000.00

VISA_OK = "4242424242424242"
VISA_DECLINED = "4111111111140011"  # Omise: insufficient_fund

INDEX_NAME = "ux_charges_one_success_per_single_use_link"

pytestmark = pytest.mark.slow


# -- the client processes (module level: spawned children import this module) ---------------------


def _card(number: str) -> dict[str, Any]:
    return {
        "number": number,
        "name": "Exactly Once",
        "expiration_month": 12,
        "expiration_year": 2035,
        "security_code": "123",
    }


async def _make_tokens(url: str, public_key: str, numbers: list[str]) -> list[str]:
    limits = httpx.Limits(max_connections=8)
    async with httpx.AsyncClient(
        base_url=url, auth=(public_key, ""), timeout=60, limits=limits
    ) as client:

        async def one(number: str) -> str:
            response = await client.post("/tokens", json={"card": _card(number)})
            response.raise_for_status()
            token_id: str = response.json()["id"]
            return token_id

        return list(await asyncio.gather(*(one(n) for n in numbers)))


async def _pay_all(
    url: str, secret_key: str, link_id: str, numbers: list[str], tokens: list[str]
) -> list[dict[str, Any]]:
    limits = httpx.Limits(
        max_connections=IN_FLIGHT_PER_PROCESS, max_keepalive_connections=IN_FLIGHT_PER_PROCESS
    )
    async with httpx.AsyncClient(
        base_url=url, auth=(secret_key, ""), timeout=60, limits=limits
    ) as client:

        async def one(number: str, token: str) -> dict[str, Any]:
            started = time.monotonic()
            try:
                response = await client.post("/charges", json={"card": token, "link": link_id})
            except httpx.HTTPError as exc:  # indeterminate: recorded, never retried here
                return {
                    "number": number,
                    "token": token,
                    "status": None,
                    "error": repr(exc),
                    "started": started,
                    "ended": time.monotonic(),
                }
            ended = time.monotonic()
            try:
                body = response.json()
            except ValueError:
                body = {"unparsable": response.text[:200]}
            return {
                "number": number,
                "token": token,
                "status": response.status_code,
                "body": body,
                "started": started,
                "ended": ended,
            }

        results = await asyncio.gather(*(one(n, t) for n, t in zip(numbers, tokens, strict=True)))
    # Afterwards (this process's charges are all answered): is each token still unused?
    async with httpx.AsyncClient(base_url=url, auth=(secret_key, ""), timeout=60) as client:
        for result in results:
            got = await client.get(f"/tokens/{result['token']}")
            result["token_used"] = got.json().get("used") if got.status_code == 200 else None
    return list(results)


def _client_process(
    index: int,
    url: str,
    public_key: str,
    secret_key: str,
    link_id: str,
    numbers: list[str],
    barrier: Any,
    results: Any,
) -> None:
    """One client process: its tokens first, then the barrier, then all its payments at once."""
    try:
        tokens = asyncio.run(_make_tokens(url, public_key, numbers))
        barrier.wait(timeout=120)
        outcome = asyncio.run(_pay_all(url, secret_key, link_id, numbers, tokens))
        results.put((index, outcome, None))
    except BaseException as exc:
        barrier.abort()
        results.put((index, [], repr(exc)))
        raise


def hammer(server: LiveServer, link_id: str, plan: list[list[str]]) -> list[dict[str, Any]]:
    """Run `plan` (one list of card numbers per client process); every attempt's record."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(plan))
    results = ctx.Queue()
    processes = [
        ctx.Process(
            target=_client_process,
            args=(
                i,
                server.url,
                server.public_key,
                server.secret_key,
                link_id,
                numbers,
                barrier,
                results,
            ),
            daemon=True,
        )
        for i, numbers in enumerate(plan)
    ]
    for process in processes:
        process.start()
    collected: list[dict[str, Any]] = []
    errors: list[str] = []
    try:
        for _ in processes:
            index, outcome, error = results.get(timeout=180)
            if error:
                errors.append(f"client process {index}: {error}")
            collected.extend(outcome)
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
                process.join()
    assert not errors, errors
    assert len(collected) == sum(len(numbers) for numbers in plan)
    return collected


def max_in_flight(history: list[dict[str, Any]]) -> int:
    """The most attempts that were open at the same moment (monotonic clocks are system-wide)."""
    edges = sorted(
        [(r["started"], 1) for r in history] + [(r["ended"], -1) for r in history],
        key=lambda edge: (edge[0], edge[1]),
    )
    open_now = best = 0
    for _, step in edges:
        open_now += step
        best = max(best, open_now)
    return best


# -- servers and API helpers ----------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A real server with two worker processes on a fresh SQLite file, or on the session's
    PostgreSQL database (migrated by `postgres_database`; each server makes its own account)."""
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'paylinks.db'}"
    else:
        request.getfixturevalue("postgres_database")
        database_url = request.getfixturevalue("postgres_url")
    with live_server(database_url, workers=2) as live:
        yield live


def assert_one_call_per_charge(server: LiveServer, link_id: str) -> None:
    """The card network was asked exactly once for every charge recorded on the link (successful
    or failed), and never for anything else."""
    stored = {c["id"]: c for c in all_link_charges(server, link_id)}
    calls = server.processor_calls()
    called = Counter(call.charge_id for call in calls)
    assert called == Counter(stored.keys()), (
        f"{len(calls)} processor calls for {len(stored)} recorded charges; "
        f"calls without a charge: {sorted(set(called) - set(stored))[:3]}"
    )
    for call in calls:
        assert (call.amount, call.currency) == (stored[call.charge_id]["amount"], "thb")


def api(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=(server.secret_key, ""), timeout=30)


def create_link(server: LiveServer, **fields: Any) -> dict[str, Any]:
    body = {"amount": AMOUNT, "currency": "thb", "title": "Hammered", **fields}
    with api(server) as client:
        response = client.post("/links", json=body)
    assert response.status_code == 200, response.text
    link: dict[str, Any] = response.json()
    return link


def link_and_charges(server: LiveServer, link_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    with api(server) as client:
        link = client.get(f"/links/{link_id}")
        listed = client.get(f"/links/{link_id}/charges", params={"limit": 100})
    assert link.status_code == 200 and listed.status_code == 200
    return link.json(), listed.json()


def all_link_charges(server: LiveServer, link_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    with api(server) as client:
        while True:
            page = client.get(
                f"/links/{link_id}/charges", params={"limit": 100, "offset": len(found)}
            ).json()
            found.extend(page["data"])
            if not page["data"] or len(found) >= page["total"]:
                return found


def same_plan(number: str) -> list[list[str]]:
    return [[number] * ATTEMPTS_PER_PROCESS for _ in range(PROCESSES)]


def interleaved_plan() -> list[list[str]]:
    """Declines and good cards alternate in every process (the first process starts with a
    decline, the next with a good card, ...), so declines race the winning payment."""
    return [
        [VISA_DECLINED if (i + p) % 2 == 0 else VISA_OK for i in range(ATTEMPTS_PER_PROCESS)]
        for p in range(PROCESSES)
    ]


@dataclass
class Tally:
    history: list[dict[str, Any]]

    @property
    def statuses(self) -> Counter[int | None]:
        return Counter(r["status"] for r in self.history)

    def successes(self) -> list[dict[str, Any]]:
        return [
            r for r in self.history if r["status"] == 200 and r["body"]["status"] == "successful"
        ]

    def failed_charges(self) -> list[dict[str, Any]]:
        return [r for r in self.history if r["status"] == 200 and r["body"]["status"] == "failed"]

    def not_payable(self) -> list[dict[str, Any]]:
        return [
            r
            for r in self.history
            if r["status"] == 400 and r["body"].get("code") == "link_not_payable"
        ]

    def assert_clean(self) -> None:
        """No transport errors, no 5xx, nothing but 200 or the documented 400."""
        broken = [r for r in self.history if r["status"] is None or r["status"] >= 500]
        assert not broken, broken[:3]
        unexpected = [
            r
            for r in self.history
            if r["status"] != 200
            and not (r["status"] == 400 and r["body"].get("code") == "link_not_payable")
        ]
        assert not unexpected, unexpected[:3]
        # The harness really hammered: many attempts were open at once.
        assert max_in_flight(self.history) >= 2 * PROCESSES


# -- T2.1: one single-use link, 200 concurrent payments -------------------------------------------


def test_single_use_link_is_paid_exactly_once(server: LiveServer) -> None:
    link = create_link(server)
    tally = Tally(hammer(server, link["id"], same_plan(VISA_OK)))
    tally.assert_clean()

    winners = tally.successes()
    assert len(winners) == 1, tally.statuses
    assert tally.statuses == {200: 1, 400: ATTEMPTS - 1}
    assert len(tally.not_payable()) == ATTEMPTS - 1
    # Turned away while the winner's card was with the processor, or after it was paid.
    assert all(
        "already been paid" in r["body"]["message"] or "in progress" in r["body"]["message"]
        for r in tally.not_payable()
    )
    charge = winners[0]["body"]
    assert charge["paid"] is True and charge["link"] == link["id"]
    assert (charge["amount"], charge["currency"]) == (AMOUNT, "thb")

    after, listed = link_and_charges(server, link["id"])
    assert after["used"] is True and after["used_at"] is not None and after["active"] is False
    # The processor ran for that one payment alone: every other attempt was turned away by the
    # claim, before the processor.
    assert_one_call_per_charge(server, link["id"])
    assert len(server.processor_calls()) == 1
    assert listed["total"] == 1
    assert [c["id"] for c in listed["data"]] == [charge["id"]]
    assert listed["data"][0]["status"] == "successful"
    assert after["charges"]["total"] == 1
    # The losers left no trace at all: their tokens were never consumed (the token is consumed
    # after the claim and before the processor, in the same rolled-back transaction).
    used_tokens = [r for r in tally.history if r["token_used"]]
    assert used_tokens == winners


# -- T2.3: a multi-use link takes every payment, no lost counter updates --------------------------


def test_multi_use_link_takes_every_concurrent_payment(server: LiveServer) -> None:
    link = create_link(server, multiple=True)
    tally = Tally(hammer(server, link["id"], same_plan(VISA_OK)))
    tally.assert_clean()

    assert tally.statuses == {200: ATTEMPTS}
    assert len(tally.successes()) == ATTEMPTS
    after, listed = link_and_charges(server, link["id"])
    assert listed["total"] == ATTEMPTS and after["charges"]["total"] == ATTEMPTS
    assert after["used"] is False and after["active"] is True
    stored = all_link_charges(server, link["id"])
    assert {c["id"] for c in stored} == {r["body"]["id"] for r in tally.successes()}
    assert all(c["status"] == "successful" for c in stored)
    assert_one_call_per_charge(server, link["id"])


def test_usage_limit_is_never_exceeded(server: LiveServer) -> None:
    limit = 50
    link = create_link(server, multiple=True, usage_limit=limit)
    tally = Tally(hammer(server, link["id"], same_plan(VISA_OK)))
    tally.assert_clean()

    assert len(tally.successes()) == limit, tally.statuses
    assert len(tally.not_payable()) == ATTEMPTS - limit
    assert all(
        "usage limit" in r["body"]["message"] or "in progress" in r["body"]["message"]
        for r in tally.not_payable()
    )
    after, listed = link_and_charges(server, link["id"])
    assert listed["total"] == limit and after["active"] is False
    stored = all_link_charges(server, link["id"])
    assert sorted(c["id"] for c in stored) == sorted(r["body"]["id"] for r in tally.successes())
    assert_one_call_per_charge(server, link["id"])


# -- T2.4: declines race the payment and never consume the link -----------------------------------


def test_declines_interleaved_with_payments_leave_at_most_one_success(
    server: LiveServer,
) -> None:
    """Declines hold the link while the processor answers, so a good card that arrives then is
    told a payment is in progress; it may happen that every good card met a decline holding the
    link. So: at most one success, and the link is paid exactly when there is one."""
    link = create_link(server)
    tally = Tally(hammer(server, link["id"], interleaved_plan()))
    tally.assert_clean()

    winners = tally.successes()
    assert len(winners) <= 1, tally.statuses
    assert all(w["number"] == VISA_OK for w in winners)
    # A decline is a failed charge (200) when it claimed the free link, or link_not_payable while
    # the link was held or once it was paid; it is never a success, and a good card only ever
    # succeeds or is turned away.
    for record in tally.failed_charges():
        assert record["number"] == VISA_DECLINED
        assert record["body"]["failure_code"] == "insufficient_fund"
    assert len(winners) + len(tally.failed_charges()) + len(tally.not_payable()) == ATTEMPTS

    after, listed = link_and_charges(server, link["id"])
    assert after["used"] is bool(winners) and after["active"] is not bool(winners)
    # Every processor call left its row: the success, if any, and every decline that got through.
    assert listed["total"] == len(winners) + len(tally.failed_charges())
    stored = Counter(c["status"] for c in all_link_charges(server, link["id"]))
    assert stored["successful"] == len(winners)
    assert stored["failed"] == len(tally.failed_charges())
    assert sum(stored.values()) == listed["total"]
    assert_one_call_per_charge(server, link["id"])


def test_concurrent_declines_never_consume_the_link(server: LiveServer) -> None:
    link = create_link(server)
    tally = Tally(hammer(server, link["id"], same_plan(VISA_DECLINED)))
    tally.assert_clean()

    # A decline holds the link from its claim until the processor's answer is recorded, then
    # gives it back: attempts meanwhile are told a payment is in progress, never that the link
    # was paid, and every attempt is one or the other.
    failed, refused = tally.failed_charges(), tally.not_payable()
    assert failed and len(failed) + len(refused) == ATTEMPTS
    assert all("in progress" in r["body"]["message"] for r in refused), {
        r["body"]["message"] for r in refused
    }
    after, listed = link_and_charges(server, link["id"])
    assert after["used"] is False and after["used_at"] is None and after["active"] is True
    assert listed["total"] == len(failed)
    assert_one_call_per_charge(server, link["id"])
    # Only attempts that got the claim consumed their token.
    assert [r for r in tally.history if r["token_used"]] == failed

    with httpx.Client(base_url=server.url, timeout=30) as client:
        token = client.post(
            "/tokens", auth=(server.public_key, ""), json={"card": _card(VISA_OK)}
        ).json()["id"]
        paid = client.post(
            "/charges", auth=(server.secret_key, ""), json={"card": token, "link": link["id"]}
        )
    assert paid.status_code == 200 and paid.json()["status"] == "successful"
    after, listed = link_and_charges(server, link["id"])
    assert after["used"] is True and listed["total"] == len(failed) + 1
    assert_one_call_per_charge(server, link["id"])


# -- T2.6: the database itself forbids a second success -------------------------------------------


def test_partial_unique_index_exists(db: Database) -> None:
    with db.snapshot() as conn:
        if db.is_sqlite:
            sql = conn.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"),
                {"name": INDEX_NAME},
            ).scalar_one()
        else:
            sql = conn.execute(
                sa.text(
                    "SELECT indexdef FROM pg_indexes "
                    "WHERE tablename = 'charges' AND indexname = :name"
                ),
                {"name": INDEX_NAME},
            ).scalar_one()
    normalised = " ".join(sql.split()).lower()
    assert normalised.startswith("create unique index")
    assert "(link_pk)" in normalised
    where = normalised.split(" where ", 1)[1]
    assert "single_use_link" in where and "status" in where and "'successful'" in where


def _insert_link(conn: sa.Connection, account_pk: int, *, multiple: bool) -> int:
    now = to_micros(SystemClock().now())
    return int(
        conn.execute(
            links.insert()
            .values(
                id=f"link_test_{uuid.uuid4().hex[:24]}",
                account_pk=account_pk,
                livemode=False,
                amount=AMOUNT,
                currency="thb",
                title="Direct SQL",
                multiple=multiple,
                created_at=now,
            )
            .returning(links.c.pk)
        ).scalar_one()
    )


def _insert_charge(conn: sa.Connection, account_pk: int, link_pk: int, **values: Any) -> None:
    now = to_micros(SystemClock().now())
    conn.execute(
        charges.insert().values(
            id=f"chrg_test_{uuid.uuid4().hex[:24]}",
            account_pk=account_pk,
            livemode=False,
            amount=AMOUNT,
            currency="thb",
            link_pk=link_pk,
            created_at=now,
            **values,
        )
    )


def test_second_successful_charge_on_a_single_use_link_violates_the_index(db: Database) -> None:
    account = make_account(db, "Direct SQL")
    with db.transaction() as conn:
        single = _insert_link(conn, account.pk, multiple=False)
        multi = _insert_link(conn, account.pk, multiple=True)
        # Failed attempts may pile up on a single-use link; successes on a multi-use link too.
        for _ in range(3):
            _insert_charge(conn, account.pk, single, status="failed", single_use_link=True)
            _insert_charge(conn, account.pk, multi, status="successful", single_use_link=False)
        _insert_charge(conn, account.pk, single, status="successful", single_use_link=True)

    with pytest.raises(sa.exc.IntegrityError) as caught, db.transaction() as conn:
        _insert_charge(conn, account.pk, single, status="successful", single_use_link=True)
    message = str(caught.value)
    if db.is_sqlite:
        assert "UNIQUE constraint failed: charges.link_pk" in message
    else:
        assert INDEX_NAME in message

    with db.snapshot() as conn:
        counts = dict(
            conn.execute(
                sa.select(charges.c.status, sa.func.count())
                .where(charges.c.link_pk == single)
                .group_by(charges.c.status)
            ).all()
        )
    assert counts == {"failed": 3, "successful": 1}
