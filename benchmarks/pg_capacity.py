"""How many desks one PostgreSQL server holds at human pace: the capacity bar of PRODUCT.md §9.

    python -m benchmarks.pg_load --capacity            # throwaway cluster, direct and PgBouncer

Each desk sends its item checks as a Poisson stream averaging one every
``MEAN_INTERVAL`` seconds, open loop: the arrival times are drawn in advance
(exponential gaps), and a check's latency runs from its scheduled arrival,
not from when the desk's previous check finished, so a slow answer delays
what queues behind it instead of slowing the arrivals. Between calls the desk
ends its call and starts the next (untimed, but on the desk's own time: a
late start delays the next check). The desk count steps up (``STEPS``) until
a step's p99 crosses ``P99_BAR_MS`` or any check fails; the figure is the
most desks a step held, beside raw psycopg doing the same statements at the
same pace (``benchmarks.pg_load``'s baseline, one transaction per step).

A desk is a thread with its own connection (its own engine, through the real
``db.desk`` functions) in one of ``PROCESSES`` worker processes: hundreds of
Python processes on a 2-core machine would measure process switching, not
the server. The baseline runs the same way. Both run direct and through a
PgBouncer in transaction pooling (``benchmarks.pg_cluster.Bouncer``), each
route to its own ceiling of connections (``ROUTE_LIMITS``) and within a
time budget per side; a side that holds its last step is reported as "at
least" that many desks.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.pg_load import Prepared, Statements, _accounts, _append_raw, _check_raw
from db.engine import libpq_target, make_engine, make_sessionmaker
from db.settings import Settings
from db.types import utcnow
from verification.kinds import Item, Outcome

MEAN_INTERVAL = 5.0  # seconds between one desk's checks, on average (PRODUCT.md §9)
P99_BAR_MS = 100.0
STEPS = (8, 16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)
PROCESSES = 4  # worker processes; the desks are spread over them
# Direct: one backend per desk (max_connections); through PgBouncer: its client limit.
ROUTE_LIMITS = {"direct": 512, "pgbouncer": 2048}


@dataclass
class StepOutcome:
    """What one worker's desks did in one step."""

    checks: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # from the scheduled arrival, seconds


@dataclass(frozen=True)
class Step:
    """One step: ``desks`` desks of ``kind`` on ``route`` for ``seconds``."""

    kind: str
    route: str
    desks: int
    checks: int
    errors: int
    error_samples: tuple[str, ...]
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def held(self) -> bool:
        """p99 under the bar and no error (and the step did check something)."""
        return self.checks > 0 and self.errors == 0 and self.p99_ms < P99_BAR_MS


@dataclass(frozen=True)
class Capacity:
    """The steps of one side (desk or raw on one route) and the most desks it held."""

    kind: str
    route: str
    steps: tuple[Step, ...]
    held: int  # the most desks of a step that held; 0 if the first did not
    capped: bool  # the last step held: the ceiling is above what was tried

    def as_json(self) -> dict[str, Any]:
        """For the results file."""
        return {**asdict(self), "steps": [asdict(s) for s in self.steps]}


# --- one simulated desk -----------------------------------------------------------------


class _Desk:
    """A desk of the real ``db.desk`` functions: mid-call between its checks."""

    def __init__(
        self, url: str, agent: tuple[int, str], callers: list[Statements], cache: Any = None
    ) -> None:
        self.engine = make_engine(url)
        if cache is not None:
            # The statements compiled once per process, as a desk has them after
            # its first call of the day (each engine would compile its own).
            self.engine._compiled_cache = cache
        self.factory = make_sessionmaker(self.engine)
        self.agent_id, self.actor = agent
        self.callers = callers
        self.settings = Settings()
        self.calls = 0
        self.at = 0  # the next item of the current call
        self._start()

    def _start(self) -> None:
        from db.desk import start_call

        self.call_id = start_call(
            self.factory, self.agent_id, self.actor, self.settings, utcnow()
        ).call_id

    def check(self) -> None:
        """The next item of the call; after its last, the call ends and the next starts."""
        from db.desk import end_call, submit_item

        statements = self.callers[self.calls % len(self.callers)]
        item, stated = statements[self.at]
        view = submit_item(
            self.factory, self.call_id, self.actor, item, stated, self.settings, utcnow()
        )
        self.at += 1
        if self.at == len(statements):
            if not view.gate_open:
                raise RuntimeError(f"call {self.call_id}: the caller's statements did not verify")
            end_call(self.factory, self.call_id, self.actor, Outcome.INFORMED, "", utcnow())
            self.calls, self.at = self.calls + 1, 0
            self._start()

    def close(self) -> None:
        """Abandon the open call (the agent's next desk starts afresh), disconnect."""
        from db.desk import abandon_call

        abandon_call(self.factory, self.call_id, self.actor, "", utcnow())
        self.engine.dispose()


class _RawDesk:
    """The baseline: the rows a desk's call writes, by raw psycopg, on its own connection."""

    def __init__(
        self, url: str, agent: tuple[int, str], callers: list[Statements], cache: Any = None
    ) -> None:
        import psycopg

        libpq, threshold = libpq_target(make_engine(url).url)
        # Prepared exactly as the desks' engine prepares (never, unless the URL says).
        self.connection = psycopg.connect(libpq, prepare_threshold=threshold)
        self.agent_id, self.actor = agent
        self.callers = callers
        with self.connection.transaction():
            self.accounts = _accounts(self.connection, callers)
        self.calls = 0
        self.at = 0
        self._start()

    def _start(self) -> None:
        with self.connection.transaction(), self.connection.cursor() as cursor:
            row = cursor.execute(
                "INSERT INTO call (agent_id, started_at, state, notes, misses)"
                " VALUES (%s, %s, 'open', '', 0) RETURNING id",
                (self.agent_id, utcnow()),
            ).fetchone()
            assert row is not None
            self.call_id = row[0]
            _append_raw(
                cursor,
                self.actor,
                "call.started",
                {"call_id": self.call_id, "agent_id": self.agent_id},
            )

    def check(self) -> None:
        """As ``_Desk.check``: the check, the call's caller at the user ID, verified at the last."""
        statements = self.callers[self.calls % len(self.callers)]
        item, stated = statements[self.at]
        with self.connection.transaction(), self.connection.cursor() as cursor:
            _check_raw(cursor, self.actor, self.call_id, item, stated)
            if item is Item.USER_ID:
                self.account_id, self.tenant_id = self.accounts[stated["value"]]
                cursor.execute(
                    "UPDATE call SET tenant_id = %s, caller_user_id = %s WHERE id = %s",
                    (self.tenant_id, self.account_id, self.call_id),
                )
            if self.at == len(statements) - 1:
                cursor.execute(
                    "UPDATE call SET state = 'verified', verified_at = %s WHERE id = %s",
                    (utcnow(), self.call_id),
                )
                _append_raw(
                    cursor,
                    self.actor,
                    "call.verified",
                    {"call_id": self.call_id, "tenant_id": self.tenant_id},
                )
        self.at += 1
        if self.at == len(statements):
            with self.connection.transaction(), self.connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE call SET state = 'closed', outcome = 'informed', ended_at = %s"
                    " WHERE id = %s",
                    (utcnow(), self.call_id),
                )
                _append_raw(
                    cursor,
                    self.actor,
                    "call.ended",
                    {"call_id": self.call_id, "outcome": "informed"},
                )
            self.calls, self.at = self.calls + 1, 0
            self._start()

    def close(self) -> None:
        """As a desk: the open call abandoned, then disconnect."""
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.execute(
                "UPDATE call SET state = 'closed', outcome = 'abandoned', ended_at = %s"
                " WHERE id = %s",
                (utcnow(), self.call_id),
            )
            _append_raw(
                cursor, self.actor, "call.ended", {"call_id": self.call_id, "outcome": "abandoned"}
            )
        self.connection.close()


def arrivals(rng: random.Random, seconds: float, mean: float = MEAN_INTERVAL) -> list[float]:
    """A Poisson stream's arrival times in ``[0, seconds)``: exponential gaps of ``mean``."""
    times, at = [], rng.expovariate(1 / mean)
    while at < seconds:
        times.append(at)
        at += rng.expovariate(1 / mean)
    return times


def _stream(desk: Any, schedule: list[float], start: float, out: StepOutcome) -> None:
    """Run ``desk``'s checks at ``start + schedule``; latency from each scheduled arrival."""
    for offset in schedule:
        due = start + offset
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        try:
            desk.check()
            latency, failed = time.monotonic() - due, None
        except Exception as exc:  # every error is a figure of the benchmark
            latency, failed = time.monotonic() - due, f"{type(exc).__name__}: {exc}"
        out.latencies.append(latency)
        out.checks += 1
        if failed is not None:
            out.errors += 1
            if len(out.error_samples) < 3:
                out.error_samples.append(failed)


# --- the worker processes ----------------------------------------------------------------


def _worker(kind: str, url: str, seed: int, interval: float, orders: Any, results: Any) -> None:
    """Desks kept across steps: ``("add", desks)`` connects more, ``("run", at, s)`` runs all."""
    make = _Desk if kind == "desk" else _RawDesk
    desks: list[Any] = []
    rng = random.Random(seed)
    failed: list[str] = []
    while (order := orders.get()) is not None:
        if order[0] == "add":
            try:
                for agent, callers in order[1]:
                    shared = desks[0].engine._compiled_cache if desks and kind == "desk" else None
                    desks.append(make(url, agent, callers, shared))
                    if len(desks) == 1:
                        for _ in callers[0]:  # one whole untimed call: connected and compiled
                            desks[0].check()
                    # One untimed check of its own: a new connection's first
                    # statements (type lookups) are its start of day, not a check.
                    desks[-1].check()
            except Exception as exc:  # a desk that cannot connect fails the step
                failed.append(f"connecting: {type(exc).__name__}: {exc}")
            results.put(("ready", None))
            continue
        _, start_at, seconds = order
        # The parent's wall clock names the start, so every worker starts together.
        start = time.monotonic() + (start_at - time.time())
        each = [StepOutcome() for _ in desks]  # one per thread: nothing shared while running
        threads = [
            threading.Thread(
                target=_stream, args=(desk, arrivals(rng, seconds, interval), start, out)
            )
            for desk, out in zip(desks, each, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        out = StepOutcome(errors=len(failed), error_samples=failed[:3])
        failed = []
        for one in each:
            out.checks += one.checks
            out.errors += one.errors
            out.error_samples += one.error_samples[: max(0, 3 - len(out.error_samples))]
            out.latencies += one.latencies
        results.put(("done", out))
    for desk in desks:
        desk.close()


def _callers_of(prepared: Prepared, n: int) -> list[Statements]:
    """Desk ``n``'s callers: its own few, so two desks rarely state one tenant at once."""
    callers = prepared.callers
    return [callers[(n * 3 + k) % len(callers)] for k in range(3)]


def run_side(
    prepared: Prepared,
    kind: str,
    route: str,
    url: str,
    *,
    seconds: float,
    budget: float,
    steps: tuple[int, ...] = STEPS,
    processes: int = PROCESSES,
    interval: float = MEAN_INTERVAL,
) -> Capacity:
    """Step ``kind``'s desks up on ``url`` until a step fails, the route's limit or the budget."""
    limit = min(ROUTE_LIMITS[route], len(prepared.agents))
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    orders = [context.Queue() for _ in range(processes)]
    workers = [
        context.Process(
            target=_worker,
            args=(kind, url, 1000 + n, interval, orders[n], results),
            name=f"capacity-{kind}-{n}",
        )
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    done: list[Step] = []
    began, connected = time.monotonic(), 0
    try:
        for desks in (n for n in steps if n <= limit):
            if done and time.monotonic() - began > budget:
                break
            new = [(prepared.agents[n], _callers_of(prepared, n)) for n in range(connected, desks)]
            for n, queue in enumerate(orders):
                queue.put(("add", new[n::processes]))
            _collect(results, processes, "ready", timeout=600)
            connected = desks
            started = time.time() + 0.5
            for queue in orders:
                queue.put(("run", started, seconds))
            outcomes = _collect(results, processes, "done", timeout=seconds + 600)
            done.append(_step(kind, route, desks, seconds, outcomes))
            if not done[-1].held:
                break
    finally:
        for queue in orders:
            queue.put(None)
        for worker in workers:
            worker.join(timeout=120)
            if worker.is_alive():
                worker.kill()
    held = max((s.desks for s in done if s.held), default=0)
    return Capacity(kind, route, tuple(done), held, capped=bool(done) and done[-1].held)


def _collect(results: Any, processes: int, what: str, timeout: float) -> list[Any]:
    answers = [results.get(timeout=timeout) for _ in range(processes)]
    assert all(tag == what for tag, _ in answers), answers
    return [body for _, body in answers]


def _step(kind: str, route: str, desks: int, seconds: float, outcomes: list[StepOutcome]) -> Step:
    latencies = sorted(x for o in outcomes for x in o.latencies)
    return Step(
        kind=kind,
        route=route,
        desks=desks,
        checks=sum(o.checks for o in outcomes),
        errors=sum(o.errors for o in outcomes),
        error_samples=tuple(e for o in outcomes for e in o.error_samples)[:5],
        seconds=seconds,
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        max_ms=(latencies[-1] if latencies else float("nan")) * 1000,
    )


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass(frozen=True)
class CapacityRun:
    """Desk and raw capacity on each route."""

    sides: tuple[Capacity, ...]

    def side(self, kind: str, route: str) -> Capacity:
        """The side of ``kind`` on ``route``."""
        return next(c for c in self.sides if (c.kind, c.route) == (kind, route))


def capacity(
    prepared: Prepared,
    routes: dict[str, str],
    *,
    seconds: float = 20.0,
    budget: float = 150.0,
    steps: tuple[int, ...] = STEPS,
    processes: int = PROCESSES,
    interval: float = MEAN_INTERVAL,
) -> CapacityRun:
    """Desks then raw on each route (``{"direct": url, "pgbouncer": url}``).

    ``interval``: the mean seconds between one desk's checks (a tiny run
    shortens it to check something in a short step).
    """
    sides = []
    for route, url in routes.items():
        for kind in ("desk", "raw"):
            side = run_side(
                prepared,
                kind,
                route,
                url,
                seconds=seconds,
                budget=budget,
                steps=steps,
                processes=processes,
                interval=interval,
            )
            print(
                f"capacity {route} {kind}: "
                + ", ".join(
                    f"{s.desks} desks p99 {s.p99_ms:.0f} ms"
                    + (f" {s.errors} errors {s.error_samples[:1]}" if s.errors else "")
                    for s in side.steps
                ),
                flush=True,
            )
            sides.append(side)
    return CapacityRun(tuple(sides))
