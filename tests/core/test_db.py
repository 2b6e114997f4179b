"""The database layer: group commit isolates failing jobs, and nobody is answered before commit."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks import migrate
from paylinks.db import Database
from paylinks.errors import BadRequest
from paylinks.models import accounts


def _insert(conn: Connection, *, name: str, fail: bool) -> int:
    pk = conn.execute(
        accounts.insert()
        .values(id=f"acct_{name}", name=name, created_at=0)
        .returning(accounts.c.pk)
    ).scalar_one()
    if fail:
        raise BadRequest(f"{name} fails after writing")
    return int(pk)


def test_failing_jobs_in_one_group_commit_roll_back_alone(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'group.db'}")
    migrate.upgrade(db.write_engine)

    async def burst() -> list[int | BaseException]:
        jobs = [db.write(_insert, name=f"n{i}", fail=i % 3 == 0) for i in range(60)]
        return await asyncio.gather(*jobs, return_exceptions=True)

    results = asyncio.run(burst())
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 20 and all(isinstance(r, BadRequest) for r in failed)
    with db.snapshot() as conn:
        names = set(conn.execute(sa.select(accounts.c.name)).scalars())
    db.close()
    assert names == {f"n{i}" for i in range(60) if i % 3}


def test_a_single_failing_job_writes_nothing(db: Database) -> None:
    async def one() -> None:
        await db.write(_insert, name="lonely-failure", fail=True)

    with pytest.raises(BadRequest):
        asyncio.run(one())
    with db.snapshot() as conn:
        found = conn.execute(sa.select(accounts).where(accounts.c.name == "lonely-failure"))
        assert found.first() is None
