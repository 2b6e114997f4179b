"""Text search through the trigram index (SQLite FTS5, PostgreSQL pg_trgm) finds exactly what the
plain scan found: every word, case-insensitively, in the title, the description or the metadata's
JSON text; and the index follows every change of a link."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from factories import TestAccount, auth
from starlette.testclient import TestClient

from paylinks.auth import Principal
from paylinks.db import Database
from paylinks.links import search as links_search
from paylinks.models import link_counters, links
from paylinks.search import service as search

# No letters with case outside ASCII here: SQLite's LIKE folds ASCII only, PostgreSQL's ILIKE
# more, so Python's `lower()` is the semantics of both only on text like this (the test below
# it compares non-ASCII text with the old query itself, per backend).
VOCABULARY = [
    "Invoice", "INV-001", "consulting", "T-Shirt", "red", "RED", "100%", "cotton_bag",
    "back\\slash", "C:\\Temp", "50%_off", 'say "hi"', "e-mail", "a", "Ab", "x_y", "{}", "::",
    "ค่าบริการ", "เสื้อยืด", "สีแดง", "กข", "ก", "Order#42", "2026-05-01", "tab\there",
]  # fmt: skip
KEYS = ["sku", "note", "ลูกค้า", "Ref_%", "a"]
ALPHABET = 'aAbBeEiInNoO%_\\"{}:-#0124กขค่'


def random_text(rng: random.Random, most: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, most)))


def random_metadata(rng: random.Random) -> dict[str, Any]:
    values: list[Any] = [
        random_text(rng, 2),
        rng.randint(0, 999),
        True,
        None,
        [rng.choice(VOCABULARY)],
    ]
    return {rng.choice(KEYS): rng.choice(values) for _ in range(rng.randint(0, 3))}  # fmt: skip


def create(client: TestClient, key: str, **fields: Any) -> str:
    body = {"amount": 100000, "currency": "thb", **fields}
    response = client.post("/links", auth=auth(key), json=body)
    assert response.status_code == 200, response.text
    link_id: str = response.json()["id"]
    return link_id


def search_ids(client: TestClient, key: str, query: str, **params: Any) -> set[str]:
    response = client.get(
        "/search",
        params={"scope": "link", "query": query, "per_page": 100, **params},
        auth=auth(key),
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["total"] == len(result["data"]), "one page holds every match here"
    return {link["id"] for link in result["data"]}


def stored_texts(db: Database, account: TestAccount) -> dict[str, list[str]]:
    """Each test-mode link of the account: its title, description and metadata as stored."""
    with db.snapshot() as conn:
        rows = conn.execute(
            sa.select(links.c.id, links.c.title, links.c.description, links.c.metadata).where(
                links.c.account_pk == account.pk, links.c.livemode == sa.false()
            )
        ).all()
    return {row.id: [row.title, row.description or "", row.metadata] for row in rows}


def expected(texts: dict[str, list[str]], query: str) -> set[str]:
    words = [word.lower() for word in query.split()]
    return {
        link_id
        for link_id, fields in texts.items()
        if all(any(word in field.lower() for field in fields) for word in words)
    }


def random_word(rng: random.Random, texts: dict[str, list[str]]) -> str:
    if rng.random() < 0.25:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4)))
    field = rng.choice(rng.choice(list(texts.values())))
    if not field:
        return "a"
    start = rng.randrange(len(field))
    word = field[start : start + rng.randint(1, 6)]
    word = "".join(c.swapcase() if rng.random() < 0.3 else c for c in word)
    return word.strip() or "x"


def test_indexed_search_finds_what_a_plain_filter_finds(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    rng = random.Random(20261124)
    key = account.test.secret_key
    for _ in range(40):
        fields: dict[str, Any] = {"title": random_text(rng, 4), "metadata": random_metadata(rng)}
        if rng.random() < 0.7:
            fields["description"] = random_text(rng, 5)
        create(client, key, **fields)
    create(client, account.live.secret_key, title="Invoice consulting red")  # another mode
    texts = stored_texts(db, account)
    assert len(texts) == 40
    matched = 0
    for _ in range(150):
        query = " ".join(random_word(rng, texts) for _ in range(rng.randint(1, 3)))
        want = expected(texts, query)
        assert search_ids(client, key, query) == want, query
        matched += bool(want)
    assert matched > 60, "the queries should mostly find something"


def old_text_conditions(query: str) -> list[sa.ColumnElement[bool]]:
    """Search's text conditions before the index (a copy of the code it replaced)."""

    def like(word: str) -> str:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"%{escaped}%"

    return [
        sa.or_(
            links.c.title.ilike(like(word), escape="\\"),
            links.c.description.ilike(like(word), escape="\\"),
            links.c.metadata.ilike(like(word), escape="\\"),
        )
        for word in query.split()
    ]


CASED = ["École", "ÉCOLE", "école", "Straße", "STRASSE", "ǅemal", "Ωmega", "ωMEGA", "İstanbul",
         "KELVIN", "Kelvin", "ÀB", "àb", "Thai ไทย"]  # fmt: skip


def test_letters_with_case_beyond_ascii_match_as_they_did(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    """The FTS5 index folds case beyond ASCII and SQLite's LIKE does not: the index only narrows,
    the old conditions decide. Compared with the old query itself, on each backend."""
    rng = random.Random(7)
    key = account.test.secret_key
    for word in CASED:
        create(client, key, title=f"{word} {rng.choice(CASED)}", metadata={"k": rng.choice(CASED)})
    queries = [*CASED, *(w.lower() for w in CASED), *(w.upper() for w in CASED), "école ωmega",
               "KELVIN ÉCOLE", "ßE", "ǆ"]  # fmt: skip
    for query in queries:
        with db.snapshot() as conn:
            old = set(
                conn.execute(
                    sa.select(links.c.id).where(
                        links.c.account_pk == account.pk,
                        links.c.livemode == sa.false(),
                        *old_text_conditions(query),
                    )
                ).scalars()
            )
        assert search_ids(client, key, query) == old, query


def fts_in_step(db: Database) -> None:
    """SQLite: the FTS5 index holds exactly the rows of `links` (raises otherwise)."""
    if db.dialect == "sqlite":
        with db.transaction() as conn:
            conn.exec_driver_sql(
                "INSERT INTO links_search (links_search, rank) VALUES ('integrity-check', 1)"
            )


def test_the_index_follows_updates_and_deletes(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    key = account.test.secret_key
    link_id = create(
        client, key, title="Quarterly retainer", description="alpha-bravo",
        metadata={"ref": "zulu-123"},
    )  # fmt: skip
    create(client, key, title="Unrelated")
    assert search_ids(client, key, "bravo") == {link_id}
    assert search_ids(client, key, "ZULU-12") == {link_id}

    change = {"description": "charlie-delta", "metadata": {"ref": "yankee-9"}}
    response = client.patch(f"/links/{link_id}", auth=auth(key), json=change)
    assert response.status_code == 200, response.text
    assert search_ids(client, key, "bravo") == set()
    assert search_ids(client, key, "zulu") == set()
    assert search_ids(client, key, "charlie yankee retainer") == {link_id}
    fts_in_step(db)

    response = client.patch(f"/links/{link_id}", auth=auth(key), json={"metadata": {"n": 7}})
    assert response.status_code == 200, response.text
    assert search_ids(client, key, "yankee") == set()
    assert search_ids(client, key, '"n":7 delta') == {link_id}  # the description stays

    # Deleting marks the link deleted: it stays, and search finds it as it always did.
    assert client.delete(f"/links/{link_id}", auth=auth(key)).status_code == 200
    assert search_ids(client, key, "retainer") == {link_id}
    assert search_ids(client, key, "retainer", **{"filters[deleted]": "true"}) == {link_id}
    assert search_ids(client, key, "retainer", **{"filters[deleted]": "false"}) == set()
    fts_in_step(db)

    fts_in_step(db)


def test_the_index_follows_changes_made_in_sql(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    """Rows written outside the API (an operator's SQL, an import) are indexed too, and rows
    removed leave the index."""
    key = account.test.secret_key
    with db.transaction() as conn:
        conn.execute(links.insert().values(**seed_row(account, 0, title="Imported widget")))
    [other] = search_ids(client, key, "widget")
    with db.transaction() as conn:
        conn.execute(links.update().where(links.c.id == other).values(title="Renamed gadget"))
    assert search_ids(client, key, "widget") == set()
    assert search_ids(client, key, "gadget") == {other}
    with db.transaction() as conn:
        conn.execute(links.delete().where(links.c.id == other))
    assert search_ids(client, key, "gadget") == set()
    fts_in_step(db)


def seed_row(account: TestAccount, i: int, *, title: str) -> dict[str, Any]:
    return {
        "id": f"payl_test_{account.pk:06d}{i:013d}",
        "account_pk": account.pk,
        "livemode": False,
        "amount": 100000,
        "currency": "thb",
        "title": title,
        "description": f"Desc {i}",
        "multiple": False,
        "metadata": f'{{"sku": "S{i}"}}',
        "created_at": i,
    }


def test_search_stays_within_the_account_and_mode(
    client: TestClient, account: TestAccount, other_account: TestAccount
) -> None:
    mine = create(client, account.test.secret_key, title="Shared words here")
    create(client, account.live.secret_key, title="Shared words here")
    create(client, other_account.test.secret_key, title="Shared words here")
    assert search_ids(client, account.test.secret_key, "shared words") == {mine}
    assert search_ids(client, account.test.secret_key, "sh wo") == {mine}  # short words only


def plan(db: Database, account: TestAccount, query: str) -> str:
    """SQLite: the query plan of the page query a search runs. PostgreSQL: the plan of the text
    conditions alone with scans disabled, so that the trigram indexes are the one way left to
    answer them unless they do not fit the conditions (at a few thousand rows the planner would
    rightly scan; at 100,000 it takes the indexes, see docs/benchmarks.md)."""
    text = search.SearchQuery("link", query, {}, "chronological", 1, 30)
    conditions = search.link_conditions(text, now=datetime.now(UTC))
    principal = Principal(account.pk, account.id, False, "secret", key_hash="")
    with db.snapshot() as conn:
        if db.dialect == "postgresql":
            # Reads run in autocommit (SET LOCAL would not last): set, and reset after.
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_indexscan = off")
            try:
                compiled = sa.select(links.c.pk).where(*conditions).compile(conn)
                rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params).all()
            finally:
                conn.exec_driver_sql("RESET enable_seqscan")
                conn.exec_driver_sql("RESET enable_indexscan")
            return "\n".join(row[0] for row in rows)
        seen: list[tuple[str, Any]] = []

        def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
            if "ORDER BY" in statement:
                seen.append((statement, parameters))

        sa.event.listen(conn, "before_cursor_execute", capture)
        links_search.search_links(
            conn, principal=principal, conditions=conditions, reverse=False, limit=30, offset=0,
            text_match=search.fts_match(query, db.dialect),
        )  # fmt: skip
        sa.event.remove(conn, "before_cursor_execute", capture)
        [(statement, parameters)] = seen
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


@pytest.fixture
def many_links(db: Database, account: TestAccount) -> None:
    """3,000 links of one account, one of them with rare words, and statistics that say so."""
    rows = [seed_row(account, i, title=f"Item {i}") for i in range(3000)]
    rows[1234]["title"] = "Invoice INV-001 red ab"
    with db.transaction() as conn:
        conn.execute(links.insert(), rows)
        conn.execute(link_counters.insert().values(account_pk=account.pk, livemode=False,
                                                   slot=0, count=len(rows)))  # fmt: skip
        if db.dialect == "postgresql":
            conn.exec_driver_sql("ANALYZE links")


@pytest.mark.usefixtures("many_links")
@pytest.mark.parametrize("query", ["invoice", "INV-001 red", "ab invoice"])
def test_words_of_three_characters_or_more_use_the_index(
    client: TestClient, account: TestAccount, db: Database, query: str
) -> None:
    index = "links_search" if db.dialect == "sqlite" else "ix_links_search_title"
    assert index in plan(db, account, query)
    assert len(search_ids(client, account.test.secret_key, query)) == 1


def test_short_words_alone_do_not_use_the_index(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    """SQLite: no FTS5 lookup for words under three characters (it would find nothing). On
    PostgreSQL the planner decides, and walks the account's links (a trigram index scan for a
    word without a trigram reads the whole index)."""
    link_id = create(client, account.test.secret_key, title="ab cd")
    assert search.fts_match("ab cd", "sqlite") is None
    assert search.fts_match("ab cde", "sqlite") == '"cde"'
    if db.dialect == "sqlite":
        assert "links_search" not in plan(db, account, "ab cd")
    assert search_ids(client, account.test.secret_key, "AB c") == {link_id}


@pytest.mark.usefixtures("many_links")
def test_a_word_in_most_links_walks_the_account_instead(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    """SQLite: reading 3,000 matches one by one costs more than walking the account's links in
    order, so a word in most of them does not start from the index (PostgreSQL's planner makes
    that choice itself, from statistics)."""
    if db.dialect == "sqlite":
        assert "links_search" not in plan(db, account, "item")
        assert "links_search" in plan(db, account, "item 1233")
    key = account.test.secret_key

    def containing(digits: str) -> int:  # links "Item i" (all but 1234) whose i has the digits
        return sum(1 for i in range(3000) if i != 1234 and digits in str(i))

    for query, total in [("item", 2999), ("ITEM 1233", 1), ("item 12", containing("12")),
                         ("tem 99", containing("99"))]:  # fmt: skip
        response = client.get("/search", params={"scope": "link", "query": query}, auth=auth(key))
        assert response.json()["total"] == total, query
