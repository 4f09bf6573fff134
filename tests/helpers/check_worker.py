"""A desk stand-in for the concurrency tests: records item checks with audit events.

Run as ``python -m tests.helpers.check_worker URL CALL_ID COUNT NAME``. It
prints ``ready`` once connected and waits for a line on stdin, so that every
worker starts writing at the same moment, then records COUNT checks, each in
its own unit of work (an ``item_check`` row plus its ``item.checked`` event, as
the desk does). Every
error is printed to stderr; the last stdout line is
``done OK ERRORS MEDIAN_MS MAX_MS``.
"""

from __future__ import annotations

import statistics
import sys
import time

from db.audit.chain import append_event
from db.engine import make_engine, make_sessionmaker, unit_of_work
from db.models import ItemCheck
from verification.kinds import CheckResult, Item


def main(url: str, call_id: int, count: int, name: str) -> int:
    """Record ``count`` checks on ``call_id``; the exit status is 1 if any failed."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with engine.connect():  # connect now, so that "go" starts the writes, not the handshakes
        pass
    print("ready", flush=True)
    sys.stdin.readline()
    ok = errors = 0
    timings: list[float] = []
    for i in range(count):
        started = time.perf_counter()
        try:
            with unit_of_work(factory) as session:
                check = ItemCheck(
                    call_id=call_id,
                    item=Item.PHONE,
                    stated=f"(425) 555-{i:04d}",
                    normalized=f"+1425555{i:04d}",
                    result=CheckResult.MISMATCH,
                    rules_version="test",
                )
                session.add(check)
                session.flush()
                append_event(
                    session,
                    actor=name,
                    type="item.checked",
                    payload={"call": call_id, "check": check.id, "result": "mismatch"},
                )
        except Exception as exc:  # every failure is what the test is looking for
            errors += 1
            print(f"{name}: check {i}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        else:
            ok += 1
            timings.append(time.perf_counter() - started)
    engine.dispose()
    median_ms = statistics.median(timings) * 1000 if timings else float("nan")
    max_ms = max(timings) * 1000 if timings else float("nan")
    print(f"done {ok} {errors} {median_ms:.3f} {max_ms:.3f}", flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
