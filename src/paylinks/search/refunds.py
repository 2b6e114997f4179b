"""The conditions of a refund search (`GET /search?scope=refund`), over `refunds` columns.

`search.service` reads the parameters and owns the shared filters; `refunds.service.list_refunds`
runs the conditions (a scan of the account's refunds in one mode, by `ix_refunds_account_created`;
search depends on refunds, never the other way).

`query`: every word must appear (case-insensitive substring) in the refund's id or its charge's
id. Filters: `amount` (major units, a range like links'), `currency`, `created` (a date range)
and `charge` (a charge id, exactly).

A refund's charge id lives in `charges`: the conditions ask about it through a subquery on an
alias of that table, so that they stay conditions on `refunds` rows, which both the page (refunds
joined to their charges) and its count (refunds alone) can take as they are.
"""

from __future__ import annotations

import sqlalchemy as sa

from paylinks.models import charges, refunds
from paylinks.search import service as search
from paylinks.search.service import SearchQuery

# An alias, so that the subqueries below are never correlated with the page's own join.
_charge = charges.alias("searched_charge")


def _charge_id_is(charge_id: str) -> sa.ColumnElement[bool]:
    """The refund is of this charge (ids are unique: one index lookup)."""
    pk = sa.select(_charge.c.pk).where(_charge.c.id == charge_id).scalar_subquery()
    return refunds.c.charge_pk == pk


def _word_condition(word: str) -> sa.ColumnElement[bool]:
    pattern = search.like(word)
    charge_matches = sa.exists().where(
        _charge.c.pk == refunds.c.charge_pk, _charge.c.id.ilike(pattern, escape="\\")
    )
    return sa.or_(refunds.c.id.ilike(pattern, escape="\\"), charge_matches)


def refund_conditions(query: SearchQuery) -> list[sa.ColumnElement[bool]]:
    """The conditions of a refund search; `BadRequest` for a query past the limits,
    `InvalidFilter` for a bad filter value (`parse_search` already refused unknown names)."""
    conditions = [_word_condition(word) for word in search.query_words(query.query)]
    for name, value in query.filters.items():
        if name == "amount":
            conditions.append(search.amount_condition(value, refunds.c.amount, refunds.c.currency))
        elif name == "currency":
            conditions.append(search.currency_condition(value, refunds.c.currency))
        elif name == "created":
            conditions.extend(search.created_condition(value, refunds.c.created_at))
        else:  # charge
            conditions.append(_charge_id_is(value.strip()))
    return conditions
