"""The conditions of a charge search (`GET /search?scope=charge`), over `charges` columns.

`search.service` reads the parameters and owns the filters every scope shares; this module knows
what a charge's own filters mean. `charges.service.list_charges` runs the conditions (search
depends on charges, never the other way): a charge search is a plain scan of the account's
charges in one mode (the `ix_charges_account_created` index), without a text index.

`query`: every word must appear (case-insensitive substring) in the charge's id, description
or metadata's JSON text, or be the card's last four digits.

Filters: `amount` (major units, a range like links'), `currency`, `created` (a date range),
`status`, `captured`, `refunded` (booleans) and `card_last_digits`.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from paylinks.errors import InvalidFilter
from paylinks.models import charges
from paylinks.search import service as search
from paylinks.search.service import SearchQuery

STATUSES = ("successful", "failed", "pending", "reversed", "expired")
LAST_DIGITS = re.compile(r"[0-9]{4}")


def _card_ends_with(digits: str) -> sa.ColumnElement[bool]:
    """The stored card (compact JSON written by orjson, `payments.service`) has these last
    digits. The quotes around them make it an exact match, not a substring."""
    return charges.c.card.like(f'%"last_digits":"{digits}"%')


def _word_condition(word: str) -> sa.ColumnElement[bool]:
    pattern = search.like(word)
    options: list[sa.ColumnElement[bool]] = [
        charges.c.id.ilike(pattern, escape="\\"),
        charges.c.description.ilike(pattern, escape="\\"),
        charges.c.metadata.ilike(pattern, escape="\\"),
    ]
    if LAST_DIGITS.fullmatch(word):
        options.append(_card_ends_with(word))
    return sa.or_(*options)


def _status_condition(value: str) -> sa.ColumnElement[bool]:
    status = value.strip().lower()
    if status not in STATUSES:
        raise InvalidFilter(f"filters[status] must be one of {', '.join(STATUSES)}, got {value!r}")
    return charges.c.status == status


def _last_digits_condition(value: str) -> sa.ColumnElement[bool]:
    digits = value.strip()
    if not LAST_DIGITS.fullmatch(digits):
        raise InvalidFilter(f"filters[card_last_digits] must be 4 digits, got {value!r}")
    return _card_ends_with(digits)


def _flag_condition(name: str, value: str) -> sa.ColumnElement[bool]:
    """`captured`: the charge was captured, as its `paid` field says (status successful; a
    refund does not undo a capture). `refunded`: something of it was refunded."""
    wanted = search.flag(name, value)
    if name == "captured":
        captured = charges.c.status == "successful"
        return captured if wanted else charges.c.status != "successful"
    return charges.c.refunded_amount > 0 if wanted else charges.c.refunded_amount == 0


def charge_conditions(query: SearchQuery) -> list[sa.ColumnElement[bool]]:
    """The conditions of a charge search; `BadRequest` for a query past the limits,
    `InvalidFilter` for a bad filter value (`parse_search` already refused unknown names)."""
    conditions = [_word_condition(word) for word in search.query_words(query.query)]
    for name, value in query.filters.items():
        if name == "amount":
            conditions.append(search.amount_condition(value, charges.c.amount, charges.c.currency))
        elif name == "currency":
            conditions.append(search.currency_condition(value, charges.c.currency))
        elif name == "created":
            conditions.extend(search.created_condition(value, charges.c.created_at))
        elif name == "status":
            conditions.append(_status_condition(value))
        elif name == "card_last_digits":
            conditions.append(_last_digits_condition(value))
        else:
            conditions.append(_flag_condition(name, value))
    return conditions
