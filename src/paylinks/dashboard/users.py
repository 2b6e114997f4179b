"""Dashboard users: an e-mail and a password (scrypt) that sign in to one account.

Guessing is slowed twice: sign-in attempts are limited per client address (`access`), and a
user whose password is failed `LOCK_AFTER` times in a row is locked for `LOCK_FOR` (from any
address: an attacker who rotates addresses still meets the lock). The lock ends by time alone;
a successful sign-in resets the count. Changing a password ends the user's other sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.clock import from_micros, to_micros
from paylinks.dashboard import sessions
from paylinks.errors import BadRequest
from paylinks.ids import new_id
from paylinks.models import users

# scrypt with n=2^15, r=8, p=1 (OWASP's recommended minimum): about 32 MiB and 50-100 ms per
# guess. The parameters are stored with each hash, so they can be raised later.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSWORD = 12
LOCK_AFTER = 10
LOCK_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class User:
    pk: int
    id: str
    account_pk: int
    email: str


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    encode = base64.b64encode
    return (
        f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(digest).decode()}"
    )


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=128 * n * r * 2, dklen=32
    )


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


# Checked against when an e-mail is unknown, so that both answers take as long.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise BadRequest("enter an e-mail address such as owner@example.com")
    return email


def create_user(
    conn: Connection, *, account_pk: int, email: str, password: str, now: datetime
) -> User:
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"passwords need at least {MIN_PASSWORD} characters")
    taken = conn.execute(sa.select(users.c.pk).where(users.c.email == email)).first()
    if taken is not None:
        raise BadRequest(f"a user with the e-mail {email} already exists")
    user_id = new_id("user")
    pk = conn.execute(
        users.insert()
        .values(
            id=user_id,
            account_pk=account_pk,
            email=email,
            password_hash=hash_password(password),
            created_at=to_micros(now),
        )
        .returning(users.c.pk)
    ).scalar_one()
    return User(int(pk), user_id, account_pk, email)


@dataclass(frozen=True)
class Candidate:
    """A user as sign-in sees one: the stored hash and the lock."""

    user: User
    password_hash: str
    locked_until: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


def find_for_sign_in(conn: Connection, *, email: str) -> Candidate | None:
    """The user with this e-mail, or None. The password is checked apart (`check_password`):
    scrypt takes tens of milliseconds, which must not be spent inside a transaction."""
    try:
        email = normalise_email(email)
    except BadRequest:
        return None
    row = conn.execute(sa.select(users).where(users.c.email == email)).first()
    if row is None:
        return None
    user = User(row.pk, row.id, row.account_pk, row.email)
    return Candidate(user, row.password_hash, from_micros(row.locked_until))


def check_password(candidate: Candidate | None, password: str) -> bool:
    """Whether `password` is the candidate's, in about the same time when there is none."""
    if candidate is None:
        password_matches(password, _DUMMY_HASH)
        return False
    return password_matches(password, candidate.password_hash)


def record_failure(conn: Connection, *, user_pk: int, now: datetime) -> datetime | None:
    """Count a failed password; when that makes `LOCK_AFTER` in a row, lock the user and say
    until when."""
    failed = conn.execute(
        users.update()
        .where(users.c.pk == user_pk)
        .values(failed_sign_ins=users.c.failed_sign_ins + 1)
        .returning(users.c.failed_sign_ins)
    ).scalar_one()
    if failed < LOCK_AFTER:
        return None
    until = now + LOCK_FOR
    conn.execute(
        users.update()
        .where(users.c.pk == user_pk)
        .values(failed_sign_ins=0, locked_until=to_micros(until))
    )
    return until


def record_success(conn: Connection, *, user_pk: int) -> None:
    conn.execute(
        users.update()
        .where(users.c.pk == user_pk, users.c.failed_sign_ins > 0)
        .values(failed_sign_ins=0)
    )


def find_user(conn: Connection, *, email: str) -> Candidate:
    """For commands: the user with this e-mail, or `BadRequest`."""
    found = find_for_sign_in(conn, email=email)
    if found is None:
        raise BadRequest(f"no user has the e-mail {email}")
    return found


def new_password_hash(password: str) -> str:
    """The stored form of a new password (scrypt: call it outside any transaction)."""
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"passwords need at least {MIN_PASSWORD} characters")
    return hash_password(password)


def set_password(
    conn: Connection, *, user_pk: int, password_hash: str, keep_session: int | None = None
) -> None:
    """Store a new password (from `new_password_hash`), lift any lock, and end the user's
    sessions but `keep_session` (the one that made the change, if any): whoever knew the old
    password is signed out everywhere."""
    conn.execute(
        users.update()
        .where(users.c.pk == user_pk)
        .values(password_hash=password_hash, failed_sign_ins=0, locked_until=None)
    )
    sessions.end_user_sessions(conn, user_pk=user_pk, keep=keep_session)
