"""A tiny run of the benchmarks, so ``make bench`` cannot rot unnoticed.

The generator must build a consistent database (counts, a verifying audit
chain, the schema the models describe) on SQLite and PostgreSQL, and every
measurement must produce its figures. Times are never asserted: they belong
to ``make bench``, not to the tests.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text

from benchmarks import (
    account_figures,
    desk_figures,
    pg_load,
    run,
    supervisor_figures,
    verify_figures,
)
from benchmarks.figures import Figure, table
from benchmarks.generate import Generated, Scale, ensure_sqlite, generate
from db.audit.chain import verify_chain
from db.engine import make_engine, make_sessionmaker
from db.migrate import check
from db.models import AccountUser, AuditEvent, Call, ItemCheck, Tenant
from db.types import utcnow

TINY = Scale(tenants=200, users=400, calls=1_000, agents=20)
TABLES = (
    "tenant",
    "tenant_domain",
    "account_user",
    "subscription",
    "agent",
    "call",
    "item_check",
    "cancellation_request",
    "audit_event",
)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench-cache")


@pytest.fixture(scope="module")
def made(cache: Path) -> Generated:
    """The tiny database, as generated; the consistency tests only read it."""
    return ensure_sqlite(TINY, cache_dir=cache)


@pytest.fixture(scope="module")
def made_engine(made: Generated) -> Iterator[Engine]:
    engine = make_engine(made.url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def scratch(made: Generated, tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """A copy the measurements may write to (the item-check benchmark records calls)."""
    copy = tmp_path_factory.mktemp("bench-scratch") / "bench.db"
    # The backup API copies what is committed, WAL included.
    source = sqlite3.connect(made.url.removeprefix("sqlite:///"))
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    return Generated(f"sqlite:///{copy}", made.scale, made.counts, made.seconds)


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in TABLES
        }


def _assert_consistent(engine: Engine, made: Generated) -> None:
    counts = _row_counts(engine)
    assert counts == {table: getattr(made.counts, table) for table in TABLES}
    assert counts["tenant"] == TINY.tenants
    assert counts["account_user"] == TINY.users
    assert counts["call"] == TINY.calls
    assert counts["agent"] == TINY.agents
    report = verify_chain(engine, expect_head=made.head_hash)
    assert report.ok, report.problem
    assert report.count == counts["audit_event"]
    with engine.connect() as connection:
        events = dict(
            connection.execute(
                select(AuditEvent.type, func.count()).group_by(AuditEvent.type)
            ).all()
        )
        closed = connection.execute(
            select(func.count()).select_from(Call).where(Call.ended_at.is_not(None))
        ).scalar_one()
        orphans = connection.execute(
            select(func.count())
            .select_from(Call)
            .outerjoin(Tenant, Tenant.id == Call.tenant_id)
            .where(Call.tenant_id.is_not(None), Tenant.id.is_(None))
        ).scalar_one()
    # Every call started and ended, every check has its event, as the desk writes them.
    assert events["call.started"] == events["call.ended"] == TINY.calls == closed
    assert events["item.checked"] == counts["item_check"]
    assert orphans == 0


def test_generated_sqlite_database_is_consistent(made: Generated, made_engine: Engine) -> None:
    assert not made.cached
    _assert_consistent(made_engine, made)


def test_generated_schema_is_the_models(made_engine: Engine) -> None:
    assert check(made_engine) == []


def test_stored_user_ids_are_normalized_and_found_by_the_desk_lookup(
    made_engine: Engine,
) -> None:
    factory = make_sessionmaker(made_engine)
    with factory() as session:
        user = session.scalars(select(AccountUser).order_by(AccountUser.id.desc())).first()
        assert user is not None
        assert user.user_id == user.user_id.lower()
    assert desk_figures.find_by_user_id(factory, f"  {user.user_id.upper()} ") == user.tenant_id


def test_a_second_request_reuses_the_cached_file(made: Generated, cache: Path) -> None:
    again = ensure_sqlite(TINY, cache_dir=cache)
    assert again.cached
    assert again.url == made.url
    assert again.counts == made.counts
    assert again.head_hash == made.head_hash


def test_another_size_gets_its_own_file(made: Generated, cache: Path) -> None:
    other = ensure_sqlite(Scale(tenants=20, users=40, calls=50, agents=5), cache_dir=cache)
    assert not other.cached
    assert other.url != made.url
    assert other.counts.call == 50


@pytest.mark.postgres
def test_generated_postgres_database_is_consistent(pg_url: str) -> None:
    made = generate(pg_url, TINY)
    engine = make_engine(pg_url)
    try:
        _assert_consistent(engine, made)
        # The id sequences were moved past the generated ids: the desk can insert.
        with engine.begin() as connection:
            connection.execute(
                ItemCheck.__table__.insert().values(
                    call_id=1,
                    item="phone",
                    result="match",
                    rules_version="x",
                    checked_at=utcnow(),
                )
            )
    finally:
        engine.dispose()


# --- the measurements -------------------------------------------------------------


def _assert_figures(figures: list[Figure], count: int) -> None:
    assert len(figures) == count
    for figure in figures:
        # /proc counts CPU in 10 ms ticks: a tiny run's server CPU may read 0.
        tick_bound = "CPU per check" in figure.name
        if figure.name.endswith(": errors"):
            assert figure.measured == 0, figure.note
        elif tick_bound:
            assert figure.measured >= 0, figure
        else:
            assert figure.measured > 0, figure
        if figure.bar is not None:
            assert isinstance(figure.passed, bool), figure
        if figure.baseline is not None and not (tick_bound and figure.baseline == 0):
            assert figure.baseline > 0, figure
            assert figure.ratio == pytest.approx(figure.measured / figure.baseline)


@pytest.mark.slow
def test_desk_start_times_both_processes(scratch: Generated) -> None:
    figure = desk_figures.desk_start(scratch.url, runs=1)
    _assert_figures([figure], 1)
    assert figure.bar_on == "ratio"


def test_both_processes_draw_the_sign_in_screen(scratch: Generated) -> None:
    for command in (desk_figures.desk_command(scratch.url), desk_figures.BARE_COMMAND):
        _seconds, drawn = desk_figures._process_seconds(command)
        assert b"Passphrase" in drawn


def test_lookups(scratch: Generated) -> None:
    factory = make_sessionmaker(make_engine(scratch.url))
    figures = desk_figures.lookups(factory, runs=5)
    _assert_figures(figures, 2)


def test_recording_item_checks_verifies_real_callers(scratch: Generated, tmp_path: Path) -> None:
    engine = make_engine(scratch.url)
    factory = make_sessionmaker(engine)
    before = _row_counts(engine)
    figure = desk_figures.record_item_checks(factory, tmp_path, calls=2)
    _assert_figures([figure], 1)
    after = _row_counts(engine)
    assert after["call"] == before["call"] + 2
    assert after["item_check"] == before["item_check"] + 10
    assert verify_chain(engine).ok


def test_supervisor_reads(scratch: Generated) -> None:
    factory = make_sessionmaker(make_engine(scratch.url))
    views = supervisor_figures.supervisor_views(factory)
    figures = supervisor_figures.supervisor(factory, runs=2)
    _assert_figures(figures, len(views))


def test_supervisor_memory(scratch: Generated) -> None:
    figure = supervisor_figures.supervisor_memory(scratch.url)
    _assert_figures([figure], 1)
    assert figure.measured >= figure.baseline  # type: ignore[operator]


def test_account_import_against_plain_executemany(tmp_path: Path) -> None:
    figure = account_figures.account_import(tmp_path, rows=200)
    _assert_figures([figure], 1)
    plain = make_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    imported = make_engine(f"sqlite:///{tmp_path / 'import.db'}")
    # The baseline stored the same rows the importer did.
    for name in ("tenant", "tenant_domain", "account_user", "subscription"):
        assert _count(plain, name) == _count(imported, name) > 0


def test_account_sync_against_plain_executemany(tmp_path: Path) -> None:
    figure = account_figures.account_sync(tmp_path, rows=200)
    _assert_figures([figure], 1)
    synced = make_engine(f"sqlite:///{tmp_path / 'sync.db'}")
    with synced.connect() as connection:
        phones = connection.execute(
            text("SELECT count(*) FROM tenant WHERE phone_e164 LIKE '%9999'")
        )
        assert phones.scalar_one() == 10  # one tenant in ten changed
    plain = make_engine(f"sqlite:///{tmp_path / 'sync-plain.db'}")
    for name in ("tenant", "account_user", "subscription"):
        assert _count(plain, name) == _count(synced, name) > 0


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_check_costs_cover_every_case() -> None:
    from benchmarks.bench_checks import CASES

    figures = run.check_costs(runs=3)
    _assert_figures(figures, len(CASES) + 1)


def test_audit_verify_against_the_plain_loop(scratch: Generated) -> None:
    figures = verify_figures.audit_verify(scratch.url)
    _assert_figures(figures, 3)
    events = _row_counts(make_engine(scratch.url))["audit_event"]
    assert figures[0].name == f"audit verify of {events:,} events"
    # the loop and the command read every event: events/s agree with events / seconds
    assert figures[1].baseline == pytest.approx(events / figures[0].baseline)  # type: ignore[operator]


def test_plain_verify_loop_refuses_a_broken_chain(scratch: Generated, tmp_path: Path) -> None:
    copy = tmp_path / "broken.db"
    with sqlite3.connect(scratch.url.removeprefix("sqlite:///")) as source:
        target = sqlite3.connect(copy)
        source.backup(target)
    target.execute("DROP TRIGGER audit_event_no_update")
    target.execute("UPDATE audit_event SET actor = 'mallory' WHERE seq = 3")
    target.commit()
    target.close()
    with pytest.raises(RuntimeError, match="1 bad events"):
        verify_figures.plain_verify_loop(str(copy))


@pytest.mark.postgres
def test_postgres_load_runs_desks_and_the_raw_baseline(pg_url: str) -> None:
    load = pg_load.pg_load(pg_url, [2], seconds=300, calls=2, scale=TINY)
    # the conftest's server runs on this machine, so its CPU is read too
    _assert_figures(load.figures, 6)
    desk, raw = load.runs
    # two desks, two whole calls each, five checks a call; the baseline wrote as many
    assert (desk["kind"], desk["checks"], desk["calls"], desk["errors"]) == ("desk", 20, 4, 0)
    assert (raw["kind"], raw["checks"], raw["calls"], raw["errors"]) == ("raw", 20, 4, 0)
    engine = make_engine(pg_url)
    try:
        counts = _row_counts(engine)
    finally:
        engine.dispose()
    # generated + a warm-up call per desk + the measured calls, both kinds, all on one chain
    assert load.chain_events == counts["audit_event"]
    assert counts["call"] == TINY.calls + 2 + 4 + 4 + 1  # and the statement profile's call
    submit = load.profile["submit_item (mean of 5)"]
    assert submit["INSERT item_check"] == 1
    assert submit["SELECT call FOR UPDATE"] == 1
    # The baseline writes what the desks write: every call of the run, desk or
    # raw, has the same columns set, checks and events (by type and payload keys).
    engine = make_engine(pg_url)
    try:
        shapes = _call_shapes(engine, after_call=TINY.calls)
    finally:
        engine.dispose()
    assert len(shapes) == 2 + 4 + 4 + 1
    assert len(set(shapes.values())) == 1, shapes


def _call_shapes(engine: Engine, after_call: int) -> dict[int, tuple[object, ...]]:
    """Per call after ``after_call``: its columns set, its checks' columns set, its events."""
    shapes: dict[int, tuple[object, ...]] = {}
    with engine.connect() as connection:
        calls = connection.execute(text("SELECT * FROM call WHERE id > :n"), {"n": after_call})
        for call in calls.mappings().all():
            checks = connection.execute(
                text("SELECT * FROM item_check WHERE call_id = :c ORDER BY id"), {"c": call["id"]}
            )
            events = connection.execute(
                text(
                    "SELECT type, payload FROM audit_event"
                    " WHERE (payload::jsonb ->> 'call_id')::bigint = :c ORDER BY seq"
                ),
                {"c": call["id"]},
            )
            shapes[call["id"]] = (
                _set(call),
                tuple(_set(check) for check in checks.mappings()),
                tuple((type_, tuple(sorted(json.loads(body)))) for type_, body in events),
            )
    return shapes


def _set(row: Any) -> tuple[str, ...]:
    """The names of a row's columns that hold a value."""
    return tuple(sorted(name for name, value in row.items() if value is not None))


@pytest.mark.postgres
def test_statement_layers_time_the_check_statements_on_every_layer(pg_url: str) -> None:
    from benchmarks.statement_layers import layers

    generate(pg_url, TINY)
    # layers() first checks that the ORM, Core and raw psycopg read the same rows
    cost = layers(pg_url, statements=40)
    assert set(cost) == {"orm", "core", "raw"}
    assert all(statement > 0 for statement, _ in cost.values())


def test_statement_kinds_name_verb_and_table() -> None:
    from benchmarks.pg_load import statement_kind

    assert statement_kind("SELECT call.id FROM call WHERE call.id = %s FOR UPDATE") == (
        "SELECT call FOR UPDATE"
    )
    assert statement_kind("INSERT INTO audit_event (seq) VALUES (%s)") == "INSERT audit_event"
    head = "SELECT seq, hash FROM audit_chain_head(%(k)s)"
    assert statement_kind(head) == "SELECT audit_chain_head"
    locked = "WITH c AS (SELECT call.id FROM call WHERE call.id = %s FOR UPDATE) SELECT c.id FROM c"
    assert statement_kind(locked) == "SELECT call FOR UPDATE"
    counted = "SELECT count(*), (SELECT a.x FROM (SELECT x FROM request) AS a) FROM call WHERE 1"
    assert statement_kind(counted) == "SELECT call"


def test_the_closed_loop_prepares_desks_and_baseline_alike() -> None:
    """Both sides connect with the direct deployment's URL, so both prepare after 5 runs.

    The baseline used psycopg's own default (prepare) while the desks' engine
    never prepared: the server CPU figure compared parsing and planning with none.
    """
    from benchmarks.pg_load import direct_url
    from db.engine import libpq_target

    server = "postgresql+psycopg://postgres@/callgate_load?host=/tmp/pg"
    direct = direct_url(server)
    engine = make_engine(direct)
    asked: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def _asked(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        asked.update(params)
        raise RuntimeError("connect arguments read")  # no server needed

    with pytest.raises(RuntimeError, match="connect arguments read"):
        engine.connect()
    engine.dispose()
    assert asked["prepare_threshold"] == 5  # the desks' connections
    assert libpq_target(engine.url)[1] == 5  # the raw worker's connection
    # A URL naming its own threshold is kept: --url with ?prepare_threshold=none stays unprepared.
    assert direct_url(server + "&prepare_threshold=none") == server + "&prepare_threshold=none"


def test_compare_puts_the_last_two_runs_side_by_side(tmp_path: Path) -> None:
    from benchmarks import compare

    def results(at: str, figures: list[Figure]) -> dict[str, object]:
        return {"at": at, "figures": [f.as_json() for f in figures]}

    old = results("20261201T100000Z", [Figure("lookup", 2.0, 1.0, "ms", bar=3.0)])
    new = results(
        "20261201T110000Z",
        [Figure("lookup", 1.5, 1.0, "ms", bar=3.0), Figure("new one", 4.0, None, "s")],
    )
    for at, body in (("20261130T090000Z", old), (old["at"], old), (new["at"], new)):
        (tmp_path / f"{at}.json").write_text(json.dumps(body))
    assert [p.name for p in compare.last_two(tmp_path)] == [
        "20261201T100000Z.json",
        "20261201T110000Z.json",
    ]
    lines = compare.compare(old, new).splitlines()
    assert len(lines) == 3
    assert lines[1].split()[:5] == ["lookup", "ms", "2.00", "1.50", "-25%"]
    assert lines[1].endswith("pass → pass")
    assert lines[2].split()[:6] == ["new", "one", "s", "—", "4.00", "—"]


def test_table_shows_every_figure_and_its_verdict() -> None:
    figures = [
        Figure("fast", 1.0, 2.0, "ms", bar=10.0),
        Figure("slow ratio", 9.0, 2.0, "s", bar=3.0, bar_on="ratio"),
        Figure("no bar", 5.0, None, "µs"),
    ]
    lines = table(figures).splitlines()
    assert len(lines) == 4
    assert lines[1].startswith("fast") and lines[1].endswith("pass")
    assert lines[2].startswith("slow ratio") and lines[2].endswith("FAIL")
    assert figures[2].passed is None


def test_server_cpu_counts_the_processes_alive_at_the_end_of_a_run() -> None:
    from benchmarks.pg_load import server_cpu_between

    tick = 1 / os.sysconf("SC_CLK_TCK")
    before = {1: 10, 2: 5, 3: 100}  # 3: an earlier run's backend, gone by the end
    after = {1: 15, 2: 9, 4: 3}  # 4: started during the run
    assert server_cpu_between(before, after) == pytest.approx((5 + 4 + 3) * tick)


# --- capacity at human pace, the chain's ceiling, memory per desk -----------------------


class _SlowDesk:
    """A desk whose every check takes ``pause`` seconds."""

    def __init__(self, pause: float) -> None:
        self.pause = pause

    def check(self) -> None:
        import time

        time.sleep(self.pause)


def test_capacity_latency_runs_from_the_scheduled_arrival_open_loop() -> None:
    import time

    from benchmarks.pg_capacity import StepOutcome, _stream

    out = StepOutcome()
    # Three checks due at once: the second and third wait for the ones before
    # them, and that wait is part of their latency (a closed loop would hide it).
    _stream(_SlowDesk(0.05), [0.0, 0.0, 0.0], time.monotonic(), out)
    assert out.checks == 3 and out.errors == 0
    for n, latency in enumerate(out.latencies, start=1):
        assert latency >= 0.05 * n


def test_capacity_arrivals_are_a_poisson_stream_drawn_in_advance() -> None:
    import random
    import statistics

    from benchmarks.pg_capacity import arrivals

    times = arrivals(random.Random(3), seconds=50_000.0, mean=5.0)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert times == sorted(times) and times[-1] < 50_000.0
    assert statistics.mean(gaps) == pytest.approx(5.0, rel=0.05)
    # exponential gaps: as spread as they are long (a fixed pace would have 0)
    assert statistics.stdev(gaps) == pytest.approx(5.0, rel=0.1)


@pytest.mark.postgres
def test_capacity_steps_desks_and_raw_direct_and_through_pgbouncer(
    pg_url: str, pg_bouncer: Any
) -> None:
    from benchmarks.load_figures import capacity_figures
    from benchmarks.pg_capacity import capacity

    prepared = pg_load.prepare(pg_url, TINY, callers=20)
    routes = {
        "direct": pg_url,
        "pgbouncer": pg_bouncer.pooled(pg_url).render_as_string(hide_password=False),
    }
    run = capacity(
        prepared, routes, seconds=2.0, budget=30.0, steps=(2, 4), processes=2, interval=0.2
    )
    assert [(s.kind, s.route) for s in run.sides] == [
        ("desk", "direct"),
        ("raw", "direct"),
        ("desk", "pgbouncer"),
        ("raw", "pgbouncer"),
    ]
    for side in run.sides:
        assert [s.desks for s in side.steps][:1] == [2]
        assert all(s.checks > 0 for s in side.steps), side
        assert all(s.errors == 0 for s in side.steps), [s.error_samples for s in side.steps]
    figures = capacity_figures(run, bounced=True)
    _assert_figures(figures, 2)
    assert all(f.bar_on == "ratio_min" for f in figures)
    # desks and raw wrote on one chain, through both routes, and it still verifies
    assert pg_load.verified_count(pg_url) > 0


@pytest.mark.postgres
def test_chain_ceiling_times_the_lock_and_counts_events(pg_url: str) -> None:
    from benchmarks.chain_ceiling import chain_ceiling
    from benchmarks.load_figures import ceiling_figures

    generate(pg_url, TINY)
    before = pg_load.verified_count(pg_url)
    ceiling = chain_ceiling(pg_url, seconds=1.0, appenders=2)
    assert ceiling["hold_ms_p50"] > 0 and ceiling["events_per_second"] > 0
    _assert_figures(ceiling_figures(ceiling), 2)
    # every appended event is on the chain, which verifies
    assert pg_load.verified_count(pg_url) > before


@pytest.mark.slow
def test_desk_memory_after_a_whole_call_in_a_terminal_and_a_tab(scratch: Generated) -> None:
    from benchmarks.desk_memory import PSS_BAR_MIB, terminal_desk_memory, web_desk_memory

    for figure in (terminal_desk_memory(scratch.url), web_desk_memory(scratch.url)):
        _assert_figures([figure], 1)
        assert figure.bar == PSS_BAR_MIB
        # Python, Textual and SQLAlchemy: tens of MiB, never a process's sliver
        assert figure.measured > 20
        assert "desks per GiB" in figure.note
    engine = make_engine(scratch.url)
    try:
        with engine.connect() as connection:
            closed = connection.execute(
                text(
                    "SELECT count(*) FROM call JOIN agent ON agent.id = call.agent_id"
                    " WHERE agent.username LIKE 'memory%' AND call.ended_at IS NOT NULL"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    assert closed == 2  # each desk took its whole call to the end


def test_a_capacity_bar_asks_for_at_least_its_ratio() -> None:
    held = Figure("held", 60.0, 100.0, "desks", bar=0.5, bar_on="ratio_min")
    short = Figure("short", 40.0, 100.0, "desks", bar=0.5, bar_on="ratio_min")
    none = Figure("none held", 0.0, 0.0, "desks", bar=0.5, bar_on="ratio_min")
    assert (held.passed, short.passed, none.passed) == (True, False, False)
    assert "≥ 0.5×" in table([held]).splitlines()[1]
