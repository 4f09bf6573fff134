"""Delivery at its edges: endpoints that answer too slowly or too much, URLs that hold secrets.

The endpoints are real sockets on loopback (``tests.helpers.slow_servers``);
the events are written by real desk decisions.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from db.delivery.http import ANSWER_LIMIT
from db.delivery.sms import SmsError, SmsSender
from db.delivery.worker import Deliverer, lease_for
from db.models import OutboxState
from db.urls import mask_urls, shown_url
from tests.helpers.outbox_data import rows, turn_auto_renew_off, webhook_settings
from tests.helpers.review_data import make_staff
from tests.helpers.slow_servers import drip, flood, hostile_server

SECRET = "whsec_edges"


def test_a_dripping_endpoint_is_cut_at_the_deadline_and_no_second_worker_posts_the_event(
    factory: sessionmaker[Session],
) -> None:
    [event_id] = turn_auto_renew_off(factory, make_staff(factory).agent, 1, datetime.now(UTC))
    with hostile_server(drip) as endpoint:
        settings = webhook_settings(endpoint.url, delivery_timeout_seconds=1)
        first, second = (
            Deliverer(factory, settings, webhook_secret=SECRET, smtp_password="") for _ in range(2)
        )
        lease = first.policy.lease
        reports = []
        holder = threading.Thread(target=lambda: reports.append(first.run_due()))
        holder.start()
        assert endpoint.arrived.wait(30)
        # While the first worker holds the event, the second finds nothing to send.
        assert second.run_due().attempted == 0
        # The attempt ends by its deadline, well before the lease would let a second
        # worker take the event (it dripped on for as long as the client listened before).
        holder.join(lease.total_seconds())
        alive = holder.is_alive()
        endpoint.stop.set()
        holder.join(30)
        assert not alive, "the attempt outlived the worker's lease"
        first.close()
        second.close()
    assert endpoint.keys == {event_id: 1} and endpoint.most_in_flight == 1
    assert [r.retrying for r in reports] == [1]
    [row] = rows(factory)
    assert row.state is OutboxState.PENDING and row.claim is None and row.attempts == 1
    assert row.last_error == f"{endpoint.url}: timed out (no answer within 1s)"
    # In backoff: due again after a retry delay, not at the end of a lease.
    assert row.next_attempt_at - datetime.now(UTC) < lease


def test_the_lease_outlasts_the_slowest_attempt() -> None:
    for timeout, urls in ((1, 1), (10, 3), (120, 0)):
        assert lease_for(timeout, urls) > timedelta(seconds=timeout * max(1, urls))


def test_an_endless_2xx_body_is_read_only_up_to_the_cap(factory: sessionmaker[Session]) -> None:
    [event_id] = turn_auto_renew_off(factory, make_staff(factory).agent, 1, datetime.now(UTC))
    with hostile_server(flood) as endpoint:
        worker = Deliverer(
            factory, webhook_settings(endpoint.url), webhook_secret=SECRET, smtp_password=""
        )
        report = worker.run_due()
        worker.close()
    # A 2xx is a delivery; what followed it was not read beyond the cap (the
    # server could only fill the loopback's socket buffers), nor waited for.
    assert report.delivered == 1
    assert endpoint.keys == {event_id: 1}
    assert endpoint.sent < 200 * ANSWER_LIMIT, endpoint.sent
    [row] = rows(factory)
    assert row.state is OutboxState.DELIVERED


def test_an_sms_gateway_that_drips_is_cut_at_the_deadline() -> None:
    with hostile_server(drip) as gateway:
        base = gateway.url.removesuffix("/hook")
        sender = SmsSender(base, "AC1", "token-1", "+14255550199", timeout=1)
        with pytest.raises(SmsError) as caught:
            sender.send("+14255550100", "code 123456")
        sender.close()
    assert str(caught.value) == f"SMS gateway {base}: timed out (no answer within 1s)"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://user:pa55@hooks.example/in?token=t0k&x=1",
            "https://user:***@hooks.example/in?token=***&x=***",
        ),
        (
            "https://hooks.example/in?access_token=abc#frag",
            "https://hooks.example/in?access_token=***",
        ),
        ("https://:only-pw@hooks.example/", "https://:***@hooks.example/"),
        ("http://[::1]:8080/p?sig", "http://[::1]:8080/p?***"),
        (
            "postgresql+psycopg://desk:pw@db/callgate?password=pw2",
            "postgresql+psycopg://desk:***@db/callgate?password=***",
        ),
        ("sqlite:////var/lib/callgate/desk.db", "sqlite:////var/lib/callgate/desk.db"),
        ("http://host:99999/", "(invalid URL)"),
    ],
)
def test_a_url_is_shown_without_its_secrets(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_urls_inside_a_message_are_masked() -> None:
    message = "ConnectError: cannot reach https://u:pw@h.example/x?key=k1: refused."
    assert (
        mask_urls(message)
        == "ConnectError: cannot reach https://u:***@h.example/x?key=***: refused."
    )
