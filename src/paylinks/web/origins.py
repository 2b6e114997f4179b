"""Which site a browser's form post came from (Fetch Metadata and Origin), so that pages with
forms can refuse posts made by other sites: the hosted page's payments and the dashboard's
sign-in (login CSRF) and session forms."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request


def is_cross_site(request: Request, *, public_url: str) -> bool:
    """True when the browser says the form was posted from another site (Fetch Metadata), or
    the Origin is neither this host nor the configured public URL. Absent headers pass: old
    browsers and non-browser clients still need a valid token."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    # Our own page sends "null": under `Referrer-Policy: no-referrer` browsers hide the origin
    # of a form post. Sec-Fetch-Site (above) and the token still judge such a post.
    if origin is None or origin == "null":
        return False
    public = urlsplit(public_url)
    if origin == f"{public.scheme}://{public.netloc}":
        return False
    return urlsplit(origin).netloc != request.headers.get("host", "")
