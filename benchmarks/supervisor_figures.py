"""``make bench``'s supervisor figures: every supervisor read, and a desk's peak memory.

    python -m benchmarks.supervisor_figures URL   # the memory probe (a child process)

Each read of ``db.review`` (the queue, pages, each filter, the timelines at
both ends of the chain) against a bare keyset page of calls; the memory
figure runs them all in a fresh process with the desk loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.figures import ROOT, Figure, median_ms
from benchmarks.generate import ANCHOR
from db.engine import make_engine, make_sessionmaker
from db.models import Agent, Call, Tenant
from verification.kinds import Channel, Outcome, Role, SubscriptionKind


def _supervisor_id(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalars(
            select(Agent.id).where(Agent.role == Role.SUPERVISOR).order_by(Agent.id).limit(1)
        ).one()


def _an_organization(factory: sessionmaker[Session]) -> str:
    """The organization of the tenant of a recent call: what a supervisor searches for."""
    with factory() as session:
        return session.scalars(
            select(Tenant.organization)
            .join(Call, Call.tenant_id == Tenant.id)
            .order_by(Call.id.desc())
            .limit(1)
        ).one()


def supervisor_views(factory: sessionmaker[Session]) -> list[tuple[str, Callable[[], object]]]:
    """The supervisor desk's reads: the queue, the first page, a next page, each filter."""
    from db.review import Cursor, RequestFilter, call_detail, list_requests, queue

    actor = _supervisor_id(factory)
    week = RequestFilter(started_from=ANCHOR - timedelta(days=7), started_before=ANCHOR)
    first = list_requests(factory, actor, RequestFilter())
    cursor = first.next or Cursor(ANCHOR, 0)
    organization = _an_organization(factory)
    filters = {
        "last 7 days": week,
        "one agent": RequestFilter(agent_id=actor + 5),
        "outcome verification_failed": RequestFilter(outcome=Outcome.VERIFICATION_FAILED),
        "kind trial": RequestFilter(kind=SubscriptionKind.TRIAL),
        "channel fpp": RequestFilter(channel=Channel.FPP),
        f"organization {organization!r}": RequestFilter(organization=organization),
        "organization 'no such org'": RequestFilter(organization="no such org"),
        "7 days + agent + outcome": RequestFilter(
            started_from=week.started_from,
            started_before=week.started_before,
            agent_id=actor + 5,
            outcome=Outcome.CANCELED,
        ),
    }
    views: list[tuple[str, Callable[[], object]]] = [
        ("queue", partial(queue, factory, actor)),
        ("all requests, first page", partial(list_requests, factory, actor, RequestFilter())),
        (
            "all requests, next page",
            partial(list_requests, factory, actor, RequestFilter(), cursor),
        ),
    ]
    views += [
        (f"filter: {name}", partial(list_requests, factory, actor, filter_))
        for name, filter_ in filters.items()
    ]
    # A call's whole story: the oldest call's timeline reads the far end of the chain.
    newest = first.rows[0].call_id if first.rows else 1
    views += [
        ("timeline of the newest call", partial(call_detail, factory, actor, newest, ANCHOR)),
        ("timeline of the oldest call", partial(call_detail, factory, actor, 1, ANCHOR)),
    ]
    return views


def supervisor(factory: sessionmaker[Session], runs: int) -> list[Figure]:
    """Median of each supervisor read; baseline: a bare keyset page of calls."""

    def bare_page() -> object:
        with factory() as session:
            return session.execute(
                select(Call.id, Call.started_at)
                .order_by(Call.started_at.desc(), Call.id.desc())
                .limit(50)
            ).all()

    baseline = median_ms(bare_page, runs)
    return [
        Figure(
            f"supervisor {name}",
            median_ms(fn, runs),
            baseline,
            "ms",
            bar=50.0,  # PRODUCT.md section 9
            note=f"db.review, median of {runs}; baseline: bare 50-row keyset page of calls",
        )
        for name, fn in supervisor_views(factory)
    ]


def _peak_rss_kib() -> int:
    """This process's peak resident set size (VmHWM).

    Not ``getrusage``'s ``ru_maxrss``: on Linux that keeps the high-water mark
    from before ``exec``, i.e. the parent's size at the fork.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _memory_probe(url: str) -> None:
    """Child process: peak RSS with the desk loaded, then after every supervisor read."""
    import tui.app
    import tui.screens.desk  # noqa: F401

    factory = make_sessionmaker(make_engine(url))
    loaded = _peak_rss_kib()
    for _name, fn in supervisor_views(factory):
        fn()
    print(json.dumps({"loaded_kib": loaded, "peak_kib": _peak_rss_kib()}))


def supervisor_memory(url: str) -> Figure:
    """Peak RSS of a desk process running every supervisor read on the database."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.supervisor_figures", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    return Figure(
        "supervisor reads: peak memory",
        probe["peak_kib"] / 1024,
        probe["loaded_kib"] / 1024,
        "MiB",
        bar=150.0,
        note="peak RSS of one process; baseline: the same process with the desk loaded, no reads",
    )


if __name__ == "__main__":
    _memory_probe(sys.argv[1])
