"""SMS against a real HTTP server on loopback that checks basic auth and the form."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from db.sms import SmsError, SmsSender

SID = "AC0123456789"
TOKEN = "s3cr3t-token"
PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"


class Gateway(ThreadingHTTPServer):
    received: list[dict[str, list[str]]]


class Handler(BaseHTTPRequestHandler):
    server: Gateway

    def do_POST(self) -> None:
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.end_headers()
            return
        if self.path != PATH:
            self.send_response(404)
            self.end_headers()
            return
        length = int(self.headers["Content-Length"])
        form = parse_qs(self.rfile.read(length).decode())
        self.server.received.append(form)
        body = json.dumps({"sid": "SM42", "status": "queued"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = Gateway(("127.0.0.1", 0), Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def base(server: Gateway) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/"


def test_a_text_reaches_the_gateway_with_auth_and_form(gateway: Gateway) -> None:
    sender = SmsSender(base(gateway), SID, TOKEN, "+14255550199", timeout=5)
    try:
        assert sender.send("+14255550100", "Your callgate code is 123456") == "SM42"
    finally:
        sender.close()
    assert gateway.received == [
        {"To": ["+14255550100"], "From": ["+14255550199"], "Body": ["Your callgate code is 123456"]}
    ]


def test_refused_auth_is_a_clear_error_without_secrets(gateway: Gateway) -> None:
    sender = SmsSender(base(gateway), SID, "wrong-token", "+14255550199", timeout=5)
    with pytest.raises(SmsError) as caught:
        sender.send("+14255550100", "Your callgate code is 123456")
    sender.close()
    message = str(caught.value)
    assert "HTTP 401" in message and base(gateway) in message
    for secret in ("wrong-token", "123456", "+14255550100"):
        assert secret not in message
    assert gateway.received == []


def test_a_down_gateway_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = SmsSender(f"http://127.0.0.1:{port}", SID, TOKEN, "+14255550199", timeout=5)
    with pytest.raises(SmsError, match="ConnectError") as caught:
        sender.send("+14255550100", "code 654321")
    sender.close()
    assert TOKEN not in str(caught.value) and "654321" not in str(caught.value)
