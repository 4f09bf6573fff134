"""Hostile endpoints on 127.0.0.1: one that drips its answer, one whose answer never ends.

A raw socket server (no http.server: its handler would buffer): each
connection's request is read up to the end of its body, then ``answer``
writes to the socket until the client goes away or the test ends. It counts
the requests by ``Idempotency-Key`` and how many bytes it managed to send.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


@dataclass
class Hostile:
    """What the server saw and did."""

    url: str = ""
    port: int = 0
    keys: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    most_in_flight: int = 0
    sent: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def drip(state: Hostile, sock: socket.socket) -> None:
    """Headers at once, then a byte of the body every half second, for 40 s.

    The body ends one day (so a client without a deadline is not stuck in a
    failing test for ever), long after any deadline these tests set.
    """
    sock.sendall(HEAD + b"Content-Length: 80\r\n\r\n")
    for _ in range(80):
        if state.stop.wait(0.5):
            return
        sock.sendall(b" ")
        state.sent += 1


def flood(state: Hostile, sock: socket.socket) -> None:
    """A 2xx whose chunked body never ends, sent as fast as the client reads it."""
    sock.sendall(HEAD + b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    # A bound, so the server stops one day even for a client that reads everything.
    while not state.stop.is_set() and state.sent < 256 * 1024 * 1024:
        sock.sendall(chunk)
        state.sent += len(chunk)


def drip_greeting(state: Hostile, sock: socket.socket) -> None:
    """An SMTP server slow to say hello: a byte every half second, 40 s in all."""
    for byte in (b"220 slow.example ESMTP" * 4)[:78] + b"\r\n":
        if state.stop.wait(0.5):
            return
        sock.sendall(bytes([byte]))
        state.sent += 1


def _read_request(sock: socket.socket) -> str:
    """Read one request up to the end of its body; its Idempotency-Key."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            return ""
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        more = sock.recv(65536)
        if not more:
            break
        body += more
    return headers.get("idempotency-key", "")


@contextmanager
def hostile_server(
    answer: Callable[[Hostile, socket.socket], None], *, http: bool = True
) -> Iterator[Hostile]:
    """Serve ``answer`` on an ephemeral loopback port for the ``with`` block."""
    state = Hostile()
    listener = socket.create_server(("127.0.0.1", 0))
    state.port = listener.getsockname()[1]
    state.url = f"http://127.0.0.1:{state.port}/hook"

    def serve(sock: socket.socket) -> None:
        with sock:
            key = _read_request(sock) if http else ""
            with state.lock:
                state.keys[key] += 1
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
            state.arrived.set()
            try:
                answer(state, sock)
            except OSError:
                pass  # the client went away: what these tests want
            finally:
                with state.lock:
                    state.in_flight -= 1

    def accept() -> None:
        listener.settimeout(0.1)
        while not state.stop.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(sock,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        thread.join(5)
        listener.close()
