"""No card data kept (reliability notes §4: T4.1 canary grep, T4.4 keyed fingerprint, T4.6).

One real `paylinks serve` per backend (two workers, debug logging, its log in a file we keep)
on a database of its own: a fresh SQLite file, or a fresh PostgreSQL database. Every card path
is driven once — tokens and successful charges, a decline, validation errors, per-run canary
numbers that are not test cards, a forced 500 — and then the database (SQLite: the bytes of
`paylinks.db`, `-wal`, `-shm`; both: every row of every table), the server log and every
response are searched for the numbers (plain, spaced, dashed, form-encoded) and for the
security codes next to a card field.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import re
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from servers import BIN, create_account_keys, free_port, paylinks

from paylinks.db import normalise_url
from paylinks.processors.sandbox import TEST_CARDS

pytestmark = pytest.mark.slow

VISA_OK = "4242424242424242"
VISA_OK_CODE = "357"
AMEX_OK = "378282246310005"
AMEX_OK_CODE = "9731"  # an unusual code: four digits, only American Express has them
MASTERCARD_OK = "5555555555554444"
VISA_DECLINED = "4111111111140011"  # Omise: insufficient_fund
BAD_LUHN = "4242424242424241"
AMOUNT = 100000

RNG = random.SystemRandom()


# -- numbers and their written forms --------------------------------------------------------------


def luhn_weight(digit: int, *, doubled: bool) -> int:
    return (2 * digit - 9 if digit > 4 else 2 * digit) if doubled else digit


def luhn_total(number: str) -> int:
    """The Luhn sum: from the right, every second digit (starting with the second) doubled."""
    return sum(luhn_weight(int(c), doubled=i % 2 == 1) for i, c in enumerate(reversed(number)))


def luhn_check_digit(body: str) -> str:
    return str(-luhn_total(body + "0") % 10)


def canary(prefix: str, length: int) -> str:
    """A fresh Luhn-valid number of a supported brand that is not one of Omise's test cards."""
    while True:
        body = prefix + "".join(RNG.choice("0123456789") for _ in range(length - 1 - len(prefix)))
        number = body + luhn_check_digit(body)
        # Amounts and their sums (100000, 205000 …) end in "000": a canary without "000" cannot
        # share a six-digit run with one, which the check for echoed digits would call a leak.
        if number not in TEST_CARDS and "000" not in number:
            return number


def grouped(number: str) -> list[list[str]]:
    """How people split a number: in fours, and American Express's 4-6-5."""
    fours = [number[i : i + 4] for i in range(0, len(number), 4)]
    groups = [fours]
    if len(number) == 15:
        groups.append([number[:4], number[4:10], number[10:]])
    return groups


def written_forms(number: str) -> set[bytes]:
    forms = {number}
    for groups in grouped(number):
        for sep in (" ", "-", "+", "%20", "%2D"):
            forms.add(sep.join(groups))
        if len(groups) > 2:
            forms.add(f"{groups[0]}-{groups[1]} {' '.join(groups[2:])}")
    return {form.encode() for form in forms}


def code_near_card_field(code: str) -> re.Pattern[bytes]:
    """The security code as the value of a card-ish field: JSON, form, repr, log line."""
    field_names = rb"(?:security[_ ]?code|cvv2?|cvc2?|csc|card_code|cid)"
    between = rb"(?:%5[Dd]|%22|%3[Aa]|[^0-9A-Za-z]){0,12}"
    return re.compile(rb"(?i)" + field_names + between + code.encode() + rb"(?![0-9])")


@dataclass
class Secrets:
    """Everything that must never be kept: every number sent (valid or not) and every code."""

    numbers: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)

    def leaks(self, blob: bytes, where: str) -> list[str]:
        found = []
        for number in sorted(self.numbers):
            for form in sorted(written_forms(number)):
                if form in blob:
                    at = blob.index(form)
                    found.append(f"{where}: {form!r} near {blob[max(0, at - 80) : at + 80]!r}")
        for code in sorted(self.codes):
            match = code_near_card_field(code).search(blob)
            if match:
                found.append(f"{where}: security code {code} in {match.group(0)!r}")
        return found


# -- a server whose log we keep -------------------------------------------------------------------


@dataclass
class LoggedServer:
    url: str
    public_key: str
    secret_key: str
    database_url: str
    log: Path
    process: subprocess.Popen[bytes]


@contextmanager
def logged_server(database_url: str, log: Path) -> Iterator[LoggedServer]:
    """`paylinks serve` as tests/servers.py runs it, but with debug logging and its log kept."""
    port = free_port()
    keys = create_account_keys(database_url, name="Card data")
    env = {
        **os.environ,
        "PAYLINKS_RATE_LIMITS": "off",
        "PAYLINKS_MAX_ACTIVE_LINKS": "0",
        "PAYLINKS_LOG_LEVEL": "debug",
    }
    env.pop("PAYLINKS_SECRET", None)  # the fingerprint key is then the one kept in the database
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *(str(BIN / "paylinks"), "serve", "--port", str(port)),
                *("--database-url", database_url, "--workers", "2"),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()[-2000:]
            try:
                httpx.get(f"{url}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "paylinks serve did not start"
                time.sleep(0.1)
        yield LoggedServer(url, keys["public_key"], keys["secret_key"], database_url, log, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- driving every path ---------------------------------------------------------------------------


@dataclass
class Exchange:
    label: str
    method: str
    path: str
    status: int
    body: bytes
    headers: bytes
    expect: tuple[int, str | None]  # (status, error code or charge status)
    misuse: bool = False  # a number sent where a token id belongs

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def outcome(self) -> str | None:
        data = self.json()
        if self.status != 200:
            return str(data.get("code"))
        return str(data.get("status")) if data.get("object") == "charge" else None


@dataclass
class Scene:
    engine: str
    server: LoggedServer
    secrets: Secrets
    exchanges: list[Exchange]
    data_dir: Path | None
    files_while_running: dict[str, bytes]
    files_after_stop: dict[str, bytes]
    tables: dict[str, list[str]]  # table -> every row as JSON text
    instance_key: bytes | None
    canaries: dict[str, str]


class Recorder:
    """Sends requests and keeps every exchange, with what each one should answer."""

    def __init__(self, server: LoggedServer, secrets: Secrets) -> None:
        self.server = server
        self.secrets = secrets
        self.exchanges: list[Exchange] = []
        self.http = httpx.Client(base_url=server.url, timeout=30)

    def call(
        self,
        label: str,
        method: str,
        path: str,
        *,
        key: str = "secret",
        expect: tuple[int, str | None] = (200, None),
        misuse: bool = False,
        **kwargs: Any,
    ) -> Any:
        secret = self.server.secret_key if key == "secret" else self.server.public_key
        response = self.http.request(method, path, auth=(secret, ""), **kwargs)
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items()).encode()
        exchange = Exchange(
            label, method, path, response.status_code, response.content, headers, expect, misuse
        )
        self.exchanges.append(exchange)
        return exchange.json()

    def token(
        self,
        label: str,
        number: str,
        code: str | None,
        *,
        form: bool = False,
        expect: tuple[int, str | None] = (200, None),
        **card_fields: Any,
    ) -> Any:
        """POST /tokens (JSON, or a form as the SDKs send it); the number and code are secrets."""
        self.secrets.numbers.add(re.sub(r"[ \-]", "", number))
        if code:
            self.secrets.codes.add(code)
        fields = card(number, code, **card_fields)
        if form:
            data = {f"card[{k}]": str(v) for k, v in fields.items()}
            return self.call(label, "POST", "/tokens", key="public", data=data, expect=expect)
        return self.call(
            label, "POST", "/tokens", key="public", json={"card": fields}, expect=expect
        )

    def charge(
        self, label: str, *, form: bool = False, expect: tuple[int, str | None], **body: Any
    ) -> Any:
        payload = {"data": body} if form else {"json": body}
        return self.call(label, "POST", "/charges", expect=expect, **payload)


def card(number: str, code: str | None, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "number": number,
        "name": "Canary Holder",
        "expiration_month": 12,
        "expiration_year": 2035,
        **overrides,
    }
    if code is not None:
        fields["security_code"] = code
    return fields


def random_code(length: int, *, shown: Iterable[str] = ()) -> str:
    """A security code that no card object can show for another reason: never a year (a
    card's `expiration_year`) nor one of `shown` (the last four digits of the numbers in use),
    so that finding it in a card object means the code itself leaked."""
    while True:
        code = "".join(RNG.choice("0123456789") for _ in range(length))
        if code[:2] not in ("19", "20") and code not in set(shown):
            return code


PAID = (200, "successful")
INVALID = (400, "invalid_card")
LIVE_CARD = (400, "test_mode_live_card")


def drive_every_path(rec: Recorder, canaries: dict[str, str]) -> None:
    links = {}
    for name, fields in {"single": {}, "single2": {}, "multi": {"multiple": True}}.items():
        body = {"amount": AMOUNT, "currency": "thb", "title": f"Card data {name}", **fields}
        links[name] = rec.call(f"create {name} link", "POST", "/links", json=body)["id"]

    # Success: a token, then a successful charge (through a link and without one).
    visa = rec.token("visa token", VISA_OK, VISA_OK_CODE)
    amex = rec.token("amex token (4-digit code)", AMEX_OK, AMEX_OK_CODE)
    master = rec.token("mastercard token (form)", MASTERCARD_OK, random_code(3), form=True)
    dashed = rec.token("visa with dashes and spaces", "4242-4242 4242 4242", random_code(3))
    short_year = rec.token(
        "visa, 2-digit year (form)", VISA_OK, VISA_OK_CODE, form=True, expiration_year=35
    )
    rec.charge("pay single-use link", card=visa["id"], link=links["single"], expect=PAID)
    rec.charge("amex, no link", card=amex["id"], amount=5000, currency="usd", expect=PAID)
    rec.charge(
        "pay multi-use link (form)", card=master["id"], link=links["multi"], form=True, expect=PAID
    )
    rec.charge("pay multi-use link, dashed", card=dashed["id"], link=links["multi"], expect=PAID)
    rec.charge("pay multi-use link, 2-digit year", card=short_year["id"], link=links["multi"],
               expect=PAID)  # fmt: skip

    # Decline: a failed charge (the link stays payable).
    declined = rec.token("declined card token", VISA_DECLINED, random_code(3))
    rec.charge(
        "declined charge", card=declined["id"], link=links["single2"], expect=(200, "failed")
    )

    # Errors after tokenisation: a used token, a paid link.
    rec.charge(
        "reuse a used token", card=visa["id"], link=links["single2"], expect=(400, "used_token")
    )
    again = rec.token("second visa token", VISA_OK, VISA_OK_CODE)
    rec.charge("pay a paid single-use link", card=again["id"], link=links["single"],
               expect=(400, "link_not_payable"))  # fmt: skip

    # Validation errors: nothing may be kept of these either.
    rec.token("expired test card", VISA_OK, VISA_OK_CODE, expiration_year=2020, expect=INVALID)
    rec.token("month 13", AMEX_OK, AMEX_OK_CODE, expiration_month=13, expect=INVALID)
    rec.token("bad Luhn", BAD_LUHN, VISA_OK_CODE, expect=INVALID)
    rec.token("bad Luhn, dashes and spaces (form)", "4242-4242 4242 4241", VISA_OK_CODE,
              form=True, expect=INVALID)  # fmt: skip
    rec.token("4-digit code on a visa", VISA_OK, AMEX_OK_CODE, expect=INVALID)
    rec.token("3-digit code on an amex", AMEX_OK, VISA_OK_CODE, expect=INVALID)
    rec.token("letters in the code", VISA_OK, "35x", expect=INVALID)
    rec.token("letters in the number", "4242x4242 4242 4242", VISA_OK_CODE, expect=INVALID)
    rec.token("too short", canaries["visa"][:11], VISA_OK_CODE, expect=INVALID)
    rec.token("too long", canaries["visa"] + "0000", VISA_OK_CODE, expect=INVALID)
    rec.token("no name", VISA_OK, VISA_OK_CODE, name="", expect=INVALID)
    rec.token("unsupported brand", canary("9", 16), VISA_OK_CODE, expect=INVALID)
    broken = canaries["visa"][:-1] + str((int(canaries["visa"][-1]) + 1) % 10)
    rec.token("canary, broken check digit", broken, random_code(3), expect=INVALID)

    # T4.6: real-looking numbers are refused in test mode, however they are written.
    rec.token("canary visa", canaries["visa"], canaries["visa_code"], expect=LIVE_CARD)
    rec.token("canary mastercard (form)", canaries["mastercard"], canaries["mastercard_code"],
              form=True, expect=LIVE_CARD)  # fmt: skip
    rec.token("canary amex", canaries["amex"], canaries["amex_code"], expect=LIVE_CARD)
    spaced = " ".join(grouped(canaries["visa"])[0])
    rec.token("canary visa, spaces", spaced, canaries["visa_code"], expect=LIVE_CARD)
    amex_canary = canaries["amex"]
    amex_written = f"{amex_canary[:4]}-{amex_canary[4:10]} {amex_canary[10:]}"
    rec.token("canary amex, 4-6-5", amex_written, canaries["amex_code"], expect=LIVE_CARD)

    # Misuse: a number where a token id belongs (its responses are checked by a test below).
    rec.call("canary sent as the charge's card", "POST", "/charges",
             json={"card": canaries["visa"], "amount": 5000, "currency": "thb"},
             expect=(400, "invalid_card_token"), misuse=True)  # fmt: skip
    rec.call("canary as a token id", "GET", f"/tokens/{canaries['visa']}", key="public",
             expect=(404, "not_found"), misuse=True)  # fmt: skip

    # Everything readable afterwards.
    for tok in (visa, amex, master, dashed, short_year, declined, again):
        rec.call(f"retrieve {tok['id']}", "GET", f"/tokens/{tok['id']}", key="public")
    for link_id in links.values():
        rec.call(f"retrieve {link_id}", "GET", f"/links/{link_id}")
        rec.call(f"charges of {link_id}", "GET", f"/links/{link_id}/charges")
    listed = rec.call("list charges", "GET", "/charges", params={"limit": 100})
    for charge in listed["data"]:
        rec.call(f"retrieve {charge['id']}", "GET", f"/charges/{charge['id']}")
    rec.call("list links", "GET", "/links")


def force_server_errors(rec: Recorder, run_ddl: Any) -> None:
    """A forced 500 with card data in flight: the tokens table is renamed away for a moment,
    so tokenising (after validation and the vault) and charging fail in the database and the
    server logs the error (SQL parameters are hidden by the engine settings)."""
    waiting = rec.token("token made before the outage", VISA_OK, VISA_OK_CODE)
    run_ddl("ALTER TABLE tokens RENAME TO tokens_away")
    try:
        err = (500, "internal_error")
        rec.token("token during outage (amex)", AMEX_OK, AMEX_OK_CODE, expect=err)
        rec.token("token during outage (form)", VISA_OK, VISA_OK_CODE, form=True, expect=err)
        rec.charge("charge during outage", card=waiting["id"], amount=5000, currency="thb",
                   expect=err)  # fmt: skip
    finally:
        run_ddl("ALTER TABLE tokens_away RENAME TO tokens")
    rec.token("token after the outage", AMEX_OK, AMEX_OK_CODE)


# -- the scene: one per backend per module --------------------------------------------------------


def read_files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def table_rows(database_url: str) -> dict[str, list[str]]:
    engine = sa.create_engine(normalise_url(database_url))
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            rows: dict[str, list[str]] = {}
            for name in names:
                if conn.dialect.name == "postgresql":
                    rows[name] = list(
                        conn.exec_driver_sql(f'SELECT row_to_json(t)::text FROM "{name}" t')  # noqa: S608
                        .scalars()
                        .all()
                    )
                else:
                    result = conn.exec_driver_sql(f'SELECT * FROM "{name}"')  # noqa: S608
                    columns = list(result.keys())
                    rows[name] = [
                        json.dumps(dict(zip(columns, row, strict=True)), default=repr)
                        for row in result
                    ]
            return rows
    finally:
        engine.dispose()


def instance_key(database_url: str) -> bytes | None:
    engine = sa.create_engine(normalise_url(database_url))
    try:
        with engine.connect() as conn:
            value = conn.exec_driver_sql(
                "SELECT value FROM instance_secrets WHERE name = 'card-fingerprint'"
            ).scalar_one_or_none()
    finally:
        engine.dispose()
    return bytes.fromhex(value) if value else None


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A database of this module's own on the session's PostgreSQL server, migrated."""
    name = f"paylinks_cards_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(normalise_url(admin_url)).set(database=name)
    rendered = url.render_as_string(hide_password=False)
    try:
        paylinks("db", "upgrade", "--database-url", rendered)
        yield rendered
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def ddl_runner(database_url: str) -> Any:
    def run(statement: str) -> None:
        if database_url.startswith("sqlite"):
            path = sa.make_url(database_url).database
            conn = sqlite3.connect(str(path), timeout=30)
            try:
                conn.execute(statement)
                conn.commit()
            finally:
                conn.close()
            return
        engine = sa.create_engine(normalise_url(database_url))
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("SET lock_timeout = '10s'")
                conn.exec_driver_sql(statement)
        finally:
            engine.dispose()

    return run


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def scene(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scene]:
    workdir = tmp_path_factory.mktemp(f"cards-{request.param}")
    numbers = {
        "visa": canary("4", 16),
        "mastercard": canary(RNG.choice(["51", "52", "53", "54", "55"]), 16),
        "amex": canary(RNG.choice(["34", "37"]), 15),
    }
    known = (VISA_OK, AMEX_OK, MASTERCARD_OK, VISA_DECLINED, BAD_LUHN, *numbers.values())
    shown = [number[-4:] for number in known]
    canaries = {
        **numbers,
        "visa_code": random_code(3),
        "mastercard_code": random_code(3),
        "amex_code": random_code(4, shown=shown),
    }
    with database_for(request, workdir) as (database_url, data_dir):
        secrets = Secrets()
        with logged_server(database_url, workdir / "server.log") as server:
            rec = Recorder(server, secrets)
            drive_every_path(rec, canaries)
            force_server_errors(rec, ddl_runner(database_url))
            rec.http.close()
            running = read_files(data_dir) if data_dir else {}
        after = read_files(data_dir) if data_dir else {}
        yield Scene(
            request.param,
            server,
            secrets,
            rec.exchanges,
            data_dir,
            running,
            after,
            table_rows(database_url),
            instance_key(database_url),
            canaries,
        )


@contextmanager
def database_for(
    request: pytest.FixtureRequest, workdir: Path
) -> Iterator[tuple[str, Path | None]]:
    if request.param == "sqlite":
        data_dir = workdir / "data"
        data_dir.mkdir()
        yield f"sqlite:///{data_dir / 'paylinks.db'}", data_dir
        return
    admin_url = request.getfixturevalue("postgres_url")
    with fresh_postgres(admin_url) as url:
        yield url, None


# -- T4.1 / T4.6: nothing kept anywhere -----------------------------------------------------------


def test_every_path_was_driven_and_answered_as_documented(scene: Scene) -> None:
    wrong = [
        (e.label, e.status, e.outcome, e.expect)
        for e in scene.exchanges
        if (e.status, e.outcome if e.expect[1] else None) != e.expect
    ]
    assert not wrong
    # The canaries really reached the processor's vault and were refused there (T4.6).
    refused = [e for e in scene.exchanges if e.outcome == "test_mode_live_card"]
    assert len(refused) == 5
    assert all("test card" in e.json()["message"] for e in refused)


def test_database_holds_no_card_data(scene: Scene) -> None:
    leaks: list[str] = []
    if scene.engine == "sqlite":
        # While the server ran, recent pages lived in the WAL: those bytes were read too.
        assert {"paylinks.db", "paylinks.db-wal", "paylinks.db-shm"} <= set(
            scene.files_while_running
        )
        assert len(scene.files_while_running["paylinks.db-wal"]) > 0
        for moment, files in (
            ("running", scene.files_while_running),
            ("stopped", scene.files_after_stop),
        ):
            for name, data in files.items():
                leaks += scene.secrets.leaks(data, f"{moment} {name}")
    for table, rows in scene.tables.items():
        for row in rows:
            leaks += scene.secrets.leaks(row.encode(), f"table {table}")
    assert not leaks, leaks[:10]

    # The searched rows are the real ones: a row for every token answered 200, none for the
    # refused ones (T4.6: nothing stored), and every card object kept has only what may be kept.
    token_rows = [json.loads(r) for r in scene.tables["tokens"]]
    made = [e for e in scene.exchanges if (e.method, e.path, e.status) == ("POST", "/tokens", 200)]
    assert len(made) == 9
    assert sorted(r["id"] for r in token_rows) == sorted(e.json()["id"] for e in made)
    for row in token_rows:
        check_card_object(json.loads(row["card"]), scene.secrets)
    for row in (json.loads(r) for r in scene.tables["charges"]):
        if row["card"]:
            check_card_object(json.loads(row["card"]), scene.secrets)


def _text_columns(conn: sa.Connection) -> list[tuple[str, str]]:
    inspector = sa.inspect(conn)
    return [
        (table, column["name"])
        for table in inspector.get_table_names()
        for column in inspector.get_columns(table)
        if isinstance(column["type"], (sa.String, sa.Text))
    ]


def test_text_columns_hold_no_card_numbers(scene: Scene) -> None:
    """The same search done by the database itself: every text column of every table, LIKE."""
    engine = sa.create_engine(normalise_url(scene.server.database_url))
    hits = []
    patterns = [
        f"%{form.decode()}%" for number in scene.secrets.numbers for form in written_forms(number)
    ]
    try:
        with engine.connect() as conn:
            columns = _text_columns(conn)
            assert len(columns) > 20
            for table, column in columns:
                for pattern in patterns:
                    count = conn.execute(
                        # Names come from the catalog, patterns are bound.
                        sa.text(f'SELECT count(*) FROM "{table}" WHERE "{column}" LIKE :p'),  # noqa: S608
                        {"p": pattern},
                    ).scalar_one()
                    if count:
                        hits.append((table, column, count))
    finally:
        engine.dispose()
    assert not hits


def test_server_log_holds_no_card_data(scene: Scene) -> None:
    log = scene.server.log.read_bytes()
    # The log is not empty and did record the forced 500s: a leak through the error path would
    # have shown up here. SQL parameter values are hidden from error messages altogether.
    assert b"unhandled error in POST /tokens" in log
    assert b"unhandled error in POST /charges" in log
    assert b"Traceback" in log and b"parameters hidden" in log
    assert b"card_test_" not in log
    leaks = scene.secrets.leaks(log, "server log")
    assert not leaks, leaks[:10]


def test_server_log_is_json_lines_with_request_ids(scene: Scene) -> None:
    lines = [line for line in scene.server.log.read_bytes().splitlines() if line.strip()]
    entries = [orjson.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    access = [e for e in entries if e["logger"] == "paylinks.access"]
    assert access and all(e["request_id"] and e["status"] and e["method"] for e in access)
    sent = {
        line.split(b":", 1)[1].strip().decode()
        for exchange in scene.exchanges
        for line in exchange.headers.splitlines()
        if line.lower().startswith(b"x-request-id:")
    }
    assert sent and sent <= {e["request_id"] for e in access}
    errors = [e for e in entries if "unhandled error" in e["message"]]
    assert errors and all(e.get("request_id") for e in errors)  # errors name their request


def test_responses_show_the_last_four_digits_only(scene: Scene) -> None:
    leaks: list[str] = []
    for exchange in scene.exchanges:
        if exchange.misuse:
            continue
        blob = exchange.headers + b"\n" + exchange.body
        if exchange.outcome == "test_mode_live_card":
            # The refusal names a public test card to use instead; that is help, not card data.
            blob = blob.replace(b"such as 4242 4242 4242 4242", b"such as <test card>")
        leaks += scene.secrets.leaks(blob, exchange.label)
        # No run of six or more digits taken from a number (a BIN, a middle, last 6).
        for run in re.findall(rb"(?<![0-9])[0-9]{6,}(?![0-9])", exchange.body):
            text = run.decode()
            if any(text in number for number in scene.secrets.numbers):
                leaks.append(f"{exchange.label}: digits {text}")
        for obj in card_objects(exchange.json()):
            check_card_object(obj, scene.secrets)
    assert not leaks, leaks[:10]
    shown = {
        obj["last_digits"]
        for e in scene.exchanges
        if not e.misuse
        for obj in card_objects(e.json())
    }
    assert {"4242", "0005", "4444", "0011"} <= shown


def card_objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if value.get("object") == "card":
            yield value
        for item in value.values():
            yield from card_objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from card_objects(item)


def check_card_object(obj: dict[str, Any], secrets: Secrets) -> None:
    assert not {"number", "security_code", "cvv", "cvc", "track"} & set(obj)
    assert obj["first_digits"] is None
    assert re.fullmatch(r"[0-9]{4}", obj["last_digits"])
    assert any(n.endswith(obj["last_digits"]) for n in secrets.numbers)
    for value in obj.values():
        text = str(value)
        assert text not in secrets.codes, (obj, text)
        assert not any(number in text for number in secrets.numbers), obj
    assert isinstance(obj["security_code_check"], bool)


# A number sent where a token belongs is echoed back in the error message. It is still never
# stored or logged (the tests above include these requests); only the response repeats it.
@pytest.mark.parametrize("label", ["canary sent as the charge's card", "canary as a token id"])
def test_a_number_sent_as_a_token_id_is_not_echoed(scene: Scene, label: str) -> None:
    exchange = next(e for e in scene.exchanges if e.label == label)
    assert exchange.misuse and exchange.status in (400, 404)
    assert scene.canaries["visa"].encode() not in exchange.body


# -- T4.4: the fingerprint is keyed ---------------------------------------------------------------


def fingerprints(scene: Scene) -> dict[str, set[str]]:
    """Stored fingerprints by last digits + brand, from the tokens table."""
    found: dict[str, set[str]] = {}
    for row in scene.tables["tokens"]:
        obj = json.loads(json.loads(row)["card"])
        found.setdefault(f"{obj['brand']} {obj['last_digits']}", set()).add(obj["fingerprint"])
    return found


def luhn_candidates(bin_: str, last4: str, length: int) -> Iterator[str]:
    """Every Luhn-valid number with this BIN and these last four digits: the middle digits run
    free except the last one, which the Luhn sum then fixes (exactly one per prefix)."""
    middle = length - len(bin_) - len(last4)
    solve_at = len(bin_) + middle - 1
    doubled = (length - 1 - solve_at) % 2 == 1
    by_weight = {luhn_weight(d, doubled=doubled): d for d in range(10)}
    for n in range(10 ** (middle - 1)):
        base = f"{bin_}{n:0{middle - 1}d}0{last4}"
        missing = -luhn_total(base) % 10
        yield base[:solve_at] + str(by_weight[missing]) + base[solve_at + 1 :]


def test_same_card_same_fingerprint_different_cards_differ(scene: Scene) -> None:
    prints = fingerprints(scene)
    # 4242 4242 4242 4242 was tokenised five times (JSON, form, dashed, 2-digit year, ...).
    assert len(prints["Visa 4242"]) == 1
    others = {"American Express 0005", "MasterCard 4444", "Visa 0011"}
    assert others <= set(prints)
    everyone = [next(iter(prints[k])) for k in ("Visa 4242", *sorted(others))]
    assert len(set(everyone)) == len(everyone)
    # Responses carry the same value as the database.
    shown = {
        obj["fingerprint"]
        for e in scene.exchanges
        if not e.misuse
        for obj in card_objects(e.json())
        if obj["last_digits"] == "4242"
    }
    assert shown == prints["Visa 4242"]


def test_fingerprint_is_keyed_and_not_brute_forceable_without_the_key(scene: Scene) -> None:
    (stored,) = fingerprints(scene)["Visa 4242"]
    raw = base64.b64decode(stored)
    number = VISA_OK.encode()
    assert stored != base64.b64encode(hashlib.sha256(number).digest()).decode()
    assert raw != hashlib.sha256(number).digest()
    assert stored != base64.b64encode(hmac.new(b"", number, hashlib.sha256).digest()).decode()

    candidates = list(luhn_candidates("424242", "4242", 16))
    assert len(set(candidates)) == 100_000 and VISA_OK in candidates
    assert all(luhn_total(c) % 10 == 0 for c in candidates[::997])
    unkeyed = {
        variant
        for c in candidates
        for variant in (
            base64.b64encode(hashlib.sha256(c.encode()).digest()).decode(),
            hashlib.sha256(c.encode()).hexdigest(),
            base64.b64encode(hmac.new(b"", c.encode(), hashlib.sha256).digest()).decode(),
        )
    }
    assert stored not in unkeyed
    assert raw.hex() not in unkeyed

    # Control: with the installation's key the same search finds the number, so the search
    # space is right and only the key stops it.
    assert scene.instance_key is not None
    keyed = [
        c
        for c in candidates
        if hmac.compare_digest(
            base64.b64encode(hmac.new(scene.instance_key, c.encode(), hashlib.sha256).digest()),
            stored.encode(),
        )
    ]
    assert keyed == [VISA_OK]
