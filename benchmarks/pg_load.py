"""Many desks on one PostgreSQL server: the load benchmark of PRODUCT.md section 9.

    python -m benchmarks.pg_load                          # throwaway cluster; 1, 8, 32 desks
    python -m benchmarks.pg_load --desks 2 --calls 3      # tiny
    python -m benchmarks.pg_load --url postgresql://...   # an empty database on a server
    python -m benchmarks.pg_load --capacity               # desks held at human pace (pg_capacity)

Each desk is a process taking whole calls through the real ``db.desk``
functions (``start_call``, ``submit_item`` for the five items a caller
without a PIN states, ``end_call``) as fast as it can, one agent per desk.
The baseline writes the same rows (the call and its updates, each item
check, each audit event on the one chain, under the same lock, taken the
same way) with raw psycopg, one transaction per step, at the same
concurrency. Reported per desk count: checks per second, p50/p99 per check,
errors, and CPU per check of the desk processes (client) and of the server's
processes (read from ``/proc``, only for a cluster started here); the chain
is verified after each run.

``statement_profile`` counts what one call sends to the server, per step,
with a SQLAlchemy event listener: where the per-check time goes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.figures import Figure
from benchmarks.generate import Scale, generate
from benchmarks.load_figures import load_figures
from db.audit.chain import GENESIS_HASH, canonical_payload, event_hash, verify_chain
from db.engine import PREPARE_THRESHOLD, libpq_target, make_engine, make_sessionmaker
from db.models import Agent
from db.settings import Settings
from db.types import utcnow
from verification.checks import RULES_VERSION
from verification.kinds import Item, Outcome, Role
from verification.userid import normalize_user_id

# What the server holds before the desks start: a small call center's accounts,
# and an agent for every desk the capacity steps may start (one open call each).
LOAD_SCALE = Scale(tenants=5_000, users=10_000, calls=5_000, agents=2_300)
# The closed loop connects directly, as a direct deployment's desks do: with
# README's "PostgreSQL: through PgBouncer, or direct" URL, which prepares a
# statement after 5 runs on a connection, desks and baseline alike. The
# capacity run keeps each route's own URL (PgBouncer: never prepared).
CLOSED_LOOP_PREPARE = 5
CHAIN_LOCK_KEY = 0x63616C6C67617465  # db.audit.chain's chain-head lock (the baseline takes it too)

Statements = list[tuple[Item, dict[str, str]]]


@dataclass
class Outcomes:
    """What one worker process did in its timed run."""

    checks: int = 0
    calls: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds per check
    cpu_seconds: float = 0.0


@dataclass(frozen=True)
class LoadRun:
    """One timed run of ``desks`` worker processes, desks or baseline."""

    kind: str  # "desk" or "raw"
    desks: int
    checks: int
    calls: int
    errors: int
    error_samples: tuple[str, ...]
    seconds: float
    p50_ms: float
    p99_ms: float
    client_cpu_ms_per_check: float
    server_cpu_ms_per_check: float | None

    @property
    def checks_per_second(self) -> float:
        """Item checks recorded per wall-clock second, all desks together."""
        return self.checks / self.seconds


# --- the workers (separate processes) -------------------------------------------------


def _desk_worker(
    url: str,
    agent: tuple[int, str],
    callers: list[Statements],
    calls: int | None,
    seconds: float,
    barrier: Any,
    results: Any,
    sampled: Any,
) -> None:
    """A desk: whole calls through ``db.desk`` until ``calls`` or ``seconds`` run out."""
    from db.desk import end_call, start_call, submit_item

    agent_id, actor = agent
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    settings = Settings()
    # One untimed call first: the run times a desk that is warm (connected,
    # statements compiled), as it is after its first call of the day.
    call = start_call(factory, agent_id, actor, settings, utcnow())
    for item, stated in callers[0]:
        submit_item(factory, call.call_id, actor, item, stated, settings, utcnow())
    end_call(factory, call.call_id, actor, Outcome.INFORMED, "", utcnow())
    out = Outcomes()
    barrier.wait()
    cpu, deadline = time.process_time(), time.monotonic() + seconds
    while (calls is None or out.calls < calls) and time.monotonic() < deadline:
        statements = callers[out.calls % len(callers)]
        try:
            call = start_call(factory, agent_id, actor, settings, utcnow())
            for item, stated in statements:
                started = time.perf_counter()
                view = submit_item(factory, call.call_id, actor, item, stated, settings, utcnow())
                out.latencies.append(time.perf_counter() - started)
                out.checks += 1
            if not view.gate_open:
                raise RuntimeError(f"call {call.call_id}: the caller's statements did not verify")
            end_call(factory, call.call_id, actor, Outcome.INFORMED, "", utcnow())
        except Exception as exc:  # every error is a figure of the benchmark
            out.errors += 1
            if len(out.error_samples) < 3:
                out.error_samples.append(f"{type(exc).__name__}: {exc}")
        out.calls += 1
    out.cpu_seconds = time.process_time() - cpu
    # Connected until the server's CPU was read: it counts the backends alive then.
    results.put(out)
    sampled.wait(timeout=600)
    engine.dispose()


def _append_raw(cursor: Any, actor: str, type_: str, payload: dict[str, object]) -> None:
    """One audit event on the chain, as ``db.audit.chain.append_event`` stores it, in raw SQL."""
    # The chain's lock and head in one call, as the desks take them (migration 0012).
    head = cursor.execute(
        "SELECT seq, hash FROM audit_chain_head(%s)", (CHAIN_LOCK_KEY,)
    ).fetchone()
    seq, prev = (head[0] + 1, head[1]) if head and head[0] is not None else (1, GENESIS_HASH)
    at, body = utcnow(), canonical_payload(payload)
    cursor.execute(
        "INSERT INTO audit_event (seq, occurred_at, actor, type, payload, prev_hash, hash)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (seq, at, actor, type_, body, prev, event_hash(seq, at, actor, type_, body, prev)),
    )


def _raw_worker(
    url: str,
    agent: tuple[int, str],
    callers: list[Statements],
    calls: int | None,
    seconds: float,
    barrier: Any,
    results: Any,
    sampled: Any,
) -> None:
    """The baseline: every row a desk's call writes, by raw psycopg, no checks run.

    As a desk: the call; per item its check and event; at the user ID the
    call's tenant and caller; at the last item the call verified, with its
    event; at the end the call closed, with its event.
    """
    import psycopg

    agent_id, actor = agent
    # Prepared exactly as the desks' engine prepares on the same URL: psycopg's
    # own default (prepare after 5 runs) gave the baseline what the desks lacked.
    libpq, threshold = libpq_target(make_engine(url).url)
    out = Outcomes()
    with psycopg.connect(libpq, prepare_threshold=threshold) as connection:
        with connection.transaction():  # ended: the timed transactions are not savepoints
            accounts = _accounts(connection, callers)  # what a desk's user-ID check finds
        barrier.wait()
        cpu, deadline = time.process_time(), time.monotonic() + seconds
        while (calls is None or out.calls < calls) and time.monotonic() < deadline:
            statements = callers[out.calls % len(callers)]
            try:
                with connection.transaction(), connection.cursor() as cursor:
                    row = cursor.execute(
                        "INSERT INTO call (agent_id, started_at, state, notes, misses)"
                        " VALUES (%s, %s, 'open', '', 0) RETURNING id",
                        (agent_id, utcnow()),
                    ).fetchone()
                    assert row is not None
                    call_id = row[0]
                    _append_raw(
                        cursor, actor, "call.started", {"call_id": call_id, "agent_id": agent_id}
                    )
                for n, (item, stated) in enumerate(statements):
                    started = time.perf_counter()
                    with connection.transaction(), connection.cursor() as cursor:
                        _check_raw(cursor, actor, call_id, item, stated)
                        if item is Item.USER_ID:
                            account_id, tenant_id = accounts[stated["value"]]
                            cursor.execute(
                                "UPDATE call SET tenant_id = %s, caller_user_id = %s WHERE id = %s",
                                (tenant_id, account_id, call_id),
                            )
                        if n == len(statements) - 1:
                            cursor.execute(
                                "UPDATE call SET state = 'verified', verified_at = %s"
                                " WHERE id = %s",
                                (utcnow(), call_id),
                            )
                            _append_raw(
                                cursor,
                                actor,
                                "call.verified",
                                {"call_id": call_id, "tenant_id": tenant_id},
                            )
                    out.latencies.append(time.perf_counter() - started)
                    out.checks += 1
                with connection.transaction(), connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE call SET state = 'closed', outcome = 'informed', ended_at = %s"
                        " WHERE id = %s",
                        (utcnow(), call_id),
                    )
                    _append_raw(
                        cursor, actor, "call.ended", {"call_id": call_id, "outcome": "informed"}
                    )
            except Exception as exc:  # every error is a figure of the benchmark
                out.errors += 1
                if len(out.error_samples) < 3:
                    out.error_samples.append(f"{type(exc).__name__}: {exc}")
            out.calls += 1
        out.cpu_seconds = time.process_time() - cpu
        results.put(out)
        sampled.wait(timeout=600)  # connected until the server's CPU was read, as a desk


def _check_raw(cursor: Any, actor: str, call_id: int, item: Item, stated: dict[str, str]) -> None:
    """One item check row and its event, as a desk stores a match."""
    import json

    text = " ".join(stated.values())
    cursor.execute(
        "INSERT INTO item_check (call_id, item, stated, normalized, on_file, result,"
        " rules_version, checked_at) VALUES (%s, %s, %s, %s, %s, 'match', %s, %s)",
        (
            call_id,
            item.value,
            json.dumps(stated, ensure_ascii=False),
            text,
            text,
            RULES_VERSION,
            utcnow(),
        ),
    )
    _append_raw(
        cursor,
        actor,
        "item.checked",
        {"call_id": call_id, "item": item.value, "result": "match", "rules_version": RULES_VERSION},
    )


def _accounts(connection: Any, callers: list[Statements]) -> dict[str, tuple[int, int]]:
    """Each stated user ID's account and tenant, read before the timed run."""
    stated = {
        normalize_user_id(s["value"]): s["value"]
        for statements in callers
        for item, s in statements
        if item is Item.USER_ID
    }
    rows = connection.execute(
        "SELECT user_id, id, tenant_id FROM account_user WHERE user_id = ANY(%s)", (list(stated),)
    ).fetchall()
    return {stated[user_id]: (account_id, tenant_id) for user_id, account_id, tenant_id in rows}


# --- the server's CPU time --------------------------------------------------------------


def _ticks(pid: int) -> int:
    """utime+stime of process ``pid`` so far, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, so utime and stime (14, 15) are [11:13].
    return int(fields[11]) + int(fields[12])


def server_ticks(postmaster: int) -> dict[int, int]:
    """CPU ticks so far of the server's processes: the postmaster and each live child."""
    ticks = {postmaster: _ticks(postmaster)}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                ticks[int(entry.name)] = _ticks(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue  # a process that ended while we looked
    return ticks


def server_cpu_between(before: dict[int, int], after: dict[int, int]) -> float:
    """Seconds of CPU the server spent between two ``server_ticks`` samples.

    Summed over the processes alive at the second: the desks' own backends
    are (each waits for it before disconnecting), and so is any process started
    meanwhile (all of its time is in the window). A process gone by then is
    left out: the backend of an earlier run's desk, disconnecting, whose time
    is not this run's (adding the postmaster's reaped-children time instead
    moved such a backend's whole life into whichever run saw it end).
    """
    ticks = sum(t - before.get(pid, 0) for pid, t in after.items())
    return ticks / os.sysconf("SC_CLK_TCK")


# --- running and measuring ---------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A database loaded for the benchmark: its URL, desk agents and callers."""

    url: str
    agents: list[tuple[int, str]]
    callers: list[Statements]


def prepare(url: str, scale: Scale = LOAD_SCALE, callers: int = 200) -> Prepared:
    """Generate ``scale`` into the empty database at ``url``; agents and callers for desks."""
    from benchmarks.desk_figures import stated_callers

    generate(url, scale)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        agents = [
            (a.id, a.username)
            for a in session.scalars(
                select(Agent).where(Agent.role == Role.AGENT).order_by(Agent.id)
            )
        ]
    stated = stated_callers(factory, callers)
    # Disconnected now: a backend ending during a timed run moves its CPU time
    # between the server's counters and spoils the server CPU figure.
    engine.dispose()
    return Prepared(url, agents, stated)


def run_load(
    prepared: Prepared,
    kind: str,
    desks: int,
    *,
    seconds: float,
    calls: int | None = None,
    postmaster: int | None = None,
) -> LoadRun:
    """``desks`` worker processes of ``kind`` ("desk" or "raw") started together."""
    if desks > len(prepared.agents):
        raise ValueError(f"{desks} desks but only {len(prepared.agents)} agents")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(desks + 1)
    results = context.Queue()
    sampled = context.Event()
    target = _desk_worker if kind == "desk" else _raw_worker
    # Each desk its own callers, so two desks rarely state the same tenant at once.
    workers = [
        context.Process(
            target=target,
            args=(
                prepared.url,
                prepared.agents[n],
                prepared.callers[n::desks] or prepared.callers,
                calls,
                seconds,
                barrier,
                results,
                sampled,
            ),
            name=f"bench-{kind}-{n}",
        )
        for n in range(desks)
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=300)
    server_before = None if postmaster is None else server_ticks(postmaster)
    started = time.perf_counter()
    try:
        outcomes: list[Outcomes] = [results.get(timeout=seconds + 300) for _ in workers]
        wall = time.perf_counter() - started
        server = None
        if postmaster is not None and server_before is not None:
            server = server_cpu_between(server_before, server_ticks(postmaster))
    finally:
        sampled.set()  # the workers disconnect now, whatever happened here
    for worker in workers:
        worker.join(timeout=60)
    latencies = sorted(x for o in outcomes for x in o.latencies)
    checks = sum(o.checks for o in outcomes)
    per_check = 1000 / checks if checks else float("nan")
    return LoadRun(
        kind=kind,
        desks=desks,
        checks=checks,
        calls=sum(o.calls for o in outcomes),
        errors=sum(o.errors for o in outcomes),
        error_samples=tuple(s for o in outcomes for s in o.error_samples)[:5],
        seconds=wall,
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        client_cpu_ms_per_check=sum(o.cpu_seconds for o in outcomes) * per_check,
        server_cpu_ms_per_check=None if server is None else server * per_check,
    )


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def statement_profile(prepared: Prepared) -> dict[str, dict[str, float]]:
    """SQL statements per step of one call through ``db.desk``, by their first words.

    Counted with a ``before_cursor_execute`` listener; each step is also one
    BEGIN and one COMMIT round trip besides these.
    """
    from db.desk import end_call, start_call, submit_item

    engine = make_engine(prepared.url)
    factory: sessionmaker[Session] = make_sessionmaker(engine)
    settings = Settings()
    seen: Counter[str] = Counter()

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen[statement_kind(statement)] += 1

    agent_id, actor = prepared.agents[-1]
    profile: dict[str, dict[str, float]] = {}
    statements = prepared.callers[0]
    seen.clear()
    call = start_call(factory, agent_id, actor, settings, utcnow())
    profile["start_call"] = dict(seen)
    per_item: Counter[str] = Counter()
    for item, stated in statements:
        seen.clear()
        submit_item(factory, call.call_id, actor, item, stated, settings, utcnow())
        per_item.update(seen)
    profile["submit_item (mean of 5)"] = {k: v / len(statements) for k, v in per_item.items()}
    seen.clear()
    end_call(factory, call.call_id, actor, Outcome.INFORMED, "", utcnow())
    profile["end_call"] = dict(seen)
    engine.dispose()
    return profile


def postmaster_of(url: str) -> int | None:
    """The server's main process when it runs on this machine (its CPU is readable), else None."""
    import psycopg

    libpq = make_engine(url).url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as connection:  # read while the backend is alive
        row = connection.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        try:
            stat = Path(f"/proc/{row[0]}/stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            command = Path(f"/proc/{parent}/cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            return None  # a server elsewhere
    return parent if b"postgres" in command else None


def statement_kind(statement: str) -> str:
    """``SELECT call FOR UPDATE``, ``INSERT audit_event``: a statement by verb and table."""
    words = statement.replace("(", " ").split()
    verb = words[0].upper()
    if "audit_chain_head" in statement:
        return "SELECT audit_chain_head"
    if verb == "INSERT":
        return f"INSERT {words[2]}"
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    if verb in ("SELECT", "WITH") and "FROM" in words:
        # WITH: named by the first table (in its first CTE); SELECT: by its
        # own FROM, not a scalar subquery's.
        table = words[words.index("FROM") + 1] if verb == "WITH" else _outer_from(statement)
        kind = f"SELECT {table}"
        return kind + " FOR UPDATE" if "FOR UPDATE" in statement else kind
    return verb


def _outer_from(statement: str) -> str:
    """The table after a SELECT's own FROM, outside every parenthesis."""
    tokens = statement.replace("(", " ( ").replace(")", " ) ").split()
    depth = 0
    for at, token in enumerate(tokens[:-1]):
        depth += {"(": 1, ")": -1}.get(token, 0)
        if depth == 0 and token.upper() == "FROM":
            return tokens[at + 1]
    return "?"


def verified_count(url: str) -> int:
    """The chain's length after a load; raises if any link is broken."""
    engine = make_engine(url)
    try:
        report = verify_chain(engine)
    finally:
        engine.dispose()
    if not report.ok:
        raise RuntimeError(
            f"the chain broke under load at {report.first_bad_seq}: {report.problem}"
        )
    return report.count


@dataclass
class PgLoad:
    """The PostgreSQL load benchmark's figures and the details kept in the results file."""

    figures: list[Figure]
    runs: list[dict[str, Any]]
    profile: dict[str, dict[str, float]]
    chain_events: int
    capacity: list[dict[str, Any]] = field(default_factory=list)
    chain_ceiling: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CapacityPlan:
    """The capacity steps (``benchmarks.pg_capacity``): seconds per step, budget per side."""

    seconds: float = 20.0
    budget: float = 150.0
    steps: tuple[int, ...] | None = None  # None: pg_capacity.STEPS
    processes: int | None = None  # None: pg_capacity.PROCESSES


def pg_load(
    url: str | None,
    desks: Sequence[int],
    seconds: float,
    calls: int | None = None,
    scale: Scale | None = None,
    capacity: CapacityPlan | None = None,
) -> PgLoad:
    """The load benchmark on ``url`` (an empty database) or on a throwaway cluster.

    ``scale``: what the database holds before the desks start (default
    ``LOAD_SCALE``); ``calls`` caps each desk's calls. ``capacity``: also the
    open-loop capacity steps, direct and through a PgBouncer started here
    (with ``url``, direct only), and the chain's ceiling.
    """
    if url is not None:
        return _pg_load_on(url, desks, seconds, calls, scale, capacity, None)
    from benchmarks.pg_capacity import ROUTE_LIMITS
    from benchmarks.pg_cluster import scratch_database

    connections = max(100, 3 * max(desks, default=1))
    if capacity is not None:
        connections = max(connections, ROUTE_LIMITS["direct"] + 50)
    with scratch_database("callgate_load", max_connections=connections) as server:
        return _pg_load_on(server, desks, seconds, calls, scale, capacity, server)


def _pg_load_on(
    url: str,
    desks: Sequence[int],
    seconds: float,
    calls: int | None,
    scale: Scale | None,
    capacity: CapacityPlan | None,
    ours: str | None,
) -> PgLoad:
    prepared = prepare(url, scale or LOAD_SCALE, callers=300)
    postmaster = postmaster_of(url)
    profile = statement_profile(prepared)
    figures: list[Figure] = []
    runs: list[dict[str, Any]] = []
    events = 0
    direct = replace(prepared, url=direct_url(url))
    for n in desks:
        desk = run_load(direct, "desk", n, seconds=seconds, calls=calls, postmaster=postmaster)
        raw = run_load(direct, "raw", n, seconds=seconds, calls=calls, postmaster=postmaster)
        events = verified_count(url)
        runs += [{**asdict(desk), "chain_events_after": events}, asdict(raw)]
        if desk.error_samples or raw.error_samples:
            print(f"pg load {n} desks: errors: {desk.error_samples + raw.error_samples}")
        figures += load_figures(desk, raw, events)
    load = PgLoad(figures, runs, profile, events)
    if capacity is not None:
        _capacity_on(load, prepared, capacity, bounce=ours is not None)
        load.chain_events = verified_count(url)
    return load


def direct_url(url: str) -> str:
    """``url`` as a direct deployment writes it: ``prepare_threshold`` 5 unless it names one."""
    parsed = make_url(url)
    if PREPARE_THRESHOLD in parsed.query:
        return url
    with_threshold = parsed.update_query_dict({PREPARE_THRESHOLD: str(CLOSED_LOOP_PREPARE)})
    return with_threshold.render_as_string(hide_password=False)


def _capacity_on(load: PgLoad, prepared: Prepared, plan: CapacityPlan, bounce: bool) -> None:
    """The capacity steps on each route and the chain's ceiling, added to ``load``."""
    from benchmarks import pg_capacity
    from benchmarks.chain_ceiling import chain_ceiling
    from benchmarks.load_figures import capacity_figures, ceiling_figures
    from benchmarks.pg_cluster import BOUNCER_POOL_SIZE, Bouncer, pgbouncer_binary

    options: dict[str, Any] = {"seconds": plan.seconds, "budget": plan.budget}
    if plan.steps is not None:
        options["steps"] = plan.steps
    if plan.processes is not None:
        options["processes"] = plan.processes
    routes = {"direct": prepared.url}
    bouncer = None
    binary = pgbouncer_binary() if bounce else None
    if binary is not None:
        limit = pg_capacity.ROUTE_LIMITS["pgbouncer"]
        bouncer = Bouncer(
            binary,
            make_url(prepared.url),
            pool_size=BOUNCER_POOL_SIZE,
            max_clients=limit + 100,
        )
        bouncer.start()
        routes["pgbouncer"] = bouncer.pooled(prepared.url).render_as_string(hide_password=False)
    try:
        measured = pg_capacity.capacity(prepared, routes, **options)
    finally:
        if bouncer is not None:
            bouncer.stop()
    ceiling = chain_ceiling(prepared.url, seconds=min(plan.seconds, 10.0))
    load.capacity = [side.as_json() for side in measured.sides]
    load.chain_ceiling = ceiling
    load.figures += capacity_figures(measured, binary is not None) + ceiling_figures(ceiling)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: load a throwaway cluster (or ``--url``) and print each run."""
    from benchmarks.figures import table

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an empty PostgreSQL database (else a throwaway cluster)")
    parser.add_argument("--desks", type=int, nargs="*", help="closed loop (default 1 8 32)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--calls", type=int, help="at most this many calls per desk")
    parser.add_argument(
        "--capacity", action="store_true", help="desks held at human pace, direct and PgBouncer"
    )
    parser.add_argument("--step-seconds", type=float, default=20.0, help="per capacity step")
    parser.add_argument("--budget", type=float, default=150.0, help="seconds per capacity side")
    parser.add_argument("--steps", type=int, nargs="+", help="capacity desk counts")
    args = parser.parse_args(argv)
    desks = args.desks if args.desks is not None else ([] if args.capacity else [1, 8, 32])
    plan = None
    if args.capacity:
        steps = tuple(args.steps) if args.steps else None
        plan = CapacityPlan(args.step_seconds, args.budget, steps)
    load = pg_load(args.url, desks, args.seconds, args.calls, capacity=plan)
    print(table(load.figures))
    for step, counts in load.profile.items():
        print(f"{step}: " + ", ".join(f"{k} {v:g}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
