"""A real webhook receiver on 127.0.0.1 for the delivery tests.

It records every request (headers and body), applies each event at most once
by its ``Idempotency-Key`` (as a billing system must), and answers as the
test says: fail the first N requests, be down for good, or hold a request
until the test lets it go (to kill a worker mid-send).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """One request as it arrived."""

    key: str
    signature: str
    body: bytes
    event: dict[str, Any]


@dataclass
class Receiver:
    """What the server saw; ``status`` decides each answer from the request number."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    applied: Counter[str] = field(default_factory=Counter)
    status: Callable[[int], int] = lambda _n: 200
    hold: Callable[[int], bool] = lambda _n: False
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    in_flight: Counter[str] = field(default_factory=Counter)
    overlaps: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, key: str, signature: str, body: bytes) -> int:
        with self.lock:
            number = len(self.requests) + 1
            self.requests.append(Received(key, signature, body, json.loads(body)))
            if self.in_flight[key]:
                self.overlaps.append(key)
            self.in_flight[key] += 1
        try:
            if self.hold(number):
                self.held.set()
                self.release.wait(30)
            code = self.status(number)
            if 200 <= code < 300:
                with self.lock:
                    # An idempotent receiver: a key it has seen is acknowledged, not applied.
                    if key not in self.applied:
                        self.applied[key] += 1
            return code
        finally:
            with self.lock:
                self.in_flight[key] -= 1

    def keys(self) -> list[str]:
        """Idempotency keys in arrival order."""
        return [r.key for r in self.requests]


@contextmanager
def running_receiver(receiver: Receiver | None = None) -> Iterator[Receiver]:
    """Serve ``receiver`` on an ephemeral loopback port for the ``with`` block."""
    state = receiver or Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            code = state.handle(
                self.headers.get("Idempotency-Key", ""),
                self.headers.get("Callgate-Signature", ""),
                body,
            )
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads ``requests`` instead."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
