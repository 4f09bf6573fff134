"""The README's receiver example, run for real: it applies an event once by its signed id.

A worker delivers a real event to ``examples/webhook_receiver.py`` running as
a process; the test then replays the request as someone who captured it
would (same body and signature, a new ``Idempotency-Key``) and forges one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from db.delivery.webhook import SIGNATURE_HEADER, signature
from db.delivery.worker import Deliverer
from tests.helpers.outbox_data import rows, turn_auto_renew_off, webhook_settings
from tests.helpers.review_data import make_staff

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "webhook_receiver.py"
SECRET = "whsec_receiver_example"


@pytest.fixture
def receiver() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE), str(port)],
        env={**os.environ, "CALLGATE_WEBHOOK_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None, "never listened"
            time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/", process
    finally:
        process.kill()
        process.wait(10)


def test_a_replayed_request_with_a_new_idempotency_key_is_not_applied_twice(
    factory: sessionmaker[Session], receiver: tuple[str, subprocess.Popen[str]]
) -> None:
    url, process = receiver
    [event_id] = turn_auto_renew_off(factory, make_staff(factory).agent, 1, datetime.now(UTC))
    worker = Deliverer(factory, webhook_settings(url), webhook_secret=SECRET, smtp_password="")
    assert worker.run_due().delivered == 1
    worker.close()
    [row] = rows(factory)
    body = row.payload.encode("utf-8")
    signed = signature(SECRET, int(time.time()), body)
    with httpx.Client() as client:
        for key in ("replayed-1", "replayed-2", event_id):
            replay = client.post(
                url, content=body, headers={"Idempotency-Key": key, SIGNATURE_HEADER: signed}
            )
            assert replay.status_code == 200  # acknowledged, as a retry is
        forged = body.replace(event_id.encode(), b"00000000-0000-0000-0000-000000000000")
        refused = client.post(
            url, content=forged, headers={"Idempotency-Key": "new", SIGNATURE_HEADER: signed}
        )
        assert refused.status_code == 401
        stale = signature(SECRET, int(time.time()) - 301, body)
        old = client.post(
            url, content=body, headers={"Idempotency-Key": "old", SIGNATURE_HEADER: stale}
        )
        assert old.status_code == 401
    process.kill()
    out, _ = process.communicate(timeout=10)
    # Applied once: one line printed, for the one event.
    assert out.splitlines() == [out.splitlines()[0]]
    assert out.startswith("subscription.auto_renew_off org-000 ")
