"""The payment page's design per account: display name, logo, brand colour and support e-mail,
with a preview that follows the form as it is filled in (and after saving, the real page)."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from paylinks.accounts.service import set_three_d_secure, three_d_secure_of
from paylinks.branding import images
from paylinks.branding.contrast import DEFAULT_ACCENT, palette
from paylinks.branding.service import Branding, get_branding, save_branding
from paylinks.dashboard.pages import MerchantVisit, page, redirect
from paylinks.dashboard.users import normalise_email
from paylinks.errors import BadRequest

NAME_MAX = 100


def routes() -> list[BaseRoute]:
    return [
        Route("/dashboard/branding", page(form_page), methods=["GET"]),
        Route("/dashboard/branding", page(save), methods=["POST"]),
        Route("/dashboard/branding/three-d-secure", page(save_three_d_secure), methods=["POST"]),
    ]


async def _current(visit: MerchantVisit) -> Branding | None:
    return await visit.runtime.db.read(get_branding, account_pk=visit.session.account_pk)


def _render(
    visit: MerchantVisit,
    branding: Branding | None,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    saved: bool = False,
    status: int = 200,
    three_d_secure: bool = False,
) -> Response:
    shown = values or {
        "display_name": (branding.display_name if branding else None) or "",
        "brand_color": (branding.brand_color if branding else None) or DEFAULT_ACCENT,
        "support_email": (branding.support_email if branding else None) or "",
    }
    logo = None
    if branding is not None and branding.logo and branding.logo_type:
        logo = f"data:{branding.logo_type};base64,{base64.b64encode(branding.logo).decode()}"
    return visit.render(
        "branding.html",
        three_d_secure=three_d_secure,
        status=status,
        title="Payment page",
        values=shown,
        logo=logo,
        error=error,
        saved=saved,
        preview_query=urlencode(shown),
    )


async def _three_d_secure(visit: MerchantVisit) -> bool:
    return await visit.runtime.db.read(three_d_secure_of, account_pk=visit.session.account_pk)


async def form_page(visit: MerchantVisit) -> Response:
    return _render(
        visit,
        await _current(visit),
        saved=visit.request.query_params.get("saved") == "1",
        three_d_secure=await _three_d_secure(visit),
    )


async def save_three_d_secure(visit: MerchantVisit) -> Response:
    """3-D Secure on the account's payment pages, both modes (an unchecked box is not sent)."""
    enabled = visit.field("three_d_secure") == "on"
    await visit.runtime.db.write(
        set_three_d_secure, account_id=visit.session.account_id, enabled=enabled
    )
    return redirect("/dashboard/branding?saved=1")


async def _logo_change(visit: MerchantVisit) -> dict[str, object]:
    assert visit.form is not None
    if visit.field("remove_logo") == "on":
        return {"logo": None, "logo_type": None}
    upload = visit.form.get("logo")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return {}
    data = await upload.read(images.MAX_BYTES + 1)
    return {"logo": data, "logo_type": images.sniff(data)}


async def save(visit: MerchantVisit) -> Response:
    values = {k: visit.field(k).strip() for k in ("display_name", "brand_color", "support_email")}
    try:
        if len(values["display_name"]) > NAME_MAX:
            raise ValueError(f"the display name may have at most {NAME_MAX} characters")
        palette(values["brand_color"] or DEFAULT_ACCENT)
        email = normalise_email(values["support_email"]) if values["support_email"] else None
        changes: dict[str, object] = {
            "display_name": values["display_name"] or None,
            "brand_color": (values["brand_color"] or DEFAULT_ACCENT).lower(),
            "support_email": email,
            **await _logo_change(visit),
        }
    except (ValueError, BadRequest) as problem:
        message = problem.message if isinstance(problem, BadRequest) else str(problem)
        return _render(
            visit,
            await _current(visit),
            values=values,
            error=message,
            status=400,
            three_d_secure=await _three_d_secure(visit),
        )
    await visit.runtime.db.write(
        save_branding, account_pk=visit.session.account_pk, values=changes, now=visit.now()
    )
    return redirect("/dashboard/branding?saved=1")
