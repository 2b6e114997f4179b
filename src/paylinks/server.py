"""Serving: the one place that knows which HTTP server runs the app (uvicorn)."""

from __future__ import annotations

import os

import uvicorn

from paylinks.config import Settings


def settings_to_env(settings: Settings) -> dict[str, str]:
    """The `PAYLINKS_*` variables that rebuild `settings` in a worker process."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is not None:  # unset stays unset: str(None) would become the path "None"
            env[f"PAYLINKS_{name.upper()}"] = str(value)
    env["PAYLINKS_DATABASE_URL"] = settings.resolved_database_url
    return env


def uvicorn_options(settings: Settings, *, host: str, port: int) -> dict[str, object]:
    """How paylinks runs uvicorn (the benchmark's baseline is served with the same options)."""
    return {
        "host": host,
        "port": port,
        "log_level": settings.log_level,
        "access_log": False,  # paylinks logs each request itself, with its request id
        "log_config": None,  # keep the logging `logs.configure` set up
        "server_header": False,
        # uvicorn would believe X-Forwarded-For from any loopback peer; paylinks decides itself
        # whom to believe (`PAYLINKS_TRUSTED_PROXIES`, see `proxies`).
        "proxy_headers": False,
        "timeout_graceful_shutdown": 10,
    }


def serve(settings: Settings, *, host: str, port: int, workers: int = 1) -> None:
    """Run the API until interrupted; with `workers` > 1, that many processes share the port."""
    common = uvicorn_options(settings, host=host, port=port)
    if workers > 1:
        os.environ.update(settings_to_env(settings))
        uvicorn.run(
            "paylinks.app:create_app_from_env",
            factory=True,
            workers=workers,
            **common,  # type: ignore[arg-type]
        )
        return
    from paylinks.app import create_app

    uvicorn.run(create_app(settings), **common)  # type: ignore[arg-type]
