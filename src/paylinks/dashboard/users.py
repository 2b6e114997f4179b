"""Dashboard users: an e-mail and a password (scrypt) that sign in to one account."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.clock import to_micros
from paylinks.errors import BadRequest
from paylinks.ids import new_id
from paylinks.models import users

# scrypt with n=2^15, r=8, p=1 (OWASP's recommended minimum): about 32 MiB and 50-100 ms per
# guess. The parameters are stored with each hash, so they can be raised later.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSWORD = 12


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


def authenticate(conn: Connection, *, email: str, password: str) -> User | None:
    """The user with this e-mail and password, or None (in about the same time either way)."""
    try:
        email = normalise_email(email)
    except BadRequest:
        email = ""
    row = conn.execute(sa.select(users).where(users.c.email == email)).first()
    if row is None:
        password_matches(password, _DUMMY_HASH)
        return None
    if not password_matches(password, row.password_hash):
        return None
    return User(row.pk, row.id, row.account_pk, row.email)
