"""Fuzzing Omise's webhook endpoint (`POST /omise/webhooks/:account_id`), which the OpenAPI-driven
fuzzing never reaches (it is Omise's, not the merchant's): odd bodies and headers, unsigned or
signed with the right secret. Never a 5xx, every refusal an Omise error object, and nothing
changes unless Omise itself confirms it: a waiting charge stays pending throughout."""

from __future__ import annotations

from typing import Any

from factories import TestAccount, auth
from faults import DROP_AFTER, FaultProxy
from fuzzing import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from servers import LiveServer
from starlette.testclient import TestClient
from upstreams import live_link, omise_webhook, pay_live

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Events shaped like Omise's, naming charges that exist nowhere, or nothing sensible.
EVENTS = st.fixed_dictionaries(
    {
        "object": st.sampled_from(["event", "charge", ""]),
        "key": st.sampled_from(["charge.complete", "refund.create", "charge.expire", "x"]),
        "data": st.one_of(
            JSON,
            st.fixed_dictionaries(
                {
                    "object": st.sampled_from(["charge", "refund", "customer"]),
                    "id": st.one_of(st.text(max_size=30), st.just("chrg_test_nowhere00000000000")),
                    "charge": st.one_of(st.none(), st.text(max_size=30)),
                }
            ),
        ),
    }
)
HEADERS = st.dictionaries(
    st.sampled_from(["Omise-Signature", "Omise-Signature-Timestamp", "Content-Type"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
    max_size=3,
)


def test_omises_webhook_endpoint_survives_anything(
    live: TestClient, account: TestAccount, omise: LiveServer, proxy: FaultProxy
) -> None:
    proxy.arm(DROP_AFTER, "POST", "/charges")
    waiting = pay_live(live, account, omise, live_link(live, account)["id"]).json()
    assert waiting["status"] == "pending"

    def answered_well(answer: Any) -> None:
        assert answer.status_code in (200, 400, 401, 413), answer.text
        if answer.status_code != 200:
            assert answer.json()["object"] == "error" and answer.json()["code"]

    @fuzz_settings(40)
    @given(raw=st.binary(max_size=300), headers=HEADERS)
    def unsigned(raw: bytes, headers: dict[str, str]) -> None:
        answer = live.post(f"/omise/webhooks/{account.id}", content=raw, headers=headers)
        assert answer.status_code == 401 and answer.json()["object"] == "error"

    @fuzz_settings(40)
    @given(event=EVENTS)
    def signed(event: dict[str, Any]) -> None:
        answered_well(omise_webhook(live, account, event))

    unsigned()
    signed()
    # Nothing the fuzz sent was confirmed by Omise, so the waiting charge is still waiting.
    got = live.get(f"/charges/{waiting['id']}", auth=auth(account.live.secret_key)).json()
    assert got["status"] == "pending"
