"""Secrets at rest: sealed with AES-256-GCM under a key of the installation
(`keyring`: derived from PAYLINKS_SECRET, or the database's own secret without it), and bound
to what they belong to (an account id) so that a sealed value copied to another row does not
open there. The sealed form is text: `v1.` and base64 of the nonce and the ciphertext."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1."
NONCE_BYTES = 12  # GCM's standard nonce; random per seal (a key seals few values)


class SealBroken(Exception):
    """A sealed value that does not open with this key for this owner (another installation's
    secret, a changed PAYLINKS_SECRET, or a value moved between rows)."""


def seal(key: bytes, secret: str, *, owner: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), owner.encode())
    return VERSION + base64.b64encode(nonce + sealed).decode()


def unseal(key: bytes, sealed: str, *, owner: str) -> str:
    if not sealed.startswith(VERSION):
        raise SealBroken("not a sealed value of this version")
    try:
        raw = base64.b64decode(sealed.removeprefix(VERSION), validate=True)
        opened = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], owner.encode())
    except (binascii.Error, InvalidTag, ValueError) as problem:
        raise SealBroken("the sealed value does not open with this installation's key") from problem
    return opened.decode()
