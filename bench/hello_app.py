"""The baseline: a bare Starlette JSON hello-world, served exactly as `paylinks serve` is served.

Rather than copying uvicorn's settings, `main()` hands this app to `paylinks.server.serve` itself
(the one place that knows how paylinks runs uvicorn), so the baseline always gets the same
`uvicorn.run` call: 1 worker, access log off, no server header, loop and HTTP parser on `auto`
(uvloop and httptools when installed, as they are with `uvicorn[standard]`).

    python bench/hello_app.py --port 8001
"""

from __future__ import annotations

import argparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(_request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


app = Starlette(routes=[Route("/", hello)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()

    import paylinks.app
    from paylinks.config import Settings
    from paylinks.server import serve

    # serve() builds its app with `paylinks.app.create_app(settings)`; give it ours instead.
    paylinks.app.create_app = lambda _settings, **_kw: app
    serve(Settings(), host=args.host, port=args.port, workers=1)


if __name__ == "__main__":
    main()
