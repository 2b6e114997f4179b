"""The capability object, read from the modules that decide what the API accepts (currencies and
limits from `money`, card brands from the tokenizer, PromptPay from `sources`), so that it can
never offer a payer more than a charge would take."""

from __future__ import annotations

from typing import Any

from paylinks.money import CURRENCIES
from paylinks.sources.service import PROMPTPAY_CURRENCY, SOURCE_TYPES
from paylinks.tokens.cards import BRANDS

# Omise: an account's limits are given in its own currency. paylinks accounts are Thai (their
# PromptPay id receives baht), so the country is TH and `charge_amount` is THB's range.
COUNTRY = "TH"
ACCOUNT_CURRENCY = "thb"
# Omise: paylinks has no installments and lists no installment method. Omise's published minimum
# (฿2,000) stays in `limits`, because the mobile SDKs read the field as always present.
INSTALLMENT_MINIMUM = 200_000


def capability_to_wire(*, payable: bool, sources: bool = True) -> dict[str, Any]:
    """Omise's capability object; `payable` is whether the caller's mode can take payments at
    all (no payment method is offered where every charge would be refused), `sources` whether
    it takes sources (live mode takes Omise's card tokens only, so far)."""
    home = CURRENCIES[ACCOUNT_CURRENCY]
    return {
        "object": "capability",
        "location": "/capability",
        "banks": [],
        "limits": {
            "charge_amount": {"max": home.maximum, "min": home.minimum},
            "installment_amount": {"min": INSTALLMENT_MINIMUM},
        },
        "payment_methods": payment_methods(sources=sources) if payable else [],
        "tokenization_methods": [],
        "zero_interest_installments": False,
        "country": COUNTRY,
    }


def payment_methods(*, sources: bool = True) -> list[dict[str, Any]]:
    """Cards in every presentment currency with the brands the tokenizer knows, then each source
    type. Omise: currencies are upper case here, unlike everywhere else on the wire."""
    card = _method(
        "card",
        [code.upper() for code in CURRENCIES],
        card_brands=[brand for brand, _ranges, _lengths in BRANDS],
    )
    if not sources:
        return [card]
    return [card, *(_method(kind, [PROMPTPAY_CURRENCY.upper()]) for kind in SOURCE_TYPES)]


def _method(
    name: str, currencies: list[str], *, card_brands: list[str] | None = None
) -> dict[str, Any]:
    # Omise: the fields a method has on Omise, `null` where paylinks has nothing to say.
    return {
        "object": "payment_method",
        "name": name,
        "currencies": currencies,
        "card_brands": card_brands,
        "installment_terms": None,
        "loan_installment_terms": None,
        "banks": [],
        "provider": None,
    }
