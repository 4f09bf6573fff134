"""POSTs that leave the desk (webhook, SMS gateway): one deadline, a capped answer.

One home for two limits every outgoing HTTP request keeps:

- **One deadline for the whole attempt.** httpx's timeouts apply to each
  read, so an endpoint that sends its headers and then a byte every half
  second held a worker for minutes with a 1 s timeout, past its lease. Here
  every socket operation (connect, TLS, each write and each read) is given
  at most the time left until the attempt's deadline, and fails as a timeout
  once it has passed, so an attempt never outlasts ``seconds``. The worker's
  lease is derived from it (``db.delivery.worker``).
- **At most ``ANSWER_LIMIT`` bytes of the answer are read.** The body is
  streamed and reading stops there (the connection is then dropped), so a
  receiver answering 2xx with an endless body costs 64 KiB, not the worker's
  memory. The answer is asked for uncompressed (``Accept-Encoding:
  identity``) and read raw, so a small compressed body cannot expand.

Redirects are never followed: what is sent goes only where it was configured
to. Errors say the status by its standard phrase, never the endpoint's text.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from http import HTTPStatus

import httpcore
import httpx

ANSWER_LIMIT = 64 * 1024
# The attempt's deadline (time.monotonic()), read by every socket operation of this thread.
_deadline: ContextVar[float | None] = ContextVar("callgate_http_deadline", default=None)


@dataclass(frozen=True)
class Answer:
    """What the endpoint answered: the status and the first ``ANSWER_LIMIT`` bytes."""

    status: int
    body: bytes
    truncated: bool

    @property
    def ok(self) -> bool:
        """A 2xx status."""
        return 200 <= self.status < 300


class DeadlineClient:
    """An httpx client whose every request ends by ``seconds`` after it starts."""

    def __init__(self, seconds: float, auth: tuple[str, str] | None = None) -> None:
        self.seconds = seconds
        self._client = httpx.Client(timeout=seconds, follow_redirects=False, auth=auth)
        # httpx takes no network backend, so the pools it built (the direct one
        # and any proxy from the environment) get ours in place of theirs.
        transports = [self._client._transport, *self._client._mounts.values()]
        for transport in transports:
            if transport is None:
                continue
            pool = getattr(transport, "_pool", None)
            inner = getattr(pool, "_network_backend", None)
            if not isinstance(inner, httpcore.NetworkBackend):
                raise RuntimeError("httpx/httpcore changed: cannot bound the attempt's time")
            pool._network_backend = _DeadlineBackend(inner)  # type: ignore[union-attr]

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def post(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Answer:
        """POST and read the answer within the deadline; raises ``httpx.HTTPError``
        (``httpx.TimeoutException`` when the deadline passed)."""
        token = _deadline.set(time.monotonic() + self.seconds)
        try:
            sent = {**headers, "Accept-Encoding": "identity"}
            with self._client.stream(
                "POST", url, headers=sent, content=content, data=data
            ) as response:
                body = bytearray()
                truncated = False
                for chunk in response.iter_raw():
                    body += chunk[: ANSWER_LIMIT - len(body)]
                    if len(body) >= ANSWER_LIMIT:
                        truncated = True
                        break
                return Answer(response.status_code, bytes(body), truncated)
        finally:
            _deadline.reset(token)


def status_text(code: int) -> str:
    """``HTTP 503 Service Unavailable``: the standard phrase, nothing the endpoint wrote."""
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """The time a socket operation may take: its own timeout, cut to the deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the attempt's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        upgraded = self._inner.start_tls(
            ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(upgraded)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _left(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(
            path, _left(timeout, httpcore.ConnectTimeout), socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
