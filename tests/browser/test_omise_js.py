"""The offline Omise.js in Chromium: a shop's own page on another origin loads `/omise.js` from
paylinks and tokenizes a card and makes a PromptPay source through paylinks' vault, exactly as it
would with Omise's script (CORS included); the token then pays a charge."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from servers import LiveServer
from visitor import Visitor

CARD = {"name": "Somchai Jaidee", "number": "4242424242424242", "expiration_month": 12,
        "expiration_year": 2035, "security_code": "123"}  # fmt: skip
PAGE = """<!doctype html><html><head><title>A shop</title></head><body>
<script src="{vault}/omise.js"></script>
<script>
window.results = {{}};
function keep(name) {{ return function (status, answer) {{ results[name] = [status, answer]; }}; }}
Omise.setPublicKey("{public_key}");
Omise.createToken("card", {card}, keep("token"));
Omise.createToken("card", {bad_card}, keep("bad"));
Omise.createSource("promptpay", {{amount: 50000, currency: "thb"}}, keep("source"));
</script></body></html>"""


@pytest.fixture
def shop(server: LiveServer) -> Iterator[str]:
    """A shop's page on its own origin (another port), loading Omise.js from paylinks."""
    html = PAGE.format(
        vault=server.url,
        public_key=server.public_key,
        card=json.dumps(CARD),
        bad_card=json.dumps({**CARD, "number": "4242424242424241"}),
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/checkout"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_page_written_for_omise_js_tokenizes_through_paylinks(
    visitor: Visitor, shop: str, api: httpx.Client
) -> None:
    visitor.page.goto(shop)
    visitor.page.wait_for_function("results.token && results.bad && results.source")
    results: dict[str, Any] = visitor.page.evaluate("results")
    status, token = results["token"]
    assert status == 200 and token["object"] == "token" and token["id"].startswith("tokn_test_")
    assert token["card"]["last_digits"] == "4242" and "number" not in token["card"]
    status, refused = results["bad"]
    assert status == 400 and (refused["object"], refused["code"]) == ("error", "invalid_card")
    status, source = results["source"]
    assert status == 200 and (source["type"], source["amount"]) == ("promptpay", 50000)
    paid = api.post("/charges", json={"card": token["id"], "amount": 50000, "currency": "thb"})
    assert paid.json()["status"] == "successful"
    # The browser logs the refused card's 400 itself; nothing else went wrong (no CORS refusal).
    assert [e for e in visitor.console_errors if "status of 400" not in e] == []
