"""HTTP for the hosted payment page: parse the form, call the services, render a page.

Every answer is an HTML page with the security headers, errors included. Card numbers and
security codes are read from the form, handed to the card checks and the processor's vault, and
dropped: they are never stored, logged or rendered back.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from paylinks.charges.service import Charge
from paylinks.checkout import forms, pages, service, views, visits
from paylinks.checkout.forms import FormErrors, read_amount, read_card, read_email
from paylinks.checkout.limits import card_refused
from paylinks.errors import ApiError, InvalidCard, NotFound, TestModeLiveCard
from paylinks.links.claims import LinkNotPayable
from paylinks.payments import flow as payments
from paylinks.payments.service import Opened
from paylinks.processors.protocol import Processor, Refused, Unknown
from paylinks.tokens import service as tokens_service
from paylinks.upstream.processor import OmiseProcessor


@pages.html_page
async def show_page(request: Request) -> Response:
    visit = await visits.open_visit(request)
    if isinstance(visit, Response):
        return visit
    response = visits.unpayable(visit) or await visits.form_page(visit)
    if request.method == "GET":  # HEAD and language switches are not views
        runtime, link = visit.runtime, visit.checkout.link
        await views.count_view(
            runtime,
            link=link,
            cookie=request.cookies.get(views.COOKIE),
            client=runtime.clients.of(request),
            agent=request.headers.get("user-agent", ""),
        )
        views.remember(runtime, response, link=link)
    return response


@pages.html_page
async def pay_by_card(request: Request) -> Response:
    attempt = await visits.attempt(request, "card_token")
    if isinstance(attempt, Response):
        return attempt
    visit, fields, nonce = attempt
    fields["method"] = "card"  # the form comes back, if it does, with the card chosen
    if visit.checkout.link.livemode:
        return await _pay_live(visit, fields, nonce)
    runtime, checkout, now, processor = (
        visit.runtime,
        visit.checkout,
        visit.now(),
        visit.processor,
    )
    try:
        amount, card_input, email = read_card(fields, checkout.link, visit.t, now=now)
        valid = tokens_service.validate_card(
            card_input, now=now, secret=await runtime.keyring.get("card-fingerprint")
        )
        wait = await card_refused(runtime.limits, fingerprint=valid.facts.fingerprint)
        if wait is not None:
            return visits.too_many(visit, wait)
        processor_ref = processor.vault(valid.digits)  # the number goes no further
    except FormErrors as error:
        return await visits.form_page(visit, status=422, values=fields, errors=error.errors)
    except (InvalidCard, TestModeLiveCard) as error:
        field, message = visit.t.card_error(error)
        return await visits.form_page(visit, status=422, values=fields, errors={field: message})
    card = tokens_service.card_object(card_input, valid, livemode=checkout.link.livemode, now=now)
    return_uri = None
    if checkout.three_d_secure:
        return_uri = runtime.settings.public_url + visits.return_path(checkout.link.id, nonce)
    try:
        opened = await runtime.db.write(
            service.open_card_payment,
            checkout=checkout,
            nonce=nonce,
            card=card,
            processor_ref=processor_ref,
            email=email,
            receipt_language=visit.receipt_language,
            amount=amount,
            now=now,
            record=runtime.recorder,
            return_uri=return_uri,
        )
    except LinkNotPayable as error:
        return visits.state_page(visit, error.reason)
    if isinstance(opened, Charge):  # this form's earlier submission made it
        return await visits.outcome_page(visit, await visits.settled(visit, opened), fields)
    charge = await payments.finish(
        runtime.db,
        opened,
        principal=checkout.principal,
        processor=processor,
        now=now,
        record=runtime.recorder,
    )
    return await visits.outcome_page(visit, charge, fields)


async def _pay_live(visit: visits.CustomerVisit, fields: dict[str, str], nonce: str) -> Response:
    """A live card payment: the form carries Omise's token (Omise.js made it in the browser with
    the account's Omise public key), never card data; the charge is made at the account's
    Omise (`payments.flow`). Omise's refusal reads as the generic decline."""
    runtime, checkout, now = visit.runtime, visit.checkout, visit.now()
    token = fields.get("omise_token", "")
    try:
        amount = read_amount(fields, checkout.link, visit.t)
        email = read_email(fields, visit.t)
    except FormErrors as error:
        return await visits.form_page(visit, status=422, values=fields, errors=error.errors)
    if not tokens_service.TOKEN_ID.match(token):  # no JavaScript, or Omise.js did not answer
        alert = visit.t("live_needs_js") if not token else visit.t("err_card_token")
        return await visits.form_page(visit, status=422, values=fields, alert=alert)
    processor = await runtime.processor_of(checkout.principal)
    if processor is None:  # disconnected since the page was shown
        return visits.state_page(visit, "live")
    # Omise runs 3-D Secure when the card or the account needs it, and sends the customer here.
    return_uri = runtime.settings.public_url + visits.return_path(checkout.link.id, nonce)
    try:
        opened = await runtime.db.write(
            service.open_card_payment, checkout=checkout, nonce=nonce, omise_token=token,
            email=email, receipt_language=visit.receipt_language, amount=amount, now=now,
            record=runtime.recorder, return_uri=return_uri,
        )  # fmt: skip
        return await _made_at_omise(visit, opened, processor, fields)
    except LinkNotPayable as error:
        return visits.state_page(visit, error.reason)
    except ApiError:  # a used token, Omise's refusal: nothing was charged
        alert = visit.t.decline(None, livemode=True)
        return await visits.form_page(visit, status=402, values=fields, alert=alert)


async def _made_at_omise(
    visit: visits.CustomerVisit, opened: Charge | Opened, processor: Processor,
    fields: dict[str, str],
) -> Response:  # fmt: skip
    """The page of a live attempt once opened: this form's earlier charge (settled first, for
    a double click), or the new one, made at Omise now. Raises what `payments.finish` raises."""
    if isinstance(opened, Charge):
        return await visits.outcome_page(visit, await visits.settled(visit, opened), fields)
    charge = await payments.finish(
        visit.runtime.db, opened, principal=visit.checkout.principal, processor=processor,
        now=visit.now(), record=visit.runtime.recorder,
    )  # fmt: skip
    return await visits.outcome_page(visit, charge, fields)


@pages.html_page
async def return_from_bank(request: Request) -> Response:
    """Where the customer lands after 3-D Secure (the charge's `return_uri`): the outcome of
    the attempt the path names — a receipt only once the charge is final."""
    visit = await visits.open_visit(request)
    if isinstance(visit, Response):
        return visit
    nonce = request.path_params["nonce"]
    charge = None
    if forms.is_nonce(nonce):
        charge = await visit.runtime.db.read(
            service.find_attempt, checkout=visit.checkout, nonce=nonce
        )
    if charge is None:
        return visits.not_found(visit.t)
    if charge.livemode and charge.status == "pending":  # ask Omise: it may know the end
        charge = await visits.back_from_omise(visit, charge)
        if charge.status == "pending" and charge.upstream_authorize_uri is not None:
            # Back from Omise's 3-D Secure step, and Omise has not finished: its webhook will.
            back = visits.return_path(visit.link_id, nonce)
            return pages.notice(visit.t, key="processing", status=202, back=back)
    return await visits.outcome_page(visit, charge, visits.kept_values(visit, charge))


async def attempt_status(request: Request) -> Response:
    """The status of the attempt the path names, for the QR page's script, which polls this and
    reloads the page once the charge is no longer pending. A live QR's status is Omise's: it
    is asked, as a reload of the page would (its webhook may not have come yet)."""
    headers = {**pages.PAGE_HEADERS, "Content-Type": "application/json"}
    visit = await visits.open_visit(request)
    nonce = request.path_params["nonce"]
    charge = None
    if not isinstance(visit, Response) and forms.is_nonce(nonce):
        charge = await visit.runtime.db.read(
            service.find_attempt, checkout=visit.checkout, nonce=nonce
        )
    if charge is None or isinstance(visit, Response):
        return Response(b'{"status":null}', 404, headers)
    if charge.livemode and charge.status == "pending":
        charge = await visits.back_from_omise(visit, charge)
    return Response(orjson.dumps({"status": charge.status}), 200, headers)


@pages.html_page
async def promptpay_form(request: Request) -> Response:
    """`/pay/:id/promptpay` is where the form posts; opened as a page it is the form."""
    target = f"/pay/{request.path_params['link_id']}"
    return RedirectResponse(target, status_code=303, headers=pages.PAGE_HEADERS)


@pages.html_page
async def pay_by_promptpay(request: Request) -> Response:
    attempt = await visits.attempt(request, "promptpay_token")
    if isinstance(attempt, Response):
        return attempt
    visit, fields, nonce = attempt
    fields["method"] = "promptpay"
    if visit.checkout.link.livemode:
        return await _promptpay_live(visit, fields, nonce)
    try:
        amount = read_amount(fields, visit.checkout.link, visit.t)
        email = read_email(fields, visit.t)
        opened = await visit.runtime.db.write(
            service.start_promptpay,
            checkout=visit.checkout,
            nonce=nonce,
            email=email,
            receipt_language=visit.receipt_language,
            amount=amount,
            now=visit.now(),
            record=visit.runtime.recorder,
        )
    except FormErrors as error:
        return await visits.form_page(visit, status=422, values=fields, errors=error.errors)
    except LinkNotPayable as error:
        return visits.state_page(visit, error.reason)
    charge = opened if isinstance(opened, Charge) else opened.charge
    return await visits.outcome_page(visit, charge, fields)


async def _promptpay_live(
    visit: visits.CustomerVisit, fields: dict[str, str], nonce: str
) -> Response:
    """A live PromptPay payment: a source made at the account's Omise (with its secret key: the
    page needs no JavaScript for it), the charge opened with the link claimed, then made at
    Omise, whose QR the customer scans. Omise's refusal reads as the generic failure."""
    runtime, checkout, now = visit.runtime, visit.checkout, visit.now()
    try:
        amount = read_amount(fields, checkout.link, visit.t)
        email = read_email(fields, visit.t)
    except FormErrors as error:
        return await visits.form_page(visit, status=422, values=fields, errors=error.errors)
    processor = await runtime.processor_of(checkout.principal)
    if not isinstance(processor, OmiseProcessor):  # disconnected since the page was shown
        return visits.state_page(visit, "live")
    try:
        source = await processor.make_source(
            amount=amount if amount is not None else checkout.link.amount,
            currency=checkout.link.currency,
        )
        opened = await runtime.db.write(
            service.start_promptpay, checkout=checkout, nonce=nonce, email=email,
            receipt_language=visit.receipt_language, amount=amount,
            now=now, record=runtime.recorder, omise_source=source,
        )  # fmt: skip
        return await _made_at_omise(visit, opened, processor, fields)
    except LinkNotPayable as error:
        return visits.state_page(visit, error.reason)
    except (ApiError, Refused, Unknown):  # Omise refused or did not answer: nothing was paid
        alert = visit.t("promptpay_failed")
        return await visits.form_page(visit, status=402, values=fields, alert=alert)


@pages.html_page
async def complete_promptpay(request: Request) -> Response:
    """Test mode: the buttons that end a PromptPay payment as the customer's bank would."""
    posted = await visits.posted_form(request, "token")
    if isinstance(posted, Response):
        return posted
    visit, fields, _nonce = posted
    if visit.checkout.link.livemode and fields.get("outcome") == "cancel":
        return await _cancel_live_qr(visit, request.path_params["charge_id"])
    if visit.checkout.link.livemode or fields.get("outcome") not in ("paid", "failed"):
        return visits.not_found(visit.t)
    try:
        charge = await visit.runtime.db.write(
            service.complete_promptpay,
            checkout=visit.checkout,
            charge_id=request.path_params["charge_id"],
            paid=fields["outcome"] == "paid",
            now=visit.now(),
            record=visit.runtime.recorder,
        )
    except NotFound:
        return visits.not_found(visit.t)
    except LinkNotPayable as error:
        return visits.state_page(visit, error.reason)
    return await visits.outcome_page(visit, charge, {})


async def _cancel_live_qr(visit: visits.CustomerVisit, charge_id: str) -> Response:
    """Live: the customer would rather pay another way. Their QR holds the link while it can be
    paid, so it is expired — at Omise first (`payments.expire`) — and the form shown again; a
    QR Omise says was paid meanwhile shows its receipt."""
    runtime, principal = visit.runtime, visit.checkout.principal
    charge = await runtime.db.read(
        service.find_charge, checkout=visit.checkout, charge_id=charge_id
    )
    if charge is None or charge.source is None:
        return visits.not_found(visit.t)
    processor = await runtime.processor_of(principal)
    if charge.status == "pending" and processor is not None:
        try:
            charge = await payments.expire(
                runtime.db, principal=principal, charge_id=charge.id, now=visit.now(),
                processor=processor, record=runtime.recorder,
            )  # fmt: skip
        except ApiError:  # Omise refused (paid meanwhile?) or did not answer: as Omise holds it
            charge = await visits.back_from_omise(visit, charge)
    if charge.status == "expired":
        return await visits.form_page(visit)
    return await visits.outcome_page(visit, charge, {})


@pages.html_page
async def logo(request: Request) -> Response:
    """The link's account's logo, with the type recognised at upload and no way to run as a
    document (nosniff, a sandboxing CSP)."""
    visit = await visits.open_visit(request)
    if isinstance(visit, Response):
        return visit
    branding = visit.checkout.branding
    if branding is None or branding.logo is None or branding.logo_type is None:
        return visits.not_found(visit.t)
    headers = {
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "public, max-age=300",
        "ETag": f'"{branding.version}"',
    }
    return Response(branding.logo, 200, headers, media_type=branding.logo_type)
