"""Object ids and API keys: random, unguessable, with Omise's prefixes and alphabet."""

from __future__ import annotations

import secrets

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 19  # Omise: every official fixture has 19 characters of [0-9a-z] after the prefix.
KEY_LENGTH = 32  # longer than Omise's keys: ~165 bits, so a fast hash is enough to store them.


def random_suffix(length: int = ID_LENGTH) -> str:
    """`length` base-36 characters from one read of the system's random source (not one read
    per character: ids are made inside the write path). 8 spare bytes keep the modulo bias
    below 2**-60."""
    number = int.from_bytes(secrets.token_bytes(length * 6 // 8 + 8), "big") % 36**length
    digits = []
    for _ in range(length):
        number, digit = divmod(number, 36)
        digits.append(ALPHABET[digit])
    return "".join(digits)


def new_id(prefix: str, *, livemode: bool | None = None) -> str:
    """`prefix_test_xxx` in test mode, `prefix_xxx` in live mode or for mode-less objects."""
    mode = "test_" if livemode is False else ""
    return f"{prefix}_{mode}{random_suffix()}"


def new_key(kind: str, *, livemode: bool) -> str:
    """An API key: `pkey_test_…`, `skey_test_…`, `pkey_…`, `skey_…` (`kind` is `pkey` or `skey`)."""
    mode = "" if livemode else "test_"
    return f"{kind}_{mode}{random_suffix(KEY_LENGTH)}"
