"""Webhook delivery against a real HTTP receiver on loopback: signature, retries, parking.

The events are written by real desk decisions; the receiver is an
``http.server`` the test starts; only the clock is the test's, where backoff
timing matters.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import URL, create_engine, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from db import review
from db.delivery.outbox import RetryPolicy, retry_delay
from db.delivery.worker import Deliverer, NothingToDeliver
from db.models import AuditEvent, OutboxState
from db.settings import Settings
from db.staff.agents import AgentInfo
from tests.helpers.outbox_data import rows, turn_auto_renew_off, webhook_settings
from tests.helpers.receiver import Receiver, running_receiver
from tests.helpers.review_data import Staff, make_staff

SECRET = "whsec_test_0123456789"
EXAMPLE = Path(__file__).parents[2] / "examples" / "webhook_receiver.py"


class Clock:
    """A clock the test moves: backoff waits pass without sleeping."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def load_example() -> ModuleType:
    """The README's receiver example, imported from its file as a user would copy it."""
    spec = importlib.util.spec_from_file_location("webhook_receiver", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def worker(factory: sessionmaker[Session], settings: Settings, **kwargs: Any) -> Deliverer:
    return Deliverer(factory, settings, webhook_secret=SECRET, smtp_password="", **kwargs)


def deliver_until_settled(
    deliverer: Deliverer, clock: Clock, factory: sessionmaker[Session]
) -> list[timedelta]:
    """Run passes, moving the clock to each retry; the waits between attempts."""
    waits: list[timedelta] = []
    for _ in range(20):
        deliverer.run_due()
        pending = [r for r in rows(factory) if r.state is OutboxState.PENDING]
        if not pending:
            return waits
        due = min(r.next_attempt_at for r in pending)
        waits.append(due - clock.now)
        clock.now = due
    raise AssertionError("never settled")


@pytest.fixture
def staff(factory: sessionmaker[Session]) -> Staff:
    return make_staff(factory)


def test_signature_verifies_with_the_documented_recipe(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    [event_id] = turn_auto_renew_off(factory, staff.agent, 1, datetime.now(UTC))
    example = load_example()
    with running_receiver() as receiver:
        deliverer = worker(factory, webhook_settings(receiver.url))
        report = deliverer.run_due()
        deliverer.close()
    assert report.delivered == 1
    [got] = receiver.requests
    assert got.key == event_id == got.event["id"]
    [row] = rows(factory)
    assert got.body == row.payload.encode("utf-8")
    # The receiver example's own code accepts it, and refuses a wrong secret or a changed body.
    assert example.verify(SECRET.encode(), got.signature, got.body)
    assert not example.verify(b"another secret", got.signature, got.body)
    changed = got.body.replace(b'"auto_renew":false', b'"auto_renew":true')
    assert changed != got.body
    assert not example.verify(SECRET.encode(), got.signature, changed)
    # An old signature is refused too (replay): five minutes and a second later.
    sent_at = int(got.signature.split(",")[0].removeprefix("t="))
    assert not example.verify(SECRET.encode(), got.signature, got.body, now=sent_at + 301)
    assert row.state is OutboxState.DELIVERED and row.attempts == 1


def test_a_receiver_failing_three_times_gets_the_event_once_in_the_end(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    clock = Clock()
    [event_id] = turn_auto_renew_off(factory, staff.agent, 1, clock.now)
    receiver = Receiver(status=lambda n: 500 if n <= 3 else 200)
    with running_receiver(receiver):
        deliverer = worker(factory, webhook_settings(receiver.url), clock=clock, jitter=lambda: 0.5)
        waits = deliver_until_settled(deliverer, clock, factory)
        deliverer.close()
    assert receiver.keys() == [event_id] * 4
    assert receiver.applied == {event_id: 1}
    [row] = rows(factory)
    assert row.state is OutboxState.DELIVERED and row.attempts == 4
    # Exponential: each wait within [step/2, step] of a step that doubles from the base.
    assert len(waits) == 3
    for attempt, wait in enumerate(waits, start=1):
        step = 10 * 2 ** (attempt - 1)
        assert timedelta(seconds=step / 2) <= wait <= timedelta(seconds=step)
    assert waits[0] < waits[1] < waits[2]


def test_retry_delay_is_capped_and_jittered() -> None:
    policy = RetryPolicy(max_attempts=20, base_seconds=30, max_seconds=3600, lease=timedelta(0))
    assert retry_delay(1, policy, 0.0) == timedelta(seconds=15)
    assert retry_delay(1, policy, 0.999) < timedelta(seconds=30)
    assert retry_delay(12, policy, 0.0) == timedelta(seconds=1800)
    assert retry_delay(12, policy, 0.999) <= timedelta(seconds=3600)
    assert retry_delay(3, policy, 0.2) != retry_delay(3, policy, 0.8)


def test_a_receiver_down_for_good_parks_the_event_for_a_supervisor_to_retry(
    any_factory: sessionmaker[Session],
) -> None:
    factory, staff = any_factory, make_staff(any_factory)
    clock = Clock()
    [event_id] = turn_auto_renew_off(factory, staff.agent, 1, clock.now)
    up = threading.Event()
    receiver = Receiver(status=lambda _n: 200 if up.is_set() else 503)
    with running_receiver(receiver):
        settings = webhook_settings(receiver.url, delivery_max_attempts=3)
        deliverer = worker(factory, settings, clock=clock)
        deliver_until_settled(deliverer, clock, factory)
        [row] = rows(factory)
        assert row.state is OutboxState.FAILED and row.attempts == 3
        assert "HTTP 503" in row.last_error and receiver.url in row.last_error

        [waiting] = [r for r in review.queue(factory, staff.supervisor.id) if r.outbox_id]
        assert waiting.kind == "delivery_failed"
        assert waiting.detail == f"subscription.auto_renew_off: {row.last_error}"
        assert waiting.organization == "Org 000" and waiting.agent == staff.agent.username
        assert waiting.call_id is not None

        with pytest.raises(review.NotSupervisor):
            review.retry_delivery(factory, staff.agent.id, row.id, clock.now)
        review.retry_delivery(factory, staff.supervisor.id, row.id, clock.now)
        with pytest.raises(review.ReviewRefused, match="not failed"):
            review.retry_delivery(factory, staff.supervisor.id, row.id, clock.now)
        assert not [r for r in review.queue(factory, staff.supervisor.id) if r.outbox_id]
        up.set()
        assert deliverer.run_due().delivered == 1
        deliverer.close()
    assert receiver.applied == {event_id: 1}
    with factory() as session:
        retried = session.scalars(
            select(AuditEvent).where(AuditEvent.type == "outbox.retried")
        ).one()
        parked = session.scalars(select(AuditEvent).where(AuditEvent.type == "outbox.failed")).one()
    assert retried.actor == staff.supervisor.username
    assert json.loads(retried.payload) == {"outbox_id": row.id, "event_id": event_id}
    assert json.loads(parked.payload)["attempts"] == 3


def test_an_error_never_shows_a_token_in_the_url(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    turn_auto_renew_off(factory, staff.agent, 1, datetime.now(UTC))
    with running_receiver(Receiver(status=lambda _n: 500)) as receiver:
        url = receiver.url.replace("http://", "http://user:pw@") + "?token=tok-123"
        deliverer = worker(factory, webhook_settings(url, delivery_max_attempts=1))
        assert deliverer.run_due().failed == 1
        deliverer.close()
    [row] = rows(factory)
    shown = receiver.url.replace("http://", "http://user:***@") + "?token=***"
    assert row.last_error == f"{shown}: HTTP 500 Internal Server Error"
    assert "pw" not in row.last_error and "tok-123" not in row.last_error
    assert receiver.requests  # the request did go to the URL as configured


def test_a_url_that_answered_is_not_sent_the_event_again(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    clock = Clock()
    [event_id] = turn_auto_renew_off(factory, staff.agent, 1, clock.now)
    flaky = Receiver(status=lambda n: 502 if n <= 2 else 200)
    with running_receiver() as steady, running_receiver(flaky):
        deliverer = worker(factory, webhook_settings(steady.url, flaky.url), clock=clock)
        deliver_until_settled(deliverer, clock, factory)
        deliverer.close()
    assert steady.keys() == [event_id]
    assert flaky.keys() == [event_id] * 3
    [row] = rows(factory)
    assert row.state is OutboxState.DELIVERED


def test_a_worker_needs_a_secret_and_somewhere_to_deliver(factory: sessionmaker[Session]) -> None:
    with pytest.raises(NothingToDeliver, match="CALLGATE_WEBHOOK_SECRET"):
        Deliverer(
            factory, webhook_settings("http://127.0.0.1:9/"), webhook_secret="", smtp_password=""
        )
    with pytest.raises(NothingToDeliver, match="nothing to deliver to"):
        Deliverer(factory, webhook_settings(), webhook_secret=SECRET, smtp_password="")


def two_workers_at_once(factory: sessionmaker[Session], agent: AgentInfo) -> None:
    """Two workers drain 12 events while the receiver proves they overlap in time."""
    ids = turn_auto_renew_off(factory, agent, 12, datetime.now(UTC))
    # The first request is held until a second one arrives: only a second worker can send it.
    receiver = Receiver(hold=lambda n: n == 1)
    with running_receiver(receiver):
        workers = [worker(factory, webhook_settings(receiver.url), batch_size=3) for _ in range(2)]
        reports = []
        threads = [
            threading.Thread(target=lambda w=w: reports.append(w.run_due())) for w in workers
        ]
        for thread in threads:
            thread.start()
        assert receiver.held.wait(10)
        deadline = time.monotonic() + 10
        while len(receiver.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        concurrent = len(receiver.requests) >= 2
        receiver.release.set()
        for thread in threads:
            thread.join(30)
        for w in workers:
            w.close()
    assert concurrent, "the second worker sent nothing while the first was busy"
    assert receiver.overlaps == []
    assert sorted(receiver.keys()) == sorted(ids)  # each event sent exactly once
    assert all(r.state is OutboxState.DELIVERED for r in rows(factory))
    assert [r.delivered > 0 for r in reports] == [True, True]


@pytest.mark.postgres
def test_two_workers_on_postgresql_never_send_one_event_twice(
    pg_factory: sessionmaker[Session],
) -> None:
    two_workers_at_once(pg_factory, make_staff(pg_factory).agent)


def test_two_workers_on_sqlite_never_send_one_event_twice(
    factory: sessionmaker[Session], staff: Staff
) -> None:
    two_workers_at_once(factory, staff.agent)


@pytest.mark.postgres
def test_the_worker_waits_out_a_database_outage(
    pg_server: URL, pg_url: str, pg_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    staff = make_staff(pg_factory)
    name = make_url(pg_url).database
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    stop = threading.Event()
    with running_receiver() as receiver, caplog.at_level(logging.WARNING, "callgate.deliver"):
        deliverer = worker(pg_factory, webhook_settings(receiver.url))
        thread = threading.Thread(target=deliverer.run, args=(stop, 0.05))
        thread.start()
        try:
            # The server refuses the database and drops the worker's connections.
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not any(
                r.getMessage().startswith("database unavailable") for r in caplog.records
            ):
                time.sleep(0.05)
            assert any(r.getMessage().startswith("database unavailable") for r in caplog.records)
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
            # Back: decisions taken now are delivered by the same worker.
            ids = turn_auto_renew_off(pg_factory, staff.agent, 2, datetime.now(UTC))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(receiver.applied) < 2:
                time.sleep(0.05)
            assert thread.is_alive()
        finally:
            stop.set()
            thread.join(30)
            deliverer.close()
            admin.dispose()
    assert sorted(receiver.applied) == sorted(ids)
