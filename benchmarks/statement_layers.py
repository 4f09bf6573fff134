"""What a check's statements cost the desk's process, by the layer that sends them.

    python -m benchmarks.statement_layers             # throwaway cluster
    python -m benchmarks.statement_layers --url ...   # an empty PostgreSQL database

The two statements every item check reads (``db.calls.call_to_check``: the
call, its agent, tenant and caller, locked; ``db.desk.views``' verification
read) sent the same number of times through an ORM session (as the desk
sends them), through a Core connection, and through raw psycopg with the
SQL SQLAlchemy compiled. Client CPU per statement and per transaction, in
µs: the part of the load benchmark's client CPU per check that is the data
layer's, and what a rewrite of the check path on another layer could save.
Each layer reads the same rows, compared before anything is timed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from benchmarks.generate import Scale, generate
from db.calls import _call_to_check
from db.desk.views import _RECORDS
from db.engine import make_engine, make_sessionmaker
from db.models import Call

LAYERS_SCALE = Scale(tenants=500, users=1_000, calls=2_000, agents=10)


def layers(url: str, statements: int = 6_000) -> dict[str, tuple[float, float]]:
    """Per layer ("orm", "core", "raw"): client CPU µs per statement, and per transaction.

    A statement's cost is timed with every statement in one transaction; a
    transaction's (its BEGIN and COMMIT, the session or connection around
    them) is what one transaction per pair of statements adds to that.
    """
    engine = make_engine(url)
    try:
        return _layers(engine, statements)
    finally:
        engine.dispose()


Pair = Callable[[Any, int], tuple[int, int]]


def _layers(engine: Engine, statements: int) -> dict[str, tuple[float, float]]:
    import psycopg

    factory = make_sessionmaker(engine)
    with factory() as session:
        calls = list(session.scalars(select(Call.id).where(Call.tenant_id.is_not(None)).limit(500)))
    if not calls:
        raise RuntimeError("no call with a tenant to read: generate the database first")
    locked, records = _call_to_check(), _RECORDS
    locked_sql = str(locked.compile(dialect=engine.dialect))
    compiled = records.compile(dialect=engine.dialect)
    records_sql, fixed = str(compiled), dict(compiled.params)
    libpq = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    rounds = max(1, statements // 2)

    @contextmanager
    def orm_transaction() -> Iterator[Session]:
        with factory() as session, session.begin():
            yield session

    def orm(session: Session, call_id: int) -> tuple[int, int]:
        found = session.execute(locked, {"call_id": call_id}).first()
        rows = session.execute(records, {"call_id": call_id}).all()
        return (found[0].id if found else 0), len(rows)

    def core(connection: Connection, call_id: int) -> tuple[int, int]:
        # Through Core the row holds the call's columns, not a Call.
        found: Any = connection.execute(locked, {"call_id": call_id}).first()
        rows = connection.execute(records, {"call_id": call_id}).all()
        return (found[0] if found else 0), len(rows)

    def raw(cursor: Any, call_id: int) -> tuple[int, int]:
        found = cursor.execute(locked_sql, {**fixed, "call_id": call_id}).fetchone()
        rows = cursor.execute(records_sql, {**fixed, "call_id": call_id}).fetchall()
        return (found[0] if found else 0), len(rows)

    with psycopg.connect(libpq) as raw_connection:

        @contextmanager
        def raw_transaction() -> Iterator[Any]:
            with raw_connection.transaction(), raw_connection.cursor() as cursor:
                yield cursor

        ways: dict[str, tuple[Callable[[], AbstractContextManager[Any]], Pair]] = {
            "orm": (orm_transaction, orm),
            "core": (engine.begin, core),
            "raw": (raw_transaction, raw),
        }
        for call_id in calls[:20]:  # the same rows whichever layer reads them
            read = {}
            for name, (transaction, pair) in ways.items():
                with transaction() as handle:
                    read[name] = pair(handle, call_id)
            if len(set(read.values())) != 1:
                raise RuntimeError(f"the layers read different rows for call {call_id}: {read}")
        cost: dict[str, tuple[float, float]] = {}
        for name, (transaction, pair) in ways.items():
            started = time.process_time()
            with transaction() as handle:
                for n in range(rounds):
                    pair(handle, calls[n % len(calls)])
            together = time.process_time() - started
            started = time.process_time()
            for n in range(rounds):
                with transaction() as handle:
                    pair(handle, calls[n % len(calls)])
            apart = time.process_time() - started
            cost[name] = (together / (2 * rounds) * 1e6, (apart - together) / rounds * 1e6)
    return cost


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: measure on ``--url`` or on a throwaway cluster, and print µs per layer."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an empty PostgreSQL database (else a throwaway cluster)")
    parser.add_argument("--statements", type=int, default=6_000)
    args = parser.parse_args(argv)
    if args.url:
        generate(args.url, LAYERS_SCALE)
        cost = layers(args.url, args.statements)
    else:
        cost = _on_cluster(args.statements)
    raw_statement, raw_transaction = cost["raw"]
    for name, (statement, transaction) in cost.items():
        print(
            f"{name:5} client CPU {statement:4.0f} µs per statement"
            f" ({statement / raw_statement:.1f}× raw), {transaction:4.0f} µs per transaction"
            f" ({transaction / raw_transaction:.1f}× raw)"
        )
    return 0


def _on_cluster(statements: int) -> dict[str, tuple[float, float]]:
    from benchmarks.pg_cluster import scratch_database

    with scratch_database("callgate_layers") as url:
        generate(url, LAYERS_SCALE)
        return layers(url, statements)


if __name__ == "__main__":
    sys.exit(main())
