"""Seed example 2, with the webhook handler the seed sketches: an invoice gets a single-use
link; when the customer pays, paylinks posts `charge.complete` to our handler, which checks the
signature as the seed's `verifyWebhook` does, re-reads the charge, and marks the invoice paid.

The link is made with the official `omise` SDK; the webhook endpoint with `paylinks.client`
(paylinks' REST extension: Omise configures endpoints in its dashboard). To run it end to end,
this program also plays the customer (a test card, through the API) and hosts the handler on
127.0.0.1 (test mode may post to loopback: no tunnel needed).

    PAYLINKS_SECRET_KEY=skey_test_… PAYLINKS_PUBLIC_KEY=pkey_test_… python examples/invoice_links.py
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import omise
from _setup import API_URL, PUBLIC_KEY, SECRET_KEY, use_paylinks

from paylinks.client import Client

INVOICES = {"INV-001": {"total": 125000, "customer": "CUST-123", "status": "open"}}
PAID = threading.Event()


def verify_webhook(payload: bytes, signature: str, secret: str) -> bool:
    """The seed's verifyWebhook: hex HMAC-SHA256 of the raw body, keyed with the secret."""
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def handler_for(secret: str) -> type[BaseHTTPRequestHandler]:
    class Webhooks(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = self.rfile.read(int(self.headers["Content-Length"]))
            if not verify_webhook(payload, self.headers.get("Omise-Signature", ""), secret):
                self.send_response(401)
                self.end_headers()
                return
            event = json.loads(payload)
            if event["key"] == "charge.complete":
                # Trust, but verify: read the charge back before acting on it.
                charge = omise.Charge.retrieve(event["data"]["id"])
                link = omise.Link.retrieve(charge.link)
                invoice = INVOICES[link.metadata.invoice_number]
                if charge.status == "successful":
                    invoice["status"] = "paid"
                    PAID.set()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    return Webhooks


def create_invoice_link(number: str) -> omise.Link:
    invoice = INVOICES[number]
    return omise.Link.create(
        amount=invoice["total"],
        currency="thb",
        title=f"Invoice {number}",
        description=f"Payment for invoice {number}",
        multiple=False,  # single use: the invoice is paid once
        metadata={"invoice_number": number, "customer_id": invoice["customer"]},
    )


def main() -> None:
    use_paylinks()
    with Client(API_URL, SECRET_KEY, public_key=PUBLIC_KEY or None) as api:
        server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
        url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/omise"
        endpoint = api.create_webhook_endpoint(url, events=["charge.complete"])
        server.RequestHandlerClass = handler_for(endpoint["secret"])
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            link = create_invoice_link("INV-001")
            print(f"Invoice INV-001: {link.payment_uri}")
            # The customer pays (here with a test card, as the hosted page would).
            card = {
                "name": "Somchai",
                "number": "4242424242424242",
                "expiration_month": 12,
                "expiration_year": 2035,
                "security_code": "123",
            }
            token = api.create_token(card)
            api.create_charge(card=token["id"], link=link.id)
            if not PAID.wait(timeout=30):
                raise SystemExit("no charge.complete webhook within 30 s (is the worker on?)")
            print(f"Invoice INV-001 is {INVOICES['INV-001']['status']}")
        finally:
            api.delete_webhook_endpoint(endpoint["id"])
            server.shutdown()


if __name__ == "__main__":
    main()
