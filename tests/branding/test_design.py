"""The payment page's design: contrast rules, logo sniffing, the dashboard form, and the hosted
page wearing an account's colours, logo and support e-mail (and never another account's)."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from typing import Any

import pytest
import segno
from factories import TestAccount, auth, link, sign_in
from starlette.testclient import TestClient

from paylinks.branding import images
from paylinks.branding.contrast import contrast, palette


def png_bytes(scale: int = 2) -> bytes:
    out = io.BytesIO()
    segno.make("logo").save(out, kind="png", scale=scale)
    return out.getvalue()


@pytest.mark.parametrize(
    ("a", "b", "ratio"),
    [("#777777", "#ffffff", 4.48), ("#000000", "#ffffff", 21.0), ("#767676", "#ffffff", 4.54)],
)
def test_contrast_matches_wcag(a: str, b: str, ratio: float) -> None:
    assert contrast(a, b) == pytest.approx(ratio, abs=0.01)


def test_palettes_pick_readable_ink_or_refuse() -> None:
    dark = palette("#0B3D91")
    assert (dark.accent, dark.accent_ink, dark.accent_text) == ("#0b3d91", "#ffffff", "#0b3d91")
    light = palette("#ffd400")
    assert light.accent_ink == "#111111" and light.accent_text == "#1f5fbf"  # yellow text: no
    for bad in ("#7a7a7a", "#787878", "red", "#12345"):
        with pytest.raises(ValueError):
            palette(bad)


def test_logos_are_recognised_by_their_bytes() -> None:
    assert images.sniff(png_bytes()) == "image/png"
    assert images.sniff(b"\xff\xd8\xff\xe0" + b"\0" * 20) == "image/jpeg"
    assert images.sniff(b"RIFF\x10\0\0\0WEBPVP8 " + b"\0" * 10) == "image/webp"
    refused = [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"GIF89a" + b"\0" * 20,
        b"<html><body>not a png</body></html>",
        b"\x89PNG\r\n\x1a\n" + b"\0" * (images.MAX_BYTES + 1),
        b"",
    ]
    for data in refused:
        with pytest.raises(ValueError):
            images.sniff(data)


def save(client: TestClient, csrf: str, files: Any = None, **fields: str) -> Any:
    data = {"csrf": csrf, "display_name": "", "brand_color": "#1f5fbf", "support_email": ""}
    return client.post(
        "/dashboard/branding", data={**data, **fields}, files=files, follow_redirects=False
    )


def test_the_dashboard_form_saves_and_refuses(make_client: Any, account: TestAccount) -> None:
    client: TestClient = make_client()
    csrf = sign_in(client, account.test.secret_key)
    assert client.get("/dashboard/branding").status_code == 200
    assert client.post("/dashboard/branding", data={"brand_color": "#000000"}).status_code == 403
    grey = save(client, csrf, brand_color="#7a7a7a")
    assert grey.status_code == 400 and "4.5:1" in grey.text
    svg = save(client, csrf, files={"logo": ("logo.png", b"<svg></svg>", "image/png")})
    assert svg.status_code == 400 and "PNG, JPEG or WebP" in svg.text
    ok = save(
        client,
        csrf,
        files={"logo": ("logo.png", png_bytes(), "image/png")},
        display_name="Baan Ceramics",
        brand_color="#0B3D91",
        support_email="Help@Baan.example",
    )
    assert ok.status_code == 303
    page = client.get("/dashboard/branding").text
    assert "Baan Ceramics" in page and 'value="#0b3d91"' in page and "help@baan.example" in page
    # The preview is the payment page itself, with the saved logo (in the page: the sample
    # link has no address) and the colours as the form holds them.
    assert (
        'src="/dashboard/branding/preview?display_name=Baan+Ceramics&amp;brand_color=%230b3d91'
        in page
    )
    frame = client.get(
        "/dashboard/branding/preview?display_name=Baan+Ceramics&brand_color=%230b3d91"
    )
    assert "Baan Ceramics" in frame.text and 'src="data:image/png;base64,' in frame.text
    assert "--accent:#0b3d91" in frame.text and "Product Purchase" in frame.text
    retyped = client.get("/dashboard/branding/preview?display_name=Baan+Two&brand_color=%23aa3300")
    assert "Baan Two" in retyped.text and "--accent:#aa3300" in retyped.text
    half_typed = client.get("/dashboard/branding/preview?brand_color=%23aa")
    assert "--accent:#0b3d91" in half_typed.text  # the saved colour until it is one


def test_the_hosted_page_wears_the_accounts_design(
    make_client: Any, account: TestAccount, other_account: TestAccount
) -> None:
    client: TestClient = make_client()
    csrf = sign_in(client, account.test.secret_key)
    logo = png_bytes()
    save(
        client,
        csrf,
        files={"logo": ("x.png", logo, "image/png")},
        display_name="Baan Ceramics",
        brand_color="#0b3d91",
        support_email="help@baan.example",
    )
    mine = link(client, account)
    answer = client.get(f"/pay/{mine['id']}")
    page = answer.text
    assert "Baan Ceramics" in page and "mailto:help@baan.example" in page
    # The colours are in the page, admitted by their hash alone (no 'unsafe-inline').
    [style] = re.findall(r"<style>([^<]*)</style>", page)
    assert "--accent:#0b3d91" in style
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = answer.headers["content-security-policy"]
    assert f"style-src 'self' 'sha256-{digest}';" in policy and "unsafe-inline" not in policy
    logo_url = re.search(r'src="(/pay/[^"]+/logo\?v=\w+)"', page)
    assert logo_url is not None
    served = client.get(logo_url.group(1))
    assert served.content == logo and served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    theirs = link(client, other_account)
    other_page = client.get(f"/pay/{theirs['id']}").text
    assert "Baan Ceramics" not in other_page and "<style>" not in other_page
    assert client.get(f"/pay/{theirs['id']}/logo").status_code == 404


def test_a_link_that_is_gone_offers_to_write_to_the_merchant(
    make_client: Any, account: TestAccount
) -> None:
    client: TestClient = make_client()
    gone = link(client, account)
    client.delete(f"/links/{gone['id']}", auth=auth(account.test.secret_key))
    plain = client.get(f"/pay/{gone['id']}")
    assert plain.status_code == 410 and 'id="contact-merchant"' not in plain.text
    csrf = sign_in(client, account.test.secret_key)
    save(client, csrf, display_name="Baan Ceramics", support_email="help@baan.example")
    page = client.get(f"/pay/{gone['id']}")
    assert page.status_code == 410
    button = 'id="contact-merchant" href="mailto:help@baan.example">Write to Baan Ceramics<'
    assert button in page.text
