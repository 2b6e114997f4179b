"""Hot statements: built and compiled once by SQLAlchemy Core, executed by the driver itself.

SQLAlchemy's execution path (compiled-cache lookup, parameter processing, result metadata, row
objects, transaction bookkeeping) costs 0.15–0.3 ms of Python a statement on this project's
machine: more than SQLite takes to read a link by its key, and half of a PostgreSQL read's own
time; building the statement anew for each call (`select(...).where(...)`, `insert().values()`)
cost as much again (docs/benchmarks.md). The statements every API request and every payment
runs go through here instead: built once; SQLAlchemy still writes their SQL for each dialect
(one source of truth for the schema); the string goes to the connection's own cursor, inside
the same transaction.

Rows come back as the driver's tuples, read by position (`links.service.from_row` converts
what needs converting), or, with `named=True`, as named tuples whose fields are the selected
columns' names (for code that reads `row.name` as from a SQLAlchemy row). Only statements whose
bound values and columns need no type processing qualify (integers, text, booleans: SQLite's
0/1 are read with `bool()`; micros as integers), and none with an expanding `IN`. SQLAlchemy's
`before_cursor_execute` listeners still see each statement, so statement counts in tests stay
true.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.compiler import SQLCompiler


class Hot:
    def __init__(
        self,
        statement: sa.ClauseElement,
        *,
        named: bool = False,
        columns: frozenset[str] | None = None,
    ) -> None:
        self.statement = statement
        # An INSERT's columns: a value for any other is refused, never silently dropped.
        self._columns = columns
        self._compiled: dict[str, tuple[str, dict[str, Any], tuple[str, ...] | None]] = {}
        self._named: Any = None
        if named:
            selected = cast(sa.Select[Any], statement).selected_columns.keys()
            self._named = namedtuple("HotRow", selected)  # type: ignore[misc]

    def rows(self, conn: Connection, params: dict[str, Any]) -> list[Any]:
        return self._run(conn, params, fetch=True)

    def execute(self, conn: Connection, params: dict[str, Any]) -> None:
        """Run a statement that returns no rows (an INSERT without RETURNING, an UPDATE)."""
        self._run(conn, params, fetch=False)

    def _run(self, conn: Connection, params: dict[str, Any], *, fetch: bool) -> list[Any]:
        sql, args = self._bind(conn, params)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if conn.dispatch.before_cursor_execute:
                conn.dispatch.before_cursor_execute(conn, cursor, sql, args, None, False)
            cursor.execute(sql, args)
            if not fetch:
                return []
            if self._named is not None:
                return [self._named._make(row) for row in cursor.fetchall()]
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def first(self, conn: Connection, params: dict[str, Any]) -> Any | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def scalar(self, conn: Connection, params: dict[str, Any]) -> Any:
        return self.rows(conn, params)[0][0]

    def _bind(self, conn: Connection, params: dict[str, Any]) -> tuple[str, Any]:
        compiled = self._compiled.get(conn.dialect.name)
        if compiled is None:
            compiled = self._compile(conn.dialect)
            self._compiled[conn.dialect.name] = compiled
        sql, fixed, order = compiled
        if self._columns is not None and not self._columns.issuperset(params):
            raise ValueError(f"no column for {sorted(set(params) - self._columns)}")
        values = {**fixed, **params} if fixed else params
        if order is None:  # named parameters (psycopg)
            return sql, values
        return sql, [values[name] for name in order]  # positional (sqlite3)

    def _compile(self, dialect: sa.Dialect) -> tuple[str, dict[str, Any], tuple[str, ...] | None]:
        compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
        sql = str(compiled)
        if "POSTCOMPILE" in sql:
            raise ValueError("an expanding IN cannot be a hot statement")
        # Values written into the statement itself (not bindparam()s) become anonymous
        # parameters: they are bound from the compiled statement every time.
        fixed = {k: v for k, v in compiled.params.items() if v is not None}
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        return sql, fixed, order


def insert(table: sa.Table, *columns: str, returning: sa.ColumnElement[Any] | None = None) -> Hot:
    """A hot INSERT of one row of `columns`, each bound under its own name."""
    statement = table.insert().values({name: sa.bindparam(name) for name in columns})
    if returning is not None:
        statement = statement.returning(returning)
    return Hot(statement, columns=frozenset(columns))
