"""Real servers on loopback that receive one-time codes: an SMS gateway and an SMTP inbox.

``running_gateway`` speaks Twilio's Messages API shape and checks basic auth
and the path (401/404 otherwise); ``running_inbox`` is an aiosmtpd server
without TLS (a relay on the same host, ``smtp_tls = "none"``). Both record
what arrived so a test can read the code back as a caller would.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller

from db.settings import Settings

SID = "AC0123456789"
TOKEN = "s3cr3t-token"
PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"
FROM_NUMBER = "+14255550199"
CODE = re.compile(r"\b(\d{6})\b")


class Gateway(ThreadingHTTPServer):
    """The SMS gateway; ``received`` holds each accepted form, ``refused`` the rest."""

    received: list[dict[str, list[str]]]
    refused: int
    # A status to answer every request with instead (a gateway that is failing).
    fail_with: int | None
    # The reason phrase of that status line, when not the standard one.
    fail_reason: str | None
    # Set: each request waits for it before the gateway answers (a slow gateway).
    hold: threading.Event | None
    # Each request seen, before waiting for ``hold`` (to know one is in flight).
    arrived: threading.Semaphore

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def codes(self) -> list[str]:
        """The codes in the texts received, in order."""
        return [m.group(1) for form in self.received if (m := CODE.search(form["Body"][0]))]


class _Handler(BaseHTTPRequestHandler):
    server: Gateway

    def do_POST(self) -> None:
        self.server.arrived.release()
        if self.server.hold is not None:
            self.server.hold.wait(30)
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        status = self.server.fail_with
        if status is None and self.headers.get("Authorization") != expected:
            status = 401
        if status is None and self.path != PATH:
            status = 404
        if status is not None:
            self.server.refused += 1
            self.send_response(status, self.server.fail_reason)
            self.end_headers()
            return
        length = int(self.headers["Content-Length"])
        self.server.received.append(parse_qs(self.rfile.read(length).decode()))
        body = json.dumps({"sid": "SM42", "status": "queued"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def running_gateway() -> Iterator[Gateway]:
    """An SMS gateway on an ephemeral loopback port for the ``with`` block."""
    server = Gateway(("127.0.0.1", 0), _Handler)
    server.received, server.refused, server.fail_with = [], 0, None
    server.fail_reason, server.hold, server.arrived = None, None, threading.Semaphore(0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def sms_settings(gateway: Gateway) -> Settings:
    """Codes by text through the loopback gateway."""
    return Settings(
        database_url="sqlite://",
        sms_base_url=gateway.base_url,
        sms_account_sid=SID,
        sms_from=FROM_NUMBER,
        delivery_timeout_seconds=5,
    )


@dataclass
class Inbox:
    """What the SMTP server accepted: (sender, recipients, message)."""

    port: int = 0
    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(content))
        )
        return "250 OK"

    def codes(self) -> list[str]:
        """The codes in the messages received, in order."""
        found = []
        for _sender, _to, message in self.messages:
            match = CODE.search(str(message.get_payload()))
            if match:
                found.append(match.group(1))
        return found


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_inbox() -> Iterator[Inbox]:
    """A plain SMTP server on loopback for the ``with`` block."""
    inbox = Inbox(port=free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """An SMTP server on loopback for the test (codes and notices by e-mail)."""
    with running_inbox() as server:
        yield server


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    """An SMS gateway on loopback for the test, its token in the environment."""
    monkeypatch.setenv("CALLGATE_SMS_TOKEN", TOKEN)
    with running_gateway() as server:
        yield server
