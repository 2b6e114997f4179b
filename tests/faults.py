"""A fault-injecting HTTP proxy between a live paylinks and its upstream (the live-payments issue):
requests pass through untouched unless a fault was armed for their method and path, and then
the next such request meets it — once — while everything else still passes.

The faults are the ambiguous answers a live connector must survive: an answer that comes too
late (the upstream acted; the caller timed out), a 5xx before the request reached the upstream
(nothing was done), a 5xx after it did (something was), a connection dropped after the
request was forwarded, and an answer held until the test lets it go (to kill the caller
in between)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

PASS, DELAY, FAIL_BEFORE, FAIL_AFTER, DROP_AFTER, HOLD = (
    "pass", "delay", "fail_before", "fail_after", "drop_after", "hold",
)  # fmt: skip
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class Fault:
    kind: str
    method: str
    path: str  # a prefix of the request's path
    seconds: float = 0.0  # DELAY: how long the answer is held after the upstream gave it
    met: threading.Event = field(default_factory=threading.Event)  # a request met it
    release: threading.Event = field(default_factory=threading.Event)  # HOLD: let it go


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self._faults: list[Fault] = []
        self._armed: list[Fault] = []  # every fault ever armed: held answers are let go at close
        self._lock = threading.Lock()
        self.forwarded: list[str] = []  # "METHOD /path" of every request that reached upstream
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def arm(self, kind: str, method: str, path: str, seconds: float = 0.0) -> Fault:
        """The next `method` request under `path` meets `kind`."""
        fault = Fault(kind, method, path, seconds)
        with self._lock:
            self._faults.append(fault)
            self._armed.append(fault)
        return fault

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method == method and path.startswith(fault.path):
                    self._faults.remove(fault)
                    return fault
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy._take(self.command, self.path)
                if fault is not None:
                    fault.met.set()
                if fault is not None and fault.kind == FAIL_BEFORE:
                    return self._answer(502, b"bad gateway", "text/plain")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                answer = httpx.request(
                    self.command, proxy.upstream + self.path, content=body, headers=headers,
                    timeout=60,
                )  # fmt: skip
                with proxy._lock:
                    proxy.forwarded.append(f"{self.command} {self.path}")
                if fault is None:
                    return self._answer(answer.status_code, answer.content, _type(answer))
                if fault.kind == DELAY:
                    threading.Event().wait(fault.seconds)
                elif fault.kind == HOLD:
                    fault.release.wait(60)
                elif fault.kind == FAIL_AFTER:
                    return self._answer(500, b"upstream fell over", "text/plain")
                elif fault.kind == DROP_AFTER:
                    self.close_connection = True
                    self.connection.close()
                    return None
                return self._answer(answer.status_code, answer.content, _type(answer))

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the caller gave up (its timeout): nothing to tell it
                    self.close_connection = True

            do_GET = do_POST = do_PATCH = do_DELETE = _any

        return Handler

    def serve(self) -> threading.Thread:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        with self._lock:
            for fault in self._armed:
                fault.release.set()
        self._server.shutdown()
        self._server.server_close()


def _type(answer: httpx.Response) -> str:
    return answer.headers.get("content-type", "application/json")


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream)
    proxy.serve()
    try:
        yield proxy
    finally:
        proxy.close()
