"""Each key's row is its own: claiming a key clears only that key's expired row, and storing an
answer fills only that key's row (found by mutation testing: both once touched every row)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from factories import TestAccount, principal_of

from paylinks.api import idempotency
from paylinks.db import Database
from paylinks.models import idempotency_keys

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def request(account: TestAccount, key: str) -> idempotency.Request:
    return idempotency.Request(principal_of(account), key, "POST", "/links", "fingerprint")


def rows(db: Database, account: TestAccount) -> dict[str, bytes | None]:
    with db.transaction() as conn:
        found = conn.execute(
            sa.select(idempotency_keys.c.key, idempotency_keys.c.response).where(
                idempotency_keys.c.account_pk == account.pk
            )
        ).all()
    return {r.key: r.response for r in found}


def test_a_claim_clears_only_its_own_expired_key(
    db: Database, account: TestAccount, other_account: TestAccount
) -> None:
    with db.transaction() as conn:
        idempotency.claim(conn, request=request(account, "old"), now=NOW)
        idempotency.claim(conn, request=request(other_account, "old"), now=NOW)
    later = NOW + idempotency.KEY_TTL + timedelta(seconds=1)
    with db.transaction() as conn:  # both expired; only the claimed one is replaced
        idempotency.claim(conn, request=request(account, "old"), now=later)
    assert "old" in rows(db, other_account)
    with db.transaction() as conn:
        created = conn.execute(
            sa.select(idempotency_keys.c.created_at).where(
                idempotency_keys.c.account_pk == other_account.pk
            )
        ).scalar_one()
    assert created < int(later.timestamp() * 1_000_000)  # still the first claim's row


def test_an_answer_is_stored_under_its_own_key_only(db: Database, account: TestAccount) -> None:
    with db.transaction() as conn:
        idempotency.claim(conn, request=request(account, "first"), now=NOW)
        idempotency.claim(conn, request=request(account, "second"), now=NOW)
        idempotency.store(conn, request=request(account, "first"), status_code=200, response=b"{}")
    assert rows(db, account) == {"first": b"{}", "second": None}
