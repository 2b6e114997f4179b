"""Hot statements (`paylinks.hot`): compiled once by SQLAlchemy, run by the driver. They must
read exactly what SQLAlchemy's own execution reads, on both databases, bind the values written
into the statement, and refuse what they cannot run."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from factories import TestAccount, link
from starlette.testclient import TestClient

from paylinks.db import Database
from paylinks.hot import Hot, insert
from paylinks.links.service import from_row
from paylinks.models import events, links


def test_a_hot_read_is_what_sqlalchemy_reads(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    made = [link(client, account, title=f"hot {n}", metadata={"n": str(n)}) for n in range(3)]
    query = (
        sa.select(links)
        .where(links.c.account_pk == sa.bindparam("account_pk"), links.c.used == sa.false())
        .order_by(links.c.pk)
    )
    with db.snapshot() as conn:
        expected = [from_row(row) for row in conn.execute(query, {"account_pk": account.pk})]
        found = [from_row(row) for row in Hot(query).rows(conn, {"account_pk": account.pk})]
    assert found == expected
    assert [f.id for f in found] == [m["id"] for m in made]
    assert all(f.livemode is False and f.used is False for f in found)


def test_values_written_into_a_hot_statement_are_bound(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    made = link(client, account, title="literal")
    query = sa.select(links.c.title).where(
        links.c.id == made["id"], links.c.amount == 100000, links.c.deleted.is_(False)
    )
    with db.snapshot() as conn:
        assert Hot(query).scalar(conn, {}) == "literal"
        assert Hot(query).first(conn, {}) == ("literal",)


def test_an_expanding_in_is_refused(account: TestAccount, db: Database) -> None:
    query = sa.select(links.c.pk).where(links.c.id.in_(sa.bindparam("ids", expanding=True)))
    with db.snapshot() as conn, pytest.raises(ValueError, match="expanding IN"):
        Hot(query).rows(conn, {"ids": ["payl_x"]})


def test_named_rows_read_as_sqlalchemys_do(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    link(client, account, title="named")
    query = sa.select(links, sa.literal_column("1").label("one")).where(
        links.c.account_pk == sa.bindparam("account_pk")
    )
    with db.snapshot() as conn:
        [expected] = conn.execute(query, {"account_pk": account.pk}).all()
        [found] = Hot(query, named=True).rows(conn, {"account_pk": account.pk})
    assert found._asdict() == expected._asdict()
    assert (found.title, found.one) == ("named", 1)


def test_a_hot_insert_writes_the_row_sqlalchemy_would(account: TestAccount, db: Database) -> None:
    ids = ["evnt_test_hot", "evnt_test_nothot", "evnt_test_core"]
    columns = ("id", "account_pk", "livemode", "key", "data", "charge_pk", "link_pk", "created_at")
    row = {
        "account_pk": account.pk, "livemode": False, "key": "link.update", "data": "{}",
        "charge_pk": None, "link_pk": None, "created_at": 1_700_000_000_000_000,
    }  # fmt: skip
    with db.transaction() as conn:
        hot_pk = insert(events, *columns, returning=events.c.pk).scalar(conn, {**row, "id": ids[0]})
        insert(events, *columns).execute(conn, {**row, "id": ids[1]})
        conn.execute(events.insert().values(**row, id=ids[2]))
    with db.snapshot() as conn:
        written = conn.execute(
            sa.select(events).where(events.c.id.in_(ids)).order_by(events.c.pk)
        ).all()
    assert [w.id for w in written] == ids and written[0].pk == hot_pk
    with db.transaction() as conn, pytest.raises(ValueError, match="no column for"):
        insert(events, *columns).execute(conn, {**row, "id": "evnt_test_x", "colour": "red"})
    shapes = {tuple(v for k, v in w._mapping.items() if k not in ("pk", "id")) for w in written}
    assert len(shapes) == 1
