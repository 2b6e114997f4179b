"""How many statements a read of links costs (issue 15: on PostgreSQL each is a round trip and
~0.3 ms of Python): a link, or a page of links, without charges is read without a second
statement for its embedded charges, since each link's charge count comes with it; a new link's
event is written without asking for charges it cannot have. The answers stay right: the count
and the embedded charges of a paid link are still there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from factories import TestAccount, auth, link, pay
from starlette.testclient import TestClient

from paylinks.auth import Principal
from paylinks.db import Database
from paylinks.links import reads
from paylinks.pagination import ListQuery


@contextmanager
def statements(target: Any) -> Iterator[list[str]]:
    """The statements run on `target` (a connection: only its own; an engine: every one of its
    connections, the app's background sweeps included) meanwhile."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.append(statement)

    sa.event.listen(target, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(target, "before_cursor_execute", note)


def principal_of(account: TestAccount) -> Principal:
    return Principal(account.pk, account.id, False, "secret", "")


def test_a_link_without_charges_is_read_in_one_statement(
    client: TestClient, db: Database, account: TestAccount
) -> None:
    unpaid, paid = link(client, account), link(client, account)
    assert pay(client, account, paid["id"]).status_code == 200
    with db.transaction() as conn, statements(conn) as seen:
        [found], embedded = reads.read_link(conn, principal=principal_of(account),
                                            link_id=unpaid["id"])  # fmt: skip
    assert len(seen) == 1 and embedded == {found.pk: ([], 0)}
    with db.transaction() as conn, statements(conn) as seen:
        [found], embedded = reads.read_link(conn, principal=principal_of(account),
                                            link_id=paid["id"])  # fmt: skip
    charges, count = embedded[found.pk]
    assert len(seen) == 2 and count == 1 and charges[0].status == "successful"


def test_a_page_of_links_without_charges_costs_no_charge_statement(
    client: TestClient, db: Database, account: TestAccount
) -> None:
    made = [link(client, account) for _ in range(3)]
    query = ListQuery(limit=20, offset=0, order="chronological", from_=None, to=None)
    with db.transaction() as conn, statements(conn) as seen:
        found, embedded, total = reads.read_links(conn, principal=principal_of(account),
                                                  query=query)  # fmt: skip
    assert [x.id for x in found] == [x["id"] for x in made] and total == 3
    assert embedded == {x.pk: ([], 0) for x in found}
    assert not [s for s in seen if "FROM charges" in s.split("(SELECT")[0]]
    assert len(seen) == 2  # the page (with each link's charge count) and the total
    # One paid: its charges are read, and listed, as before.
    assert pay(client, account, made[1]["id"]).status_code == 200
    listing = client.get("/links", auth=auth(account.test.secret_key)).json()["data"]
    assert [x["charges"]["total"] for x in listing] == [0, 1, 0]


def test_a_new_links_event_asks_for_no_charges(
    client: TestClient, db: Database, account: TestAccount
) -> None:
    with statements(db.write_engine) as seen:
        made = link(client, account)
    assert made["charges"]["data"] == [] and made["charges"]["total"] == 0
    # What `embedded_charges` asks (the background sweeps never ask it).
    assert not [s for s in seen if "charges.link_pk IN" in s]
    event = client.get("/events", auth=auth(account.test.secret_key)).json()["data"][0]
    assert event["key"] == "link.create" and event["data"]["charges"]["total"] == 0
