"""A local HTTP receiver on 127.0.0.1 standing in for every alert channel (webhook, ntfy, Telegram, heartbeat).

    with AlertReceiver() as rx:
        rx.url("/hook")                         # where a channel points
        rx.reply(500)                           # the next request gets a 500 (then 200s again)
        rx.reply(429, headers={"Retry-After": "0"}); rx.hang(1.0)   # a 429; an answer 1 s late
        rx.wait_for(2)                          # until two requests arrived; rx.requests holds them all

Each request is recorded (method, path, headers, body) before the scripted answer is given; the default
answer is 200 with Telegram's {"ok": true, ...} body, which the other channels ignore.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    """time.monotonic() when it arrived."""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str = '{"ok": true, "result": {"message_id": 1}}'
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    cut: bool = False
    """Close the connection without any answer."""


class AlertReceiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._replies: list[Reply] = []
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.command, self.path, dict(self.headers.items()), body, time.monotonic())
                    )
                    reply = receiver._replies.pop(0) if receiver._replies else Reply()
                    receiver._lock.notify_all()
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.cut:
                    self.close_connection = True
                    return
                data = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers:
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (a timeout test)
                    pass

            do_POST = do_GET = do_PUT = _handle

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="fake-alert-receiver", daemon=True
        )

    def __enter__(self) -> AlertReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(2)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def reply(
        self, status: int, body: str | None = None, headers: dict[str, str] | None = None, delay: float = 0.0
    ) -> None:
        """Script the next unscripted request's answer."""
        with self._lock:
            self._replies.append(
                Reply(status, Reply.body if body is None else body, tuple((headers or {}).items()), delay)
            )

    def cut(self) -> None:
        """The next request gets no answer at all: the connection is closed once it is read."""
        with self._lock:
            self._replies.append(Reply(cut=True))

    def hang(self, seconds: float) -> None:
        """The next request is answered (200) only after `seconds`: longer than a client's timeout, it times out."""
        with self._lock:
            self._replies.append(Reply(delay=seconds))

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Block until at least `count` requests arrived (AssertionError after timeout seconds)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.requests)} requests arrived, {count} expected"
                self._lock.wait(left)
            return list(self.requests)


def refused_url() -> str:
    """A 127.0.0.1 URL nothing listens at (a port bound, then closed)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/nobody"
