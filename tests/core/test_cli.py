"""The `paylinks` command as a user runs it: accounts, keys, migrations, the first start."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from factories import auth, quiet_settings
from servers import BIN, free_port, paylinks
from starlette.testclient import TestClient

from paylinks.app import create_app
from paylinks.db import Database, normalise_url
from paylinks.migrate import head_revision


def test_accounts_create_json_prints_one_account_object(database_url: str) -> None:
    out = paylinks("accounts", "create", "--name", "Acme", "--json", "--database-url", database_url)
    account = json.loads(out)  # exactly one JSON document: json.loads rejects trailing data
    assert out.count("\n") == 1
    assert set(account) == {"object", "id", "name", "created_at", "keys"}
    assert account["object"] == "account" and account["name"] == "Acme"
    assert re.fullmatch(r"acct_[0-9a-z]{19}", account["id"])
    keys = account["keys"]
    assert re.fullmatch(r"pkey_test_[0-9a-z]+", keys["test"]["public_key"])
    assert re.fullmatch(r"skey_test_[0-9a-z]+", keys["test"]["secret_key"])
    assert re.fullmatch(r"pkey_[0-9a-z]+", keys["live"]["public_key"])
    assert re.fullmatch(r"skey_[0-9a-z]+", keys["live"]["secret_key"])
    listed = json.loads(paylinks("accounts", "list", "--json", "--database-url", database_url))
    mine = next(a for a in listed["data"] if a["id"] == account["id"])
    assert mine["public_keys"]["test"] == keys["test"]["public_key"]
    assert keys["test"]["secret_key"] not in json.dumps(listed)


def test_secret_keys_are_stored_only_as_hashes(database_url: str) -> None:
    out = paylinks(
        "accounts", "create", "--name", "Hashed", "--json", "--database-url", database_url
    )
    secret = json.loads(out)["keys"]["live"]["secret_key"]
    engine = sa.create_engine(normalise_url(database_url))
    with engine.connect() as conn:
        dump = " ".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM api_keys"))
    engine.dispose()
    assert secret not in dump and secret[-8:] not in dump


def test_roll_keys_revokes_the_old_pair(database_url: str, db: Database) -> None:
    account = json.loads(
        paylinks("accounts", "create", "--name", "Roller", "--json", "--database-url", database_url)
    )
    old = account["keys"]["test"]["secret_key"]
    out = paylinks(
        "accounts", "roll-keys", account["id"], "--mode", "test", "--json",
        "--database-url", database_url,
    )  # fmt: skip
    new = json.loads(out)["secret_key"]
    with TestClient(create_app(quiet_settings(), database=db)) as client:
        assert client.get("/links", auth=auth(old)).status_code == 401
        assert client.get("/links", auth=auth(new)).status_code == 200
        live = account["keys"]["live"]["secret_key"]
        assert client.get("/links", auth=auth(live)).status_code == 200  # other mode untouched


def test_roll_keys_of_unknown_account_fails_clearly(database_url: str) -> None:
    with pytest.raises(subprocess.CalledProcessError) as failure:
        paylinks("accounts", "roll-keys", "acct_nope", "--database-url", database_url)
    assert "acct_nope was not found" in failure.value.stderr


def test_db_upgrade_and_current_on_a_fresh_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert f"revision {head_revision()}" in paylinks("db", "upgrade", "--database-url", url)
    assert paylinks("db", "current", "--database-url", url).startswith(f"{head_revision()} ")


def test_serve_refuses_several_workers_without_redis(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "paylinks"), "serve", "--workers", "2", "--port", str(free_port())],
        env={**os.environ, "PAYLINKS_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "PAYLINKS_REDIS_URL" in result.stderr


def test_serve_refuses_an_unmigrated_postgres_database(postgres_url: str) -> None:
    name = f"paylinks_empty_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(normalise_url(postgres_url)).set(database=name)
    try:
        result = subprocess.run(
            [str(BIN / "paylinks"), "serve", "--port", str(free_port()),
             "--database-url", url.render_as_string(hide_password=False)],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert result.returncode != 0 and "paylinks db upgrade" in result.stderr
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


def test_first_start_prints_keys_and_a_curl_command_that_works(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PAYLINKS_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    env.pop("PAYLINKS_DATABASE_URL", None)
    process = subprocess.Popen(
        [str(BIN / "paylinks"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        assert process.stdout is not None
        while "Uvicorn running" not in "".join(lines):
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        output = "".join(lines)
        assert re.search(r"secret key\s+skey_test_[0-9a-z]+", output)
        curl = output[output.index("curl ") :].split("\n\n")[0].replace("\\\n", " ")
        assert (tmp_path / "data" / "paylinks.db").exists()
        link = json.loads(subprocess.run(["bash", "-c", curl], capture_output=True, text=True,
                                         check=True, timeout=30).stdout)  # fmt: skip
        assert link["object"] == "link" and link["amount"] == 100000
        assert link["payment_uri"] == f"http://127.0.0.1:{port}/pay/{link['id']}"
    finally:
        process.terminate()
        process.communicate(timeout=15)
    # A second start finds the account and does not create another.
    process = subprocess.Popen(
        [str(BIN / "paylinks"), "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=15)
    assert "secret key" not in out


def test_webhooks_commands_add_list_roll_and_remove(database_url: str) -> None:
    account = json.loads(
        paylinks("accounts", "create", "--name", "Hooks", "--json", "--database-url", database_url)
    )
    common = ["--account", account["id"], "--database-url", database_url]
    added = json.loads(
        paylinks("webhooks", "add", "--url", "http://127.0.0.1:3000/webhooks/omise",
                 "--events", "charge.complete,charge.failed", "--json", *common)
    )  # fmt: skip
    assert added["id"].startswith("wbhk_test_") and added["secret"].startswith("whsec_")
    assert (
        added["events"] == ["charge.complete", "charge.failed"]
        and added["signature_scheme"] == "seed"
    )
    listed = json.loads(paylinks("webhooks", "list", "--json", *common))
    assert [e["id"] for e in listed["data"]] == [added["id"]]
    assert "secret" not in listed["data"][0]
    rolled = json.loads(paylinks("webhooks", "roll-secret", added["id"], "--json", *common))
    assert rolled["secret"] != added["secret"]
    assert "removed" in paylinks("webhooks", "remove", added["id"], *common)
    assert json.loads(paylinks("webhooks", "list", "--json", *common))["data"] == []
    # Live mode wants https and a public address.
    with pytest.raises(subprocess.CalledProcessError) as refused:
        paylinks("webhooks", "add", "--mode", "live", "--url", "http://127.0.0.1/x", *common)
    assert "https" in refused.value.stderr
