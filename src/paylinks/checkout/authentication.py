"""HTTP for the test-mode 3-D Secure page, a charge's `authorize_uri`: what the customer's bank
would show, with two buttons that end the authentication one way or the other. Either ends with
a redirect to the charge's `return_uri` (the API caller's, or the hosted page's own). Like the
payment page, it needs no key: the charge's unguessable id is the credential, and a form posted
from another site is refused."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from paylinks.charges.service import Charge
from paylinks.checkout import forms, pages
from paylinks.checkout.messages import Messages
from paylinks.errors import NotFound
from paylinks.money import format_money
from paylinks.payments import flow, three_d_secure
from paylinks.runtime import Runtime
from paylinks.web.origins import is_cross_site


def _finished(t: Messages, charge: Charge) -> Response:
    """A charge that no longer waits: back to where its customer was going, or a notice."""
    if charge.return_uri:
        return RedirectResponse(charge.return_uri, status_code=303)
    return pages.notice(t, key="tds_done", status=200)


@pages.html_page
async def show_authentication(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    t = Messages(pages.choose_locale(request))
    try:
        charge, merchant = await runtime.db.read(
            three_d_secure.waiting, charge_id=request.path_params["charge_id"]
        )
    except NotFound:
        return pages.notice(t, key="not_found", status=404)
    if charge.status != "pending" or charge.authentication != "pending":
        return _finished(t, charge)
    values = {
        "t": t,
        "locale": t.locale,
        "merchant": merchant,
        "branding": None,
        "test_mode": True,
        "switch_url": f"/payments/{charge.id}/authorize",
        "charge": charge,
        "amount": format_money(charge.amount, charge.currency, t.locale),
    }
    headers = pages.returning_to(charge.return_uri, public_url=runtime.settings.public_url)
    return pages.render("authenticate.html", values, headers=headers)


@pages.html_page
async def submit_authentication(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    t = Messages(pages.choose_locale(request))
    fields = None
    if not is_cross_site(request, public_url=runtime.settings.public_url):
        fields = await forms.read_form(request)
    if fields is None or fields.get("result") not in ("pass", "fail"):
        return pages.notice(t, key="forbidden", status=403)
    try:
        charge = await flow.authenticate(
            runtime.db,
            charge_id=request.path_params["charge_id"],
            passed=fields["result"] == "pass",
            now=runtime.clock.now(),
            processor=runtime.test_processor,
            record=runtime.recorder,
        )
    except NotFound:
        return pages.notice(t, key="not_found", status=404)
    return _finished(t, charge)
