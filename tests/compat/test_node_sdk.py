"""The official Node SDK (npm `omise` 1.1.0, unmodified, default hosts) against a live server.

`node/links.js` runs the seed's Node examples through the `contrib/node/omise-local.js` preload
(which sends the SDK's port-80 connections to the server's port, omise-compat §1.2) and prints
what the SDK returned; these tests check that against the server over plain HTTP.

`node_modules` comes from `make pytest` (`npm ci` in tests/compat/node). Without `node` on PATH
the tests are skipped on a workstation and fail in CI (`.ci/run` sets PAYLINKS_REQUIRE_TOOLS=1).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import unavailable
from servers import LiveServer, create_account_keys

NODE_DIR = Path(__file__).parent / "node"
# The preload we ship for Node users (docs/compatibility.md): tested here as they would use it.
PRELOAD = Path(__file__).parents[2] / "contrib" / "node" / "omise-local.js"
MISSING_ID = "payl_test_" + "0" * 19


@pytest.fixture(scope="module")
def node() -> str:
    """The `node` binary, with the pinned SDK installed beside links.js."""
    node = shutil.which("node")
    if node is None:
        unavailable("node is not on PATH; the Node SDK contract tests need it")
    installed = NODE_DIR / "node_modules" / "omise" / "package.json"
    if not installed.exists():
        pytest.fail(f"{installed} is missing: run `make pytest`, or `npm ci` in {NODE_DIR}, first")
    assert json.loads(installed.read_text())["version"] == "1.1.0", "stale node_modules: npm ci"
    return node


def run_script(node: str, server: LiveServer, script: str) -> dict[str, Any]:
    """Run a script of node/ in an account of its own; its keys and its output."""
    keys = create_account_keys(server.database_url, "Node SDK")
    env = {
        name: value
        for name, value in os.environ.items()
        if name.lower() not in ("http_proxy", "https_proxy", "node_options", "paylinks_host")
    }
    env.update(
        OMISE_SCHEME="http",
        PAYLINKS_PORT=str(server.port),
        PAYLINKS_SECRET_KEY=keys["secret_key"],
        PAYLINKS_PUBLIC_KEY=keys["public_key"],
    )
    result = subprocess.run(
        [node, "-r", str(PRELOAD), script],
        cwd=NODE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stderr}\n{result.stdout}"
    output: dict[str, Any] = json.loads(result.stdout)
    return {"keys": keys, "out": output}


@pytest.fixture(scope="module")
def node_run(node: str, server: LiveServer) -> dict[str, Any]:
    return run_script(node, server, "links.js")


@pytest.fixture
def out(node_run: dict[str, Any]) -> dict[str, Any]:
    results: dict[str, Any] = node_run["out"]
    return results


@pytest.fixture
def account_api(server: LiveServer, node_run: dict[str, Any]) -> Iterator[httpx.Client]:
    """Plain HTTP as the account links.js worked in."""
    key = node_run["keys"]["secret_key"]
    with httpx.Client(base_url=server.url, auth=(key, ""), timeout=10) as client:
        yield client


def stable(link: dict[str, Any]) -> dict[str, Any]:
    """A link without the one field that moves with the clock (the embedded list's `to`)."""
    charges = {k: v for k, v in link["charges"].items() if k != "to"}
    return {**link, "charges": charges}


def ids(page: dict[str, Any]) -> list[str]:
    return [link["id"] for link in page["data"]]


def test_the_preload_sent_the_default_host_to_the_local_server(out: dict[str, Any]) -> None:
    assert out["requested"], "the SDK did not use http.globalAgent"
    assert set(out["requested"]) == {"api.omise.co:80"}


def test_created_links_are_what_the_server_stored(
    server: LiveServer, out: dict[str, Any], account_api: httpx.Client
) -> None:
    for name in ("basic", "invoice", "thai"):
        link = out[name]
        assert link["object"] == "link" and link["id"].startswith("payl_test_")
        assert link["location"] == f"/links/{link['id']}"
        assert link["payment_uri"] == f"{server.url}/pay/{link['id']}"
        stored = account_api.get(f"/links/{link['id']}")
        assert stored.status_code == 200
        assert stable(stored.json()) == stable(link), name


def test_create_sends_the_seed_examples_faithfully(out: dict[str, Any]) -> None:
    basic, invoice, thai = out["basic"], out["invoice"], out["thai"]
    assert (basic["amount"], basic["currency"], basic["multiple"]) == (100000, "thb", True)
    assert (basic["title"], basic["description"]) == (
        "Product Purchase",
        "Premium widget purchase",
    )
    assert basic["metadata"] == {}
    assert (invoice["amount"], invoice["multiple"], invoice["used"]) == (250000, False, False)
    assert invoice["metadata"] == {
        "invoice_id": "INV-001",
        "customer_id": "CUST-123",
        "customer_email": "customer@example.com",
    }
    assert thai["amount"] == 150000  # sent as the string "150000"
    assert thai["description"] == "สำหรับลูกค้าในประเทศไทย"


def test_list_with_limit_offset_and_order(out: dict[str, Any], account_api: httpx.Client) -> None:
    created = [out[name]["id"] for name in ("basic", "invoice", "thai")]

    reverse = out["list_reverse"]
    assert reverse["object"] == "list" and reverse["location"] == "/links"
    assert (reverse["total"], reverse["limit"], reverse["offset"]) == (3, 2, 0)
    assert reverse["order"] == "reverse_chronological"
    assert ids(reverse) == created[::-1][:2]

    second = out["list_offset"]
    assert (second["total"], second["limit"], second["offset"]) == (3, 2, 2)
    assert second["order"] == "chronological"
    assert ids(second) == created[2:]

    default = out["list_default"]
    assert (default["total"], default["limit"], default["offset"]) == (3, 20, 0)
    assert default["order"] == "chronological"
    assert ids(default) == created

    # The same parameters over plain HTTP give the same pages.
    params: dict[str, str | int] = {"limit": 2, "offset": 0, "order": "reverse_chronological"}
    assert ids(account_api.get("/links", params=params).json()) == ids(reverse)
    assert [stable(link) for link in default["data"]] == [
        stable(account_api.get(f"/links/{i}").json()) for i in created
    ]


def test_retrieve_by_id_and_without_id(out: dict[str, Any]) -> None:
    assert stable(out["retrieved"]) == stable(out["invoice"])
    listed = out["retrieve_without_id"]
    assert listed["object"] == "list" and listed["total"] == 3
    assert ids(listed) == ids(out["list_default"])


def test_missing_link_rejects_with_the_plain_error_object(out: dict[str, Any]) -> None:
    missing = out["missing"]
    assert missing["fulfilled"] is False
    assert missing["is_error_instance"] is False and missing["type"] == "object"
    assert missing["reason"] == {
        "object": "error",
        "location": "https://www.omise.co/api-errors#not-found",
        "code": "not_found",
        "message": f"link {MISSING_ID} was not found",
    }
    assert out["missing_callback"] == {"error": missing["reason"], "link": None}


def test_bad_key_rejects_with_authentication_failure(out: dict[str, Any]) -> None:
    bad = out["bad_key"]
    assert bad["fulfilled"] is False and bad["is_error_instance"] is False
    assert bad["reason"]["object"] == "error"
    assert bad["reason"]["code"] == "authentication_failure"
    assert bad["reason"]["message"] == "authentication failed"


def test_the_sdk_has_no_links_update(out: dict[str, Any]) -> None:
    # The seed's omise.links.update(...) is a TypeError with the real SDK; PATCH is plain HTTP.
    assert out["update_type"] == "undefined"


def test_refunds_and_captures_with_the_node_sdk(node: str, server: LiveServer) -> None:
    run = run_script(node, server, "money.js")
    out, key = run["out"], run["keys"]["secret_key"]
    paid, refund = out["paid"], out["refund"]
    assert (refund["object"], refund["amount"], refund["charge"]) == ("refund", 40000, paid["id"])
    assert [r["id"] for r in out["refunds"]["data"]] == [refund["id"]]
    assert out["retrieved_refund"] == refund
    refused = out["too_much"]
    assert refused["fulfilled"] is False and refused["reason"]["code"] == "failed_refund"
    assert out["after_refund"]["refunded_amount"] == 40000
    assert (out["held"]["status"], out["held"]["authorized"]) == ("pending", True)
    assert (out["captured"]["status"], out["captured"]["paid"]) == ("successful", True)
    again = out["captured_again"]
    assert again["fulfilled"] is False and again["reason"]["code"] == "failed_capture"
    assert (out["reversed"]["status"], out["reversed"]["reversed"]) == ("reversed", True)
    # What the SDK saw is what the server holds.
    stored = httpx.get(f"{server.url}/charges/{paid['id']}", auth=(key, "")).json()
    assert stored["refunds"]["data"] == [refund]
