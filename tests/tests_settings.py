"""Settings for in-process apps in tests (no rate limits, no cap, no key cache)."""

from __future__ import annotations

from typing import Any

from paylinks.config import Settings

PUBLIC_URL = "http://paylinks.test"


def quiet_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "public_url": PUBLIC_URL,
        "rate_limits": "off",
        "max_active_links": 0,
        "auth_cache_seconds": 0,
        "deliver_webhooks": False,  # tests that deliver run the worker themselves
    }
    values.update(overrides)
    return Settings(**values)
