"""SMS against a real HTTP server on loopback that checks basic auth and the form."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from db.delivery.sms import SmsError, SmsSender
from tests.helpers.gateways import SID, TOKEN, Gateway, running_gateway


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running_gateway() as server:
        yield server


def base(server: Gateway) -> str:
    return server.base_url


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
