"""`serve --workers N` hands its settings to each worker process as `PAYLINKS_*` variables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paylinks.config import Settings
from paylinks.server import settings_to_env


def rebuilt(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in [n for n in os.environ if n.startswith("PAYLINKS_")]:
        monkeypatch.delenv(name)
    for name, value in settings_to_env(settings).items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_a_worker_rebuilds_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        database_url="sqlite:////tmp/x.db",
        secret="s3cret",
        trusted_proxies="10.0.0.0/8, 192.0.2.1",
        max_webhook_endpoints=3,
        allow_private_webhooks=True,
        test_processor_journal=Path("/tmp/calls.jsonl"),
    )
    assert rebuilt(settings, monkeypatch) == settings


def test_an_unset_setting_stays_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # str(None) once became the journal path "None": every worker wrote a file of that name.
    settings = Settings(database_url="sqlite:////tmp/x.db")
    assert "PAYLINKS_TEST_PROCESSOR_JOURNAL" not in settings_to_env(settings)
    assert rebuilt(settings, monkeypatch).test_processor_journal is None
