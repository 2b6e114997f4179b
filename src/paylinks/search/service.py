"""Search (omise-compat §4.7): scopes `link`, `charge` and `refund`, a text query, filters,
pages of `per_page`.

This module reads the parameters, holds the filters every scope shares (`amount`, `currency`,
`created`, booleans) and builds the conditions of a link search; `search.charges` and
`search.refunds` build theirs from the same pieces.

For links, `query` matches every whitespace-separated word against the title, the description
or the metadata's JSON text (case-insensitive substrings). A query, of any scope, has at most
`MAX_QUERY_WORDS` words and `MAX_QUERY_LENGTH` characters: each word is a condition, and an
unbounded query was an unbounded amount of work.

Words of three characters or more are looked up in trigram indexes (migration 0008). PostgreSQL:
`pg_trgm` GIN indexes on the three columns serve the conditions below as they are. SQLite: the
FTS5 table `links_search`; `fts_match` gives the lookup and `links.service.search_links` decides
whether it or a walk over the account's links is cheaper. Shorter words cannot use an index;
they are checked on the rows the longer words leave (or on the account's links when there are
none). Every word is checked with the `LIKE` conditions search has always used, so results are
exactly theirs: the indexes only narrow the rows to check.

Link filters: `amount` in *major* units as Omise documents (`1000`, `1000..2000`, `..500`,
`100..`), `currency`, `multiple`, `used`, `deleted`, `active`, and `created` as a date range.
Charges and refunds share `amount`, `currency` and `created` (`search.charges`, `search.refunds`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from paylinks.clock import parse_time, to_micros
from paylinks.errors import BadRequest, InvalidFilter, InvalidPage, InvalidScope
from paylinks.models import links
from paylinks.money import CURRENCIES, major_to_minor, parse_currency
from paylinks.pagination import ListQuery
from paylinks.params import FALSE_WORDS, TRUE_WORDS, Params

SCOPES = ("link", "charge", "refund")
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
MAX_QUERY_WORDS = 10
MAX_QUERY_LENGTH = 200
TRIGRAM = 3  # the shortest word a trigram index can look up
FILTERS = ("amount", "currency", "multiple", "used", "deleted", "active", "created")
CHARGE_FILTERS = (
    "amount", "currency", "created", "status", "captured", "refunded", "card_last_digits",
)  # fmt: skip
REFUND_FILTERS = ("amount", "currency", "created", "charge")
SCOPE_FILTERS = {"link": FILTERS, "charge": CHARGE_FILTERS, "refund": REFUND_FILTERS}


@dataclass(frozen=True)
class SearchQuery:
    scope: str
    query: str
    filters: dict[str, str]
    order: str
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def parse_search(params: Params) -> SearchQuery:
    scope = params.string("scope", required=True, error=InvalidScope)
    if scope not in SCOPES:
        raise InvalidScope(
            f"scope {scope!r} is not supported; supported scopes: {', '.join(SCOPES)}"
        )
    filters = params.mapping("filters", error=InvalidFilter) or {}
    known = SCOPE_FILTERS[scope]
    unknown = [name for name in filters if name not in known]
    if unknown:
        raise InvalidFilter(
            f"unknown filter {unknown[0]!r}; {scope} filters are {', '.join(known)}"
        )
    order = params.string("order") or "chronological"
    if order not in ("chronological", "reverse_chronological"):
        raise BadRequest("order must be chronological or reverse_chronological")
    page = params.integer("page", error=InvalidPage)
    page = 1 if page is None else page
    per_page = params.integer("per_page", error=InvalidPage)
    per_page = DEFAULT_PER_PAGE if per_page is None else per_page
    if not 1 <= page <= MAX_PAGE:
        raise InvalidPage(f"page must be between 1 and {MAX_PAGE}")
    if per_page < 1:
        raise InvalidPage("per_page must be a positive integer")
    query = params.string("query") or ""
    query_words(query)
    return SearchQuery(
        scope=scope,
        query=query,
        filters={k: _filter_text(v) for k, v in filters.items() if v not in (None, "")},
        order=order,
        page=page,
        per_page=min(per_page, MAX_PER_PAGE),
    )


def _filter_text(value: Any) -> str:
    """A filter value as text; JSON booleans read as `true`/`false`, not Python's spelling."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query_words(query: str) -> list[str]:
    """The words of a search query; `BadRequest` past the limits, or for a NUL character (the
    API's parameters refuse those already; the dashboard's search box reads its own)."""
    if "\x00" in query:
        raise BadRequest("query must not contain NUL characters")
    if len(query) > MAX_QUERY_LENGTH:
        raise BadRequest(
            f"query must be at most {MAX_QUERY_LENGTH} characters long, got {len(query)}"
        )
    words = query.split()
    if len(words) > MAX_QUERY_WORDS:
        raise BadRequest(f"query must have at most {MAX_QUERY_WORDS} words, got {len(words)}")
    return words


def like(word: str) -> str:
    """A `LIKE` pattern for the word anywhere in a text, its `%` and `_` taken literally (match it
    with a backslash as the escape character)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _word_condition(word: str) -> sa.ColumnElement[bool]:
    """The word in the title, the description or the metadata (its JSON text: values, and keys
    too): what search has always meant. PostgreSQL's trigram indexes serve it as it is."""
    return sa.or_(
        links.c.title.ilike(like(word), escape="\\"),
        links.c.description.ilike(like(word), escape="\\"),
        links.c.metadata.ilike(like(word), escape="\\"),
    )


def fts_match(query: str, dialect: str) -> str | None:
    """SQLite: the FTS5 query for the words a trigram index can look up (three characters or
    more), for `links.service.search_links(text_match=...)`; None when there are none, or on
    another database. FTS5 folds case beyond ASCII where SQLite's LIKE does not: its matches are
    a superset, which the `LIKE` conditions of `link_conditions` then narrow."""
    if dialect != "sqlite":
        return None
    words = [word for word in query.split() if len(word) >= TRIGRAM]
    # Inside double quotes everything is literal; a quote is doubled.
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words) or None


def _text_conditions(query: str) -> list[sa.ColumnElement[bool]]:
    return [_word_condition(word) for word in query_words(query)]


def _split_range(name: str, value: str) -> tuple[str | None, str | None]:
    if ".." in value:
        low, _, high = value.partition("..")
        return (low.strip() or None, high.strip() or None)
    return value.strip(), value.strip()


def amount_condition(
    value: str, amount: sa.ColumnElement[int], currency: sa.ColumnElement[str]
) -> sa.ColumnElement[bool]:
    """`amount` (minor units, in `currency`) within the filter's bounds in major units, which
    compare per currency: 1000 is 100000 satang but 1000 yen."""
    low, high = _split_range("amount", value)
    exponents = sorted({c.exponent for c in CURRENCIES.values()})
    parts = []
    for exponent in exponents:
        sample = next(c for c in CURRENCIES.values() if c.exponent == exponent)
        codes = [c.code for c in CURRENCIES.values() if c.exponent == exponent]
        bounds: list[sa.ColumnElement[bool]] = [currency.in_(codes)]
        try:
            # A bound finer than the currency's unit rounds inward: 450.01 yen means ≥ ¥451.
            if low is not None:
                bounds.append(amount >= math.ceil(major_to_minor(low, sample, exact=False)))
            if high is not None:
                bounds.append(amount <= math.floor(major_to_minor(high, sample, exact=False)))
        except ValueError:
            raise InvalidFilter(
                f"filters[amount] must be an amount in major units or a range like 1000..2000, "
                f"got {value!r}"
            ) from None
        parts.append(sa.and_(*bounds))
    return sa.or_(*parts)


def flag(name: str, value: str) -> bool:
    """A boolean filter's value, in any of the words parameters accept (`yes`, `on`, `1`...)."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidFilter(f"filters[{name}] must be true or false, got {value!r}")


def created_condition(
    value: str, created_at: sa.ColumnElement[int]
) -> list[sa.ColumnElement[bool]]:
    """`created_at` (microseconds) within a date or time range; an end date covers its day."""
    low, high = _split_range("created", value)
    try:
        out = []
        if low is not None:
            out.append(created_at >= to_micros(parse_time(low)))
        if high is not None:
            out.append(created_at <= to_micros(parse_time(high, end_of_day=True)))
        return out
    except (ValueError, OverflowError):
        raise InvalidFilter(
            f"filters[created] must be a date or a range like 2026-01-01..2026-01-31, got {value!r}"
        ) from None


def currency_condition(value: str, currency: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    try:
        return currency == parse_currency(value).code
    except BadRequest:
        raise InvalidFilter(f"filters[currency]: {value!r} is not a currency") from None


def _active_condition(active: bool, now: datetime) -> sa.ColumnElement[bool]:
    micros = to_micros(now)
    condition = sa.and_(
        links.c.deleted == sa.false(),
        sa.or_(links.c.multiple == sa.true(), links.c.used == sa.false()),
        sa.or_(links.c.expires_at.is_(None), links.c.expires_at > micros),
        sa.or_(links.c.usage_limit.is_(None), links.c.paid_count < links.c.usage_limit),
    )
    return condition if active else sa.not_(condition)


def link_conditions(search: SearchQuery, *, now: datetime) -> list[sa.ColumnElement[bool]]:
    """The conditions of a search; `BadRequest` for a query past the limits, `InvalidFilter` for
    a bad filter."""
    conditions = _text_conditions(search.query)
    for name, value in search.filters.items():
        if name == "amount":
            conditions.append(amount_condition(value, links.c.amount, links.c.currency))
        elif name == "currency":
            conditions.append(currency_condition(value, links.c.currency))
        elif name == "created":
            conditions.extend(created_condition(value, links.c.created_at))
        elif name == "active":
            conditions.append(_active_condition(flag(name, value), now))
        else:
            conditions.append(links.c[name] == flag(name, value))
    return conditions


def page_query(search: SearchQuery) -> ListQuery:
    """The search's page as list parameters, for the list readers that run charge and refund
    searches (their created range is a condition, not `from`/`to`)."""
    return ListQuery(search.per_page, search.offset, search.order, None, None)


def search_object(search: SearchQuery, *, data: list[dict[str, Any]], total: int) -> dict[str, Any]:
    return {
        "object": "search",
        "order": search.order,
        "scope": search.scope,
        "query": search.query,
        "filters": search.filters,
        "page": search.page,
        "per_page": search.per_page,
        "location": "/search",
        "total": total,
        "total_pages": math.ceil(total / search.per_page) if total else 0,
        "export": None,
        "data": data,
    }
