from factories import TestAccount, auth
from starlette.testclient import TestClient


def test_created_link_is_retrievable(client: TestClient, account: TestAccount) -> None:
    created = client.post(
        "/links",
        auth=auth(account.test.secret_key),
        data={"amount": "100000", "currency": "thb", "title": "T"},
    )
    assert created.status_code == 200, created.text
    link = created.json()
    fetched = client.get(f"/links/{link['id']}", auth=auth(account.test.secret_key))
    assert fetched.json()["id"] == link["id"]
