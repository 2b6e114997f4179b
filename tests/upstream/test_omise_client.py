"""The live processor's calls to Omise, against a second paylinks in test mode standing in for
Omise: each answer is sorted into done (an Omise object, a declined charge included), refused
(an error object: nothing done) or unknown (a timeout, a 5xx, a dropped connection: maybe done),
and a charge whose answer was lost is found again by the metadata it was made with."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from factories import card
from servers import LiveServer, live_server

from paylinks.upstream.omise_api import UpstreamRefused
from paylinks.upstream.omise_client import CHARGE_KEY, OmiseClient, UpstreamUnknown


@pytest.fixture(scope="module")
def omise(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(f"sqlite:///{tmp_path_factory.mktemp('omise') / 'omise.db'}") as upstream:
        yield upstream


def run(
    api_url: str, key: str, call: Callable[[OmiseClient], Awaitable[Any]], timeout: float = 30
) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient() as http:
            return await call(OmiseClient(http, api_url=api_url, secret_key=key, timeout=timeout))

    return asyncio.run(go())


def token(omise: LiveServer, number: str = "4242424242424242") -> str:
    made = httpx.post(
        f"{omise.url}/tokens", auth=(omise.public_key, ""), json={"card": card(number)}
    )
    token_id: str = made.json()["id"]
    return token_id


def test_a_charge_is_made_with_its_paylinks_id_and_a_decline_is_an_answer(
    omise: LiveServer,
) -> None:
    made = run(omise.url, omise.secret_key, lambda api: api.create_charge(
        paylinks_charge_id="chrg_live_made1", amount=50000, currency="thb",
        card=token(omise), metadata={"order": "A-1"},
    ))  # fmt: skip
    assert made["status"] == "successful" and made["amount"] == 50000
    assert made["metadata"] == {"order": "A-1", CHARGE_KEY: "chrg_live_made1"}
    declined = run(omise.url, omise.secret_key, lambda api: api.create_charge(
        paylinks_charge_id="chrg_live_made2", amount=50000, currency="thb",
        card=token(omise, "4111111111140011"),
    ))  # fmt: skip
    assert (declined["status"], declined["failure_code"]) == ("failed", "insufficient_fund")
    again = run(omise.url, omise.secret_key, lambda api: api.retrieve_charge(made["id"]))
    assert again["id"] == made["id"]


def test_an_error_object_is_a_refusal(omise: LiveServer) -> None:
    used = token(omise)

    def charge(api: OmiseClient) -> Awaitable[Any]:
        return api.create_charge(
            paylinks_charge_id="chrg_live_used", amount=50000, currency="thb", card=used
        )

    assert run(omise.url, omise.secret_key, charge)["status"] == "successful"
    with pytest.raises(UpstreamRefused, match="used_token"):  # a token is good once
        run(omise.url, omise.secret_key, charge)
    with pytest.raises(UpstreamRefused, match="authentication_failure"):
        run(omise.url, "skey_test_" + "x" * 32, lambda api: api.retrieve_charge("chrg_x"))


@pytest.fixture
def broken_upstreams() -> Iterator[dict[str, str]]:
    """A server that never answers (a timeout), one that answers 502, one that hangs up."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.path.startswith("/drop"):
                self.connection.close()  # the request arrived; no answer ever comes
                return
            self.send_response(502)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield {
            "silent": f"http://127.0.0.1:{silent.getsockname()[1]}",
            "5xx": base,
            "dropped": base + "/drop",
        }
    finally:
        httpd.shutdown()
        httpd.server_close()
        silent.close()


@pytest.mark.parametrize("kind", ["silent", "5xx", "dropped"])
def test_no_answer_is_unknown_not_a_refusal(broken_upstreams: dict[str, str], kind: str) -> None:
    with pytest.raises(UpstreamUnknown):
        run(broken_upstreams[kind], "skey_test_" + "k" * 20, lambda api: api.create_charge(
            paylinks_charge_id="chrg_live_lost", amount=50000, currency="thb", card="tokn_x",
        ), timeout=0.5)  # fmt: skip


def test_a_charge_whose_answer_was_lost_is_found_by_its_metadata(omise: LiveServer) -> None:
    """What the reconciler does after an unknown answer: the charge exists at Omise, made
    with the paylinks id in its metadata; it is found among the others of the window."""
    wanted = "chrg_live_lostanswer"
    for paylinks_id in ("chrg_live_other1", wanted, "chrg_live_other2"):
        run(omise.url, omise.secret_key, lambda api, pid=paylinks_id: api.create_charge(
            paylinks_charge_id=pid, amount=50000, currency="thb", card=token(omise),
        ))  # fmt: skip
    found = run(omise.url, omise.secret_key, lambda api: api.find_charges(
        paylinks_charge_id=wanted, around=datetime.now(UTC), window=timedelta(minutes=10),
    ))  # fmt: skip
    assert [c["metadata"][CHARGE_KEY] for c in found] == [wanted]
    none = run(omise.url, omise.secret_key, lambda api: api.find_charges(
        paylinks_charge_id="chrg_live_never", around=datetime.now(UTC),
        window=timedelta(minutes=10),
    ))  # fmt: skip
    assert none == []
