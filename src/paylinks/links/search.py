"""Finding an account's links by text and filters (the search API and the dashboard's list).

The conditions come from `search.service`; this module runs them, and on SQLite lets the FTS5
text index (migration 0009) narrow where the search starts.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.links.service import COUNTER_TOTAL, Link, from_row, scoped
from paylinks.models import links
from paylinks.pagination import scope_params

# SQLite's FTS5 index of the links' texts (migration 0009); its rowid is links.pk.
_links_search = sa.table("links_search", sa.column("rowid", sa.Integer))


def _fts_matches(match: str) -> sa.Select[tuple[int]]:
    return sa.select(_links_search.c.rowid).where(
        sa.literal_column("links_search").op("MATCH")(match)
    )


def _text_search_scope(
    conn: Connection, principal: Principal, match: str
) -> list[sa.ColumnElement[bool]]:
    """The scope of a text search on SQLite, and where it starts from.

    For words in few links, from the FTS5 index's matches: well under a millisecond where
    walking 100,000 links of an account takes tens. SQLite's planner, without statistics, would
    rather walk the account's links and test each against the matches, so `account_pk + 0` keeps
    the scope as a condition but out of its choice of index. Reading a match costs about twice
    what walking past a link does (~1.2 µs against 0.4-0.8 µs), so for words in more than a
    quarter of the account's links the plain scope is as cheap or cheaper: then the search runs
    as it would without the index. Counting up to that many matches costs ~0.1 ms per 1,000.
    """
    links_total = int(conn.execute(COUNTER_TOTAL, scope_params(principal)).scalar_one())
    enough = links_total // 4
    probe = sa.select(sa.func.count()).select_from(_fts_matches(match).limit(enough + 1).subquery())
    if conn.execute(probe).scalar_one() > enough:
        return scoped(principal)
    return [
        links.c.account_pk + 0 == principal.account_pk,
        links.c.livemode == principal.livemode,
        links.c.pk.in_(_fts_matches(match)),
    ]


def search_links(
    conn: Connection,
    *,
    principal: Principal,
    conditions: list[sa.ColumnElement[bool]],
    reverse: bool,
    limit: int,
    offset: int,
    text_match: str | None = None,
) -> tuple[list[Link], int]:
    """Links matching every condition (built by the search module over `links` columns).

    `text_match`: an FTS5 query (`search.service.fts_match`) that every matching link also
    matches, for SQLite to narrow the search with its text index.
    """
    scope = scoped(principal)
    if text_match is not None and conn.dialect.name == "sqlite":
        scope = _text_search_scope(conn, principal, text_match)
    where = [*scope, *conditions]
    order = (
        (links.c.created_at.desc(), links.c.pk.desc())
        if reverse
        else (
            links.c.created_at.asc(),
            links.c.pk.asc(),
        )
    )
    page = sa.select(links).where(*where).order_by(*order).limit(limit).offset(offset)
    count = sa.select(sa.func.count()).select_from(links).where(*where)
    if conn.dialect.name != "postgresql":
        total = conn.execute(count).scalar_one()
        rows = conn.execute(page).all()
        return [from_row(r) for r in rows], int(total)
    # psycopg prepares a statement once it has run five times on a connection, and PostgreSQL
    # may then plan it once for any words: a plan that, expecting many matches, walks the
    # account's links to fill a page (120 ms at 100,000 links for a word in one link, against
    # 2 ms through the trigram indexes). A search is planned for the words it has.
    conn.exec_driver_sql("SET plan_cache_mode = force_custom_plan")
    try:
        total = conn.execute(count).scalar_one()
        rows = conn.execute(page).all()
    finally:
        conn.exec_driver_sql("RESET plan_cache_mode")
    return [from_row(r) for r in rows], int(total)
