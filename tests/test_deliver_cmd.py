"""``callgate deliver`` as a process: killed mid-batch, stopped by SIGTERM, ``--check``.

The worker runs as ``python -m tui.cli deliver`` on SQLite and PostgreSQL, posting to
a real receiver on loopback that applies each event once by its key.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.delivery.worker import Deliverer
from db.models import OutboxState
from tests.helpers.outbox_data import rows, turn_auto_renew_off, webhook_settings
from tests.helpers.receiver import Receiver, running_receiver
from tests.helpers.review_data import make_staff

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
SECRET = "whsec_process_test"


def settings_file(tmp_path: Path, *urls: str) -> Path:
    listed = ", ".join(f'"{url}"' for url in urls)
    path = tmp_path / "settings.toml"
    path.write_text(f"webhook_urls = [{listed}]\ndelivery_timeout_seconds = 5\n", encoding="utf-8")
    path.chmod(0o600)  # as an operator keeps it: no open-file warning among the lines read
    return path


def deliver(db_url: str, settings: Path, *argv: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "CALLGATE_WEBHOOK_SECRET": SECRET}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui.cli",
            "--db",
            db_url,
            "--settings",
            str(settings),
            "deliver",
            *argv,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def five_events(any_factory: sessionmaker[Session]) -> list[str]:
    return turn_auto_renew_off(any_factory, make_staff(any_factory).agent, 5, datetime.now(UTC))


@pytest.fixture
def any_url(any_engine: Engine) -> str:
    """The URL of ``any_engine``'s database, for the worker process."""
    return any_engine.url.render_as_string(hide_password=False)


@pytest.fixture
def holding_third() -> Iterator[Receiver]:
    with running_receiver(Receiver(hold=lambda n: n == 3)) as receiver:
        yield receiver


def test_sigkill_mid_batch_loses_nothing_and_applies_nothing_twice(
    any_factory: sessionmaker[Session],
    any_url: str,
    tmp_path: Path,
    five_events: list[str],
    holding_third: Receiver,
) -> None:
    receiver = holding_third
    worker = deliver(any_url, settings_file(tmp_path, receiver.url))
    assert receiver.held.wait(30), worker.communicate(timeout=5)
    # The third event has reached the receiver; the worker dies before hearing back.
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    receiver.release.set()
    # The claimed rows come back once the dead worker's lease has run out.
    later = datetime.now(UTC) + timedelta(hours=1)
    survivor = Deliverer(
        any_factory,
        webhook_settings(receiver.url),
        webhook_secret=SECRET,
        smtp_password="",
        clock=lambda: later,
    )
    assert survivor.run_due().delivered == 3
    survivor.close()
    assert all(r.state is OutboxState.DELIVERED for r in rows(any_factory))
    assert receiver.applied == {event_id: 1 for event_id in five_events}
    # Only the event in flight was sent twice, with the same key; the receiver applied it once.
    sent = receiver.keys()
    assert sorted(sent) == sorted([*five_events, five_events[2]])


def test_sigterm_finishes_the_event_in_flight_hands_back_the_rest_and_exits_0(
    any_factory: sessionmaker[Session],
    any_url: str,
    tmp_path: Path,
    five_events: list[str],
    holding_third: Receiver,
) -> None:
    receiver = holding_third
    worker = deliver(any_url, settings_file(tmp_path, receiver.url))
    assert receiver.held.wait(30)
    worker.send_signal(signal.SIGTERM)
    receiver.release.set()
    _out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "stopping: 2 claimed event(s) handed back" in err
    assert "Traceback" not in err
    states = [(r.event_id, r.state, r.claim, r.attempts) for r in rows(any_factory)]
    assert [s[1] for s in states] == [OutboxState.DELIVERED] * 3 + [OutboxState.PENDING] * 2
    # Handed back: unclaimed, their attempt uncounted, due at once for the next worker.
    assert [(s[2], s[3]) for s in states[3:]] == [(None, 0), (None, 0)]
    assert receiver.keys() == five_events[:3]


def load_example_verify() -> Callable[[bytes, str, bytes], bool]:
    spec = importlib.util.spec_from_file_location(
        "receiver", REPO / "examples" / "webhook_receiver.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    verify: Callable[[bytes, str, bytes], bool] = module.verify
    return verify


def test_check_says_what_is_configured_and_which_endpoint_answers(
    db_url: str, tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    down = Receiver(status=lambda _n: 503)
    with running_receiver() as up, running_receiver(down):
        worker = deliver(db_url, settings_file(tmp_path, up.url, down.url), "--check")
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 1, err
        assert f"{up.url}: answered 2xx to a signed ping" in out
        assert f"{down.url}: HTTP 503" in out
        assert "webhook: 2 URL(s), secret set" in out
        assert "smtp: not configured" in out
        assert SECRET not in out + err
        [ping] = up.requests
        assert ping.event["type"] == "ping" and ping.key == ping.event["id"]
        assert load_example_verify()(SECRET.encode(), ping.signature, ping.body)

        worker = deliver(db_url, settings_file(tmp_path, up.url), "--check")
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, out + err
    assert rows(factory) == []  # a ping never enters the outbox


def test_deliver_without_a_secret_says_where_to_put_it(db_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CALLGATE_WEBHOOK_SECRET"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui.cli",
            "--db",
            db_url,
            "--settings",
            str(settings_file(tmp_path, "http://127.0.0.1:9/")),
            "deliver",
            "--once",
        ],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "callgate: webhook_urls are set but no secret: set CALLGATE_WEBHOOK_SECRET "
        "or webhook_secret_file"
    ]
