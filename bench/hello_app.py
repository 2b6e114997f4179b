"""The baseline: a bare Starlette JSON hello-world, served exactly as `paylinks serve` is served.

Rather than copying uvicorn's settings, `serve_as_paylinks` (which bench/anchor_app.py serves with
too) takes them from `paylinks.server` (the one place that knows how paylinks runs uvicorn), so
the baseline always gets the same `uvicorn.run` options:
access log off, no server header, loop and HTTP parser on `auto` (uvloop and httptools when
installed, as they are with `uvicorn[standard]`), and `--workers N` processes like
`paylinks serve --workers N`.

    python bench/hello_app.py --port 8001 [--workers 2]
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


def serve_as_paylinks(target: str, *, factory: bool = False, port: int, doc: str | None) -> None:
    """Serve `target` ("module:app", or a factory of it) from the command line's --host, --port
    and --workers, with `paylinks.server.uvicorn_options`; worker processes import it by name,
    as `paylinks serve --workers N` does."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    import sys
    from pathlib import Path

    import uvicorn

    from paylinks.config import Settings
    from paylinks.server import uvicorn_options

    options = uvicorn_options(Settings(), host=args.host, port=args.port)
    sys.path.insert(0, str(Path(__file__).parent))
    uvicorn.run(target, factory=factory, workers=args.workers, **options)  # type: ignore[arg-type]


if __name__ == "__main__":
    serve_as_paylinks("hello_app:app", port=8001, doc=__doc__)
