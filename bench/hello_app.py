"""The baseline: a bare Starlette JSON hello-world, served exactly as `paylinks serve` is served.

Rather than copying uvicorn's settings, `main()` takes them from `paylinks.server` (the one place
that knows how paylinks runs uvicorn), so the baseline always gets the same `uvicorn.run` options:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    import sys
    from pathlib import Path

    import uvicorn

    from paylinks.config import Settings
    from paylinks.server import uvicorn_options

    options = uvicorn_options(Settings(), host=args.host, port=args.port)
    if args.workers == 1:
        uvicorn.run(app, **options)  # type: ignore[arg-type]
        return
    # Worker processes import the app by name, as `paylinks serve --workers N` does.
    sys.path.insert(0, str(Path(__file__).parent))
    uvicorn.run("hello_app:app", workers=args.workers, **options)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
