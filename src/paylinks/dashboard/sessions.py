"""Dashboard sessions: server-side rows named by a random cookie token (only its hash is kept),
so that signing out or expiry ends a session everywhere at once.

A session opened with a secret key lives no longer than that key: rolling the key (from the CLI
or the dashboard) ends it, and a session whose key is revoked is never found again. A user's
sessions end when the user's password changes (all but the one that changed it).

A session lasts `IDLE` after its last renewal and never more than `LIFETIME` after sign-in; it
is renewed (one write) when less than `RENEW_BELOW` of idle time is left, not on every page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.clock import from_micros, to_micros
from paylinks.models import accounts, api_keys, dashboard_sessions, users

COOKIE = "paylinks_session"
IDLE = timedelta(hours=2)
LIFETIME = timedelta(hours=12)
RENEW_BELOW = timedelta(hours=1, minutes=45)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    pk: int
    token: str
    account_pk: int
    account_id: str
    account_name: str
    user_email: str | None  # None: signed in with a secret key (the session keeps its mode)
    user_pk: int | None
    livemode: bool
    created_at: datetime
    expires_at: datetime
    clock_offset: int = 0  # the account's test clock (test mode), as on `Principal`
    time_zone: str | None = None  # the account's dashboard time zone (None: the default)

    @property
    def principal(self) -> Principal:
        """The session acts as the account's secret key of its mode."""
        return Principal(
            self.account_pk, self.account_id, self.livemode, "secret", "", None, self.clock_offset
        )

    @property
    def may_switch_mode(self) -> bool:
        return self.user_email is not None

    @property
    def csrf_token(self) -> str:
        """Bound to the session: a form from another session (or site) carries the wrong one."""
        return hmac.new(self.token.encode(), b"paylinks-dashboard-csrf", hashlib.sha256).hexdigest()

    def csrf_ok(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent, self.csrf_token)


def start_session(
    conn: Connection,
    *,
    account_pk: int,
    user_pk: int | None,
    api_key_pk: int | None,
    livemode: bool,
    now: datetime,
) -> str:
    """A new session, opened by a user or by a secret key; its cookie token (shown to nobody
    else)."""
    if (user_pk is None) == (api_key_pk is None):
        raise ValueError("a session is opened by a user or by a key, not both")
    token = secrets.token_urlsafe(32)
    conn.execute(
        dashboard_sessions.insert().values(
            token_hash=_hash(token),
            account_pk=account_pk,
            user_pk=user_pk,
            api_key_pk=api_key_pk,
            livemode=livemode,
            created_at=to_micros(now),
            expires_at=to_micros(now + IDLE),
        )
    )
    return token


def find_session(conn: Connection, *, token: str, now: datetime) -> Session | None:
    """The live session of this token, or None (unknown, signed out, expired, or opened with a
    key that has since been revoked)."""
    row = conn.execute(
        sa.select(
            dashboard_sessions,
            accounts.c.id.label("account_id"),
            accounts.c.name.label("account_name"),
            accounts.c.clock_offset,
            accounts.c.time_zone,
            users.c.email,
        )
        .join(accounts, accounts.c.pk == dashboard_sessions.c.account_pk)
        .outerjoin(users, users.c.pk == dashboard_sessions.c.user_pk)
        .outerjoin(api_keys, api_keys.c.pk == dashboard_sessions.c.api_key_pk)
        .where(
            dashboard_sessions.c.token_hash == _hash(token),
            sa.or_(dashboard_sessions.c.api_key_pk.is_(None), api_keys.c.revoked_at.is_(None)),
        )
    ).first()
    if row is None or row.expires_at <= to_micros(now):
        return None
    return Session(
        pk=row.pk,
        token=token,
        account_pk=row.account_pk,
        account_id=row.account_id,
        account_name=row.account_name,
        user_email=row.email,
        user_pk=row.user_pk,
        livemode=bool(row.livemode),
        created_at=from_micros(row.created_at),  # type: ignore[arg-type]
        expires_at=from_micros(row.expires_at),  # type: ignore[arg-type]
        clock_offset=0 if row.livemode else row.clock_offset,
        time_zone=row.time_zone,
    )


def _renewed_until(session: Session, now: datetime) -> datetime:
    return min(now + IDLE, session.created_at + LIFETIME)


def needs_renewal(session: Session, now: datetime) -> bool:
    left = session.expires_at - now
    return left < RENEW_BELOW and _renewed_until(session, now) > session.expires_at


def renew(conn: Connection, *, session: Session, now: datetime) -> None:
    until = _renewed_until(session, now)
    conn.execute(
        dashboard_sessions.update()
        .where(dashboard_sessions.c.pk == session.pk)
        .values(expires_at=to_micros(until))
    )


def end_session(conn: Connection, *, token: str) -> None:
    conn.execute(dashboard_sessions.delete().where(dashboard_sessions.c.token_hash == _hash(token)))


def end_user_sessions(conn: Connection, *, user_pk: int, keep: int | None = None) -> None:
    """End every session of a user, but `keep` (the session that asked, if any)."""
    query = dashboard_sessions.delete().where(dashboard_sessions.c.user_pk == user_pk)
    if keep is not None:
        query = query.where(dashboard_sessions.c.pk != keep)
    conn.execute(query)


def switch_mode(conn: Connection, *, session: Session, livemode: bool) -> None:
    """Only for users: a session opened with a secret key stays in that key's mode."""
    if not session.may_switch_mode:
        raise PermissionError("a session opened with an API key cannot change mode")
    conn.execute(
        dashboard_sessions.update()
        .where(dashboard_sessions.c.pk == session.pk)
        .values(livemode=livemode)
    )
