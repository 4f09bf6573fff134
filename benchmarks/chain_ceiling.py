"""The audit chain's ceiling on one PostgreSQL server: events per second through its one lock.

Every event of every desk takes the chain's advisory lock (``db.audit.chain``:
at commit, the head read, the insert, the commit), so the chain holds at most
one event per lock hold time, whatever the hardware around it. Measured
with appenders that do nothing else, each its own process and connection,
recording one event per transaction through the real ``append_event``:

- the hold time: at one appender (no waiting), from the head statement
  leaving the client to the commit returning, per event (median and p99);
- the events per second the chain held with ``APPENDERS`` appenders at once,
  closed loop: the lock is then never free for long, so this is the
  ceiling on this machine (its client CPU included: on 2 cores the
  appenders' own Python competes with the server).

``docs/SCALING.md`` turns these into call-center sizes.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from typing import Any

from sqlalchemy import event

from db.audit.chain import append_event
from db.engine import make_engine, make_sessionmaker, unit_of_work

APPENDERS = 8


def _append_loop(url: str, seconds: float, barrier: Any, results: Any, timed: bool) -> None:
    """Append one event per transaction until ``seconds`` pass; events and hold times."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    holds: list[float] = []
    sent: list[float] = []

    if timed:

        @event.listens_for(engine, "before_cursor_execute")
        def _head(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
            if "audit_chain_head" in statement:
                sent.append(time.perf_counter())

    def one() -> None:
        with unit_of_work(factory) as session:
            append_event(session, actor="ceiling", type="bench.ceiling", payload={"n": 1})
        if timed and sent:
            holds.append(time.perf_counter() - sent.pop())

    one()  # connected and compiled before the clock starts
    holds.clear()
    barrier.wait()
    count, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        one()
        count += 1
    results.put((count, holds))
    engine.dispose()


def _run(url: str, appenders: int, seconds: float, timed: bool) -> tuple[float, list[float]]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(appenders + 1)
    results = context.Queue()
    workers = [
        context.Process(target=_append_loop, args=(url, seconds, barrier, results, timed))
        for _ in range(appenders)
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=300)
    started = time.perf_counter()
    answers = [results.get(timeout=seconds + 300) for _ in workers]
    wall = time.perf_counter() - started
    for worker in workers:
        worker.join(timeout=60)
    events = sum(count for count, _ in answers)
    return events / wall, [h for _, holds in answers for h in holds]


def chain_ceiling(url: str, seconds: float = 10.0, appenders: int = APPENDERS) -> dict[str, Any]:
    """Hold time per event at one appender, and events/s with ``appenders`` at once."""
    alone, holds = _run(url, 1, seconds, timed=True)
    ordered = sorted(holds)
    together, _ = _run(url, appenders, seconds, timed=False)
    return {
        "hold_ms_p50": statistics.median(ordered) * 1000,
        "hold_ms_p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
        "events_per_second_alone": alone,
        "appenders": appenders,
        "events_per_second": together,
        "ceiling_from_hold": 1000 / (statistics.median(ordered) * 1000),
    }
