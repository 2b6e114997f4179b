"""Metrics with several API processes: whichever process answers /metrics counts the requests
every process served (shared through PROMETHEUS_MULTIPROC_DIR)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from servers import live_server

COUNT = re.compile(
    r'^paylinks_http_requests_total\{method="GET",route="/links",status="200"\} (\S+)$', re.M
)


def test_every_process_answers_for_all(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'metrics.db'}"
    seen = set()
    with live_server(url, env={"PAYLINKS_METRICS": "true"}, workers=2) as server:
        for _ in range(30):  # a connection each, so both processes serve some of them
            listed = httpx.get(f"{server.url}/links", auth=(server.secret_key, ""))
            assert listed.status_code == 200
        for _ in range(6):  # new connections: the scrapes land on either process
            text = httpx.get(f"{server.url}/metrics").text
            found = COUNT.search(text)
            assert found is not None, text[:2000]
            seen.add(float(found.group(1)))
    assert seen == {30.0}
