"""A process for the crash test: appends audit events until it is killed.

Run as ``python -m tests.helpers.append_worker URL NAME``. Each event is its
own unit of work; its seq is printed (and flushed) only after the commit
returned, so every printed seq is a promise that the event is durable.
"""

from __future__ import annotations

import sys

from db.audit.chain import append_event
from db.engine import make_engine, make_sessionmaker, unit_of_work


def main(url: str, name: str) -> None:
    """Append events forever, reporting each committed seq on stdout."""
    factory = make_sessionmaker(make_engine(url))
    n = 0
    while True:
        n += 1
        with unit_of_work(factory) as session:
            event = append_event(
                session, actor=name, type="crash.test", payload={"n": n, "by": name}
            )
        print(event.seq, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
