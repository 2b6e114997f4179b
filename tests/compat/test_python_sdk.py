"""The installed official Python SDK (`omise` 0.16.0, unmodified) against a live server.

The SDK is pointed at the server the way omise-compat §1.1 and the README tell users to: through
its module globals. Everything the tests call is what a user's code would call; `api` (plain HTTP
with the same key) only looks at the result from the outside.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import httpx
import omise
import omise.errors
import pytest
from servers import LiveServer, create_account_keys

from paylinks.money import CURRENCIES

MISSING_ID = "payl_test_" + "0" * 19
MANY = 130  # more than the SDK's page of 100, and not a multiple of it


def use_fresh_account(server: LiveServer, name: str) -> dict[str, str]:
    """Switch the SDK to a new account's test keys, so that counts and orders are exact."""
    keys = create_account_keys(server.database_url, name)
    omise.api_secret = keys["secret_key"]
    omise.api_public = keys["public_key"]
    return keys


def create(title: str, amount: int = 100000, **extra: Any) -> omise.Link:
    link = omise.Link.create(amount=amount, currency="thb", title=title, **extra)
    assert isinstance(link, omise.Link)
    return link


def test_the_sdk_under_test_is_the_pinned_release() -> None:
    assert version("omise") == "0.16.0"


@pytest.mark.usefixtures("sdk")
def test_create_with_metadata_and_multiple(server: LiveServer, api: httpx.Client) -> None:
    metadata = {
        "invoice_id": "INV-001",
        "customer": {"id": "CUST-123", "tags": ["vip", "b2b"]},
        "items": 3,
    }
    link = omise.Link.create(
        amount=250000,
        currency="thb",
        title="Invoice #INV-001 สินค้า",
        description="Payment for consulting services",
        multiple=True,
        metadata=metadata,
    )

    assert isinstance(link, omise.Link)
    assert link.object == "link"
    assert link.id.startswith("payl_test_") and len(link.id) == len("payl_test_") + 19
    assert link.livemode is False
    assert link.location == f"/links/{link.id}"
    assert (link.amount, link.currency) == (250000, "thb")
    assert link.title == "Invoice #INV-001 สินค้า"
    assert link.description == "Payment for consulting services"
    assert link.multiple is True
    assert link.used is False and link.used_at is None
    assert link.deleted is False and link.destroyed is False and link.deleted_at is None
    assert link.payment_uri == f"{server.url}/pay/{link.id}"
    # Nested dicts come back wrapped, the way users read them.
    assert link.metadata.invoice_id == "INV-001"
    assert link._attributes["metadata"] == metadata
    charges = link.charges
    assert isinstance(charges, omise.Collection)
    assert (len(charges), charges.total, charges.location) == (0, 0, f"/links/{link.id}/charges")

    stored = api.get(f"/links/{link.id}").json()
    for key in ("id", "amount", "currency", "title", "description", "multiple", "created_at"):
        assert stored[key] == link._attributes[key], key
    assert stored["metadata"] == metadata


@pytest.mark.usefixtures("sdk")
def test_create_defaults_to_a_single_use_link_without_description() -> None:
    link = create("Single use")
    assert link.multiple is False
    assert link.description is None
    assert link._attributes["metadata"] == {}


@pytest.mark.usefixtures("sdk")
def test_retrieve_by_id_and_reload() -> None:
    created = create("Retrieve me", amount=123400, description="d", metadata={"k": "v"})

    link = omise.Link.retrieve(created.id)
    assert isinstance(link, omise.Link)
    assert link._attributes["id"] == created.id
    for key in ("amount", "currency", "title", "description", "multiple", "created_at"):
        assert link._attributes[key] == created._attributes[key], key
    assert link.metadata.k == "v"

    assert link.reload() is link
    assert (link.id, link.amount) == (created.id, 123400)


@pytest.mark.usefixtures("sdk")
def test_retrieve_without_id_is_one_page_of_the_list(server: LiveServer) -> None:
    use_fresh_account(server, "Python SDK retrieve()")
    ids = [create(f"Page {i}", amount=100000 + i).id for i in range(3)]

    page = omise.Link.retrieve()

    assert isinstance(page, omise.Collection)
    assert page.object == "list"
    assert (len(page), page.total, page.limit, page.offset) == (3, 3, 20, 0)
    assert (page.order, page.location) == ("chronological", "/links")
    assert [link.id for link in page] == ids
    assert all(isinstance(link, omise.Link) for link in page)
    assert page[1].amount == 100001
    assert page.retrieve(ids[2]).title == "Page 2"


@pytest.mark.usefixtures("sdk")
def test_list_iterates_past_one_page_exactly_once_in_order(server: LiveServer) -> None:
    use_fresh_account(server, "Python SDK list()")
    created = [create(f"Bulk {i:03d}", amount=100000 + i).id for i in range(MANY)]
    assert len(set(created)) == MANY

    links = omise.Link.list()
    assert len(links) == MANY  # a `limit=1` request that reads `total`

    seen = [link.id for link in links]  # pages of 100 with a JSON body on GET, until a short one
    assert seen == created

    again = list(omise.Link.list())
    assert [link.id for link in again] == created
    assert all(isinstance(link, omise.Link) for link in again)
    assert again[-1].title == f"Bulk {MANY - 1:03d}" and again[-1].amount == 100000 + MANY - 1

    # One page, explicitly: `LazyCollection.offset` sends limit, offset and order.
    window = omise.Link.list().offset(limit=5, offset=10, order="reverse_chronological")
    assert [link.id for link in window] == created[::-1][10:15]
    assert [link.id for link in omise.Link.list().offset(offset=120)] == created[120:]


@pytest.mark.usefixtures("sdk")
def test_destroy_marks_the_link_deleted_and_it_stays_readable() -> None:
    link = create("To delete", multiple=True)
    assert link.destroyed is False

    assert link.destroy() is link
    assert link.destroyed is True
    assert link.deleted is True
    assert link.deleted_at is not None
    assert link.id.startswith("payl_test_") and link.amount == 100000

    again = omise.Link.retrieve(link.id)
    assert again.deleted is True and again.destroyed is True
    assert again.deleted_at == link.deleted_at
    assert again.title == "To delete"

    # Deleting again is harmless and changes nothing.
    assert again.destroy().deleted_at == link.deleted_at


@pytest.mark.usefixtures("sdk")
def test_search_links_by_query_and_amount_range(server: LiveServer) -> None:
    use_fresh_account(server, "Python SDK search")
    in_range = [
        create("Blue widget", amount=100000),  # ฿1,000.00: the lower bound
        create("blue WIDGET deluxe", amount=150000),
        create("Widget, blue", amount=200000),  # ฿2,000.00: the upper bound
    ]
    create("Blue widget", amount=99900)  # ฿999.00: below
    create("Blue widget", amount=200100)  # ฿2,001.00: above
    create("Red widget", amount=150000)  # the text does not match
    create("Blue gadget", amount=150000)  # only one word matches

    # The query has a space: the SDK writes it into the path and requests percent-encodes it.
    result = omise.Search.execute("link", query="blue widget", filters={"amount": "1000..2000"})

    assert isinstance(result, omise.Search)
    assert (result.object, result.scope, result.query) == ("search", "link", "blue widget")
    assert result._attributes["filters"] == {"amount": "1000..2000"}
    assert (result.total, result.page, result.total_pages) == (3, 1, 1)
    assert len(result) == 3
    assert [link.id for link in result] == [link.id for link in in_range]
    assert all(isinstance(link, omise.Link) for link in result)
    assert [link.amount for link in result] == [100000, 150000, 200000]
    assert result[1].title == "blue WIDGET deluxe"

    everything = omise.Search.execute("link")
    assert everything.total == 7


def sdk_charge(amount: int, description: str, **extra: Any) -> omise.Charge:
    """A card charge as a user's test code makes one: a token from the vault, then the charge."""
    card = omise.Token.create(
        name="Somchai Jaidee",
        number="4242424242424242",
        expiration_month=12,
        expiration_year=2035,
        security_code="123",
    )
    charge = omise.Charge.create(
        amount=amount, currency="thb", card=card.id, description=description, **extra
    )
    assert isinstance(charge, omise.Charge)
    return charge


@pytest.mark.usefixtures("sdk")
def test_search_charges_and_refunds(server: LiveServer) -> None:
    use_fresh_account(server, "Python SDK charge search")
    in_range = [
        sdk_charge(100000, "Espresso beans"),  # ฿1,000.00: the lower bound
        sdk_charge(200000, "Espresso machine"),  # ฿2,000.00: the upper bound
    ]
    sdk_charge(99900, "Espresso cup")  # ฿999.00: below
    sdk_charge(150000, "Espresso grinder", capture=False)  # authorized, not captured
    sdk_charge(150000, "Green tea")  # the text does not match

    result = omise.Search.execute(
        "charge", query="espresso", filters={"amount": "1000..2000", "captured": "true"}
    )

    assert isinstance(result, omise.Search)
    assert (result.object, result.scope, result.query) == ("search", "charge", "espresso")
    assert result._attributes["filters"] == {"amount": "1000..2000", "captured": "true"}
    assert (result.total, len(result)) == (2, 2)
    assert all(isinstance(charge, omise.Charge) for charge in result)
    assert [charge.id for charge in result] == [charge.id for charge in in_range]
    assert [charge.description for charge in result] == ["Espresso beans", "Espresso machine"]
    assert omise.Search.execute("charge", filters={"captured": "false"}).total == 1

    in_range[1].refund(amount=50000)
    refunds = omise.Search.execute("refund", filters={"charge": in_range[1].id})
    assert [type(refund) for refund in refunds] == [omise.Refund]
    assert (refunds[0].amount, refunds[0].charge) == (50000, in_range[1].id)


@pytest.mark.usefixtures("sdk")
def test_missing_link_raises_not_found() -> None:
    with pytest.raises(omise.errors.NotFoundError) as raised:
        omise.Link.retrieve(MISSING_ID)
    assert str(raised.value) == f"link {MISSING_ID} was not found"


@pytest.mark.usefixtures("sdk")
def test_another_accounts_link_is_not_found(server: LiveServer) -> None:
    theirs = create("Not yours")
    use_fresh_account(server, "Python SDK intruder")
    with pytest.raises(omise.errors.NotFoundError):
        omise.Link.retrieve(theirs.id)
    with pytest.raises(omise.errors.NotFoundError):
        theirs.destroy()


@pytest.mark.usefixtures("sdk")
@pytest.mark.parametrize(
    "key",
    ["skey_test_" + "x" * 32, "not-a-key", "public"],
    ids=["unknown-secret-key", "garbage", "public-key-as-secret"],
)
def test_bad_key_raises_authentication_failure(server: LiveServer, key: str) -> None:
    omise.api_secret = server.public_key if key == "public" else key
    with pytest.raises(omise.errors.AuthenticationFailureError) as raised:
        omise.Link.retrieve(MISSING_ID)
    assert "authentication failed" in str(raised.value)
    with pytest.raises(omise.errors.AuthenticationFailureError):
        omise.Link.create(amount=100000, currency="thb", title="Never")
    with pytest.raises(omise.errors.AuthenticationFailureError):
        list(omise.Link.list())


@pytest.mark.usefixtures("sdk")
def test_validation_errors_reach_the_sdk_as_errors() -> None:
    with pytest.raises(omise.errors.BaseError) as raised:
        omise.Link.create(amount=-5, currency="thb", title="Negative")
    assert type(raised.value) is omise.errors.BaseError  # `invalid_amount` has no own class
    assert "amount" in str(raised.value)


@pytest.mark.usefixtures("sdk")
def test_capability_is_read_with_the_public_key_alone(server: LiveServer) -> None:
    omise.api_secret = None  # Capability sends `api_public` to `api_main`; no secret is needed
    found = omise.Capability.retrieve()
    assert isinstance(found, omise.Capability)
    assert (found.object, found.location, found.country) == ("capability", "/capability", "TH")
    thb = CURRENCIES["thb"]
    limits = found.limits.charge_amount  # the SDK wraps nested objects too
    assert (limits.max, limits.min) == (thb.maximum, thb.minimum)
    card, promptpay = found.payment_methods  # dicts: the SDK wraps objects, not list items
    assert card["name"] == "card" and card["currencies"] == [code.upper() for code in CURRENCIES]
    assert promptpay["name"] == "promptpay" and promptpay["currencies"] == ["THB"]
    assert found.zero_interest_installments is False
    assert found.reload().payment_methods[0]["card_brands"] == card["card_brands"]
    omise.api_public = server.secret_key  # a secret key in its place is taken too
    assert omise.Capability.retrieve().country == "TH"
    omise.api_public = "pkey_test_" + "x" * 32
    with pytest.raises(omise.errors.AuthenticationFailureError):
        omise.Capability.retrieve()


@pytest.mark.usefixtures("sdk")
def test_an_omise_version_header_is_accepted() -> None:
    omise.api_version = "2019-05-29"
    link = create("Versioned")
    assert omise.Link.retrieve(link.id).title == "Versioned"


def test_the_sdk_globals_are_restored_after_each_test() -> None:
    assert omise.api_main == "https://api.omise.co"
    assert omise.api_vault == "https://vault.omise.co"
    assert omise.api_secret is None and omise.api_public is None and omise.api_version is None
