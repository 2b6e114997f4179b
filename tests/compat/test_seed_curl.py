"""The seed document's curl commands, run for real with the `curl` binary against a live server.

Each command is the seed's (and the README's) with only the base URL and the key replaced:
form-encoded bodies from `-d`, HTTP Basic from `-u key:`, `-X PATCH`. The argument lists are
passed without a shell, so the seed's unquoted `?limit=20&offset=0` reaches curl whole.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from factories import unavailable
from servers import LiveServer, create_account_keys


@dataclass
class Reply:
    status: int
    content_type: str
    body: dict[str, Any]


Curl = Callable[..., Reply]
pytestmark = pytest.mark.usefixtures("curl_binary")  # skip or fail before starting a server


@pytest.fixture(scope="module")
def curl_binary() -> str:
    curl = shutil.which("curl")
    if curl is None:
        unavailable("curl is not on PATH; the seed's curl examples need it")
    return curl


@pytest.fixture
def curl(curl_binary: str) -> Curl:
    def run(*args: str) -> Reply:
        result = subprocess.run(
            [
                curl_binary,
                "--silent",
                "--show-error",
                "--noproxy",
                "*",
                "--max-time",
                "15",
                "--write-out",
                "\n%{http_code} %{content_type}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        body, _, trailer = result.stdout.rpartition("\n")
        status, _, content_type = trailer.partition(" ")
        return Reply(int(status), content_type, json.loads(body))

    return run


@pytest.fixture
def secret_key(server: LiveServer) -> str:
    return server.secret_key


def create_seed_link(
    curl: Curl, server: LiveServer, key: str, title: str = "Product Purchase"
) -> Reply:
    """The seed's "Using cURL" create, verbatim apart from the host and key."""
    return curl(
        f"{server.url}/links",
        "-u",
        f"{key}:",
        "-d",
        "amount=100000",
        "-d",
        "currency=thb",
        "-d",
        f"title={title}",
        "-d",
        "description=Premium widget purchase",
        "-d",
        "multiple=true",
    )


def test_create_form_encoded(curl: Curl, server: LiveServer, secret_key: str) -> None:
    reply = create_seed_link(curl, server, secret_key)

    assert reply.status == 200  # Omise answers creates with 200, not 201
    assert reply.content_type.startswith("application/json")
    link = reply.body
    assert link["object"] == "link" and link["id"].startswith("payl_test_")
    assert link["livemode"] is False
    assert link["location"] == f"/links/{link['id']}"
    assert (link["amount"], link["currency"]) == (100000, "thb")  # "100000" became an integer
    assert link["title"] == "Product Purchase"
    assert link["description"] == "Premium widget purchase"
    assert link["multiple"] is True  # "true" became a boolean
    assert link["used"] is False
    assert link["payment_uri"] == f"{server.url}/pay/{link['id']}"
    assert link["charges"]["object"] == "list"
    assert (link["charges"]["data"], link["charges"]["total"]) == ([], 0)
    assert link["created_at"].endswith("Z")


def test_create_with_bracketed_metadata(curl: Curl, server: LiveServer, secret_key: str) -> None:
    # The README's command, plus metadata the way curl, PHP and Ruby users send it.
    reply = curl(
        f"{server.url}/links",
        "-u",
        f"{secret_key}:",
        "-d",
        "amount=250000",
        "-d",
        "currency=thb",
        "-d",
        "title=Invoice #INV-001",
        "-d",
        "multiple=false",
        "-d",
        "metadata[invoice_id]=INV-001",
        "-d",
        "metadata[customer_email]=customer@example.com",
    )
    assert reply.status == 200
    assert reply.body["multiple"] is False
    assert reply.body["description"] is None
    assert reply.body["metadata"] == {
        "invoice_id": "INV-001",
        "customer_email": "customer@example.com",
    }


def test_retrieve(curl: Curl, server: LiveServer, secret_key: str) -> None:
    created = create_seed_link(curl, server, secret_key).body

    reply = curl(f"{server.url}/links/{created['id']}", "-u", f"{secret_key}:")

    assert reply.status == 200
    assert reply.body["id"] == created["id"]
    for key in ("amount", "currency", "title", "description", "multiple", "used", "created_at"):
        assert reply.body[key] == created[key], key
    assert reply.body["charges"]["total"] == 0


def test_list_with_limit_and_offset_in_the_query(curl: Curl, server: LiveServer) -> None:
    secret_key = create_account_keys(server.database_url, "Seed curl list")["secret_key"]
    created = [
        create_seed_link(curl, server, secret_key, title=f"Product {i}").body["id"]
        for i in range(3)
    ]

    reply = curl(f"{server.url}/links?limit=20&offset=0", "-u", f"{secret_key}:")

    assert reply.status == 200
    page = reply.body
    assert page["object"] == "list" and page["location"] == "/links"
    assert (page["limit"], page["offset"], page["total"]) == (20, 0, 3)
    assert page["order"] == "chronological"
    assert [link["id"] for link in page["data"]] == created
    assert [link["title"] for link in page["data"]] == ["Product 0", "Product 1", "Product 2"]

    window = curl(f"{server.url}/links?limit=1&offset=1", "-u", f"{secret_key}:").body
    assert (window["limit"], window["offset"], window["total"]) == (1, 1, 3)
    assert [link["id"] for link in window["data"]] == created[1:2]

    # The docs' pagination example sends the parameters as a form body on a GET.
    body_params = curl(
        f"{server.url}/links",
        "-X",
        "GET",
        "-u",
        f"{secret_key}:",
        "-d",
        "limit=2",
        "-d",
        "order=reverse_chronological",
    ).body
    assert (body_params["limit"], body_params["order"]) == (2, "reverse_chronological")
    assert [link["id"] for link in body_params["data"]] == created[::-1][:2]


def test_patch_description(curl: Curl, server: LiveServer, secret_key: str) -> None:
    created = create_seed_link(curl, server, secret_key).body

    reply = curl(
        f"{server.url}/links/{created['id']}",
        "-X",
        "PATCH",
        "-u",
        f"{secret_key}:",
        "-d",
        "description=Updated product description",
    )

    assert reply.status == 200
    updated = reply.body
    assert updated["id"] == created["id"]
    assert updated["description"] == "Updated product description"
    for key in ("amount", "currency", "title", "multiple", "created_at", "metadata"):
        assert updated[key] == created[key], key

    with httpx.Client(auth=(secret_key, ""), timeout=10) as client:
        stored = client.get(f"{server.url}/links/{created['id']}").json()
    assert stored["description"] == "Updated product description"


def test_patch_metadata_and_refuse_the_amount(
    curl: Curl, server: LiveServer, secret_key: str
) -> None:
    created = create_seed_link(curl, server, secret_key).body
    url = f"{server.url}/links/{created['id']}"

    reply = curl(url, "-X", "PATCH", "-u", f"{secret_key}:", "-d", "metadata[reason]=price_change")
    assert reply.status == 200
    assert reply.body["metadata"] == {"reason": "price_change"}
    assert reply.body["description"] == "Premium widget purchase"

    refused = curl(url, "-X", "PATCH", "-u", f"{secret_key}:", "-d", "amount=1")
    assert refused.status == 400
    assert refused.body["object"] == "error" and refused.body["code"] == "bad_request"
    assert "amount" in refused.body["message"]
    assert curl(url, "-u", f"{secret_key}:").body["amount"] == 100000


def test_errors_are_omise_error_objects(curl: Curl, server: LiveServer, secret_key: str) -> None:
    unauthenticated = curl(f"{server.url}/links")
    assert unauthenticated.status == 401
    assert unauthenticated.body["object"] == "error"
    assert unauthenticated.body["code"] == "authentication_failure"

    missing_id = "payl_test_" + "0" * 19
    missing = curl(f"{server.url}/links/{missing_id}", "-u", f"{secret_key}:")
    assert missing.status == 404
    assert missing.body == {
        "object": "error",
        "location": "https://www.omise.co/api-errors#not-found",
        "code": "not_found",
        "message": f"link {missing_id} was not found",
    }
