"""A webhook receiver on 127.0.0.1 for tests: records every request, answers as told."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from paylinks.webhooks.transport import READ_BYTES, Answer, Outgoing, Post, SendFailed, Unreachable


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # Statuses to answer, in order (then 200); a tuple (status, headers) sets headers too.
    script: list[int | tuple[int, dict[str, str]]] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    # Workers post a batch (64) at once, two workers twice that: the default backlog of 5 would
    # reset connections as a real receiver never should.
    request_queue_size = 256
    daemon_threads = True


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            if len(body) != length:
                return  # the sender went away mid-request: nothing was delivered
            with lock:
                state.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                answer = state.script.pop(0) if state.script else 200
            status, headers = answer if isinstance(answer, tuple) else (answer, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: object) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/omise"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def mock_post(answer: Callable[[httpx.Request], httpx.Response]) -> Post:
    """A worker's `post` that never connects: each delivery is handed to `answer` as the request
    it would be (the checked address in the URL, the `Host` header, the TLS name in
    `extensions["sni_hostname"]`) and `answer`'s response is what the receiver said.
    `httpx.ConnectError` stands for an address that cannot be reached, other httpx errors for
    a failed exchange."""

    async def post(outgoing: Outgoing) -> Answer:
        pinned = outgoing.pinned
        sni = {"sni_hostname": pinned.sni_hostname} if pinned.sni_hostname else None
        request = httpx.Request(
            "POST",
            pinned.url,
            content=outgoing.body,
            headers={**outgoing.headers, "Host": pinned.host_header},
            extensions=sni,
        )
        try:
            response = answer(request)
        except httpx.ConnectError as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from exc
        return Answer(
            response.status_code,
            response.headers.get("content-type", ""),
            response.headers.get("retry-after"),
            response.content[:READ_BYTES],
        )

    return post
