"""Progress of a long command on stderr: a bar on a terminal, plain lines otherwise.

``audit verify``, ``export``, ``accounts import``/``sync`` and ``purge`` can
run for minutes on a call center's database. The database function reports
``(done, total)`` through a callback (``db.types.Progress``; total None when
not known ahead, e.g. rows of a file being read); ``progress`` turns that
into a Rich bar when stderr is a terminal, and into a plain line every
``INTERVAL_SECONDS`` when it is a file or a pipe (and one at the end, once
there was one), so a log shows a long command is alive without filling up,
and a quick one adds nothing. Stdout stays the command's own output.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

# Plain lines (stderr not a terminal) at most this often.
INTERVAL_SECONDS = 5.0


@contextmanager
def progress(
    label: str,
    unit: str,
    stream: TextIO | None = None,
    interval: float | None = None,
) -> Iterator[Callable[[int, int | None], None]]:
    """A ``(done, total)`` callback showing ``label``'s progress in ``unit`` on ``stream``."""
    out = sys.stderr if stream is None else stream
    every = INTERVAL_SECONDS if interval is None else interval
    if out.isatty():
        with _bar(label, unit, out) as draw:
            yield draw
        return
    last = time.monotonic()
    state: tuple[int, int | None] | None = None
    printed = False

    def update(done: int, total: int | None) -> None:
        nonlocal last, state, printed
        state = (done, total)
        now = time.monotonic()
        if now - last >= every:
            last, printed = now, True
            print(_line(label, unit, done, total), file=out, flush=True)

    yield update
    if printed and state is not None:
        print(_line(label, unit, *state), file=out, flush=True)


def _line(label: str, unit: str, done: int, total: int | None) -> str:
    if total:
        return f"{label}: {done:,} of {total:,} {unit} ({done / total:.0%})"
    return f"{label}: {done:,} {unit}"


@contextmanager
def _bar(label: str, unit: str, out: TextIO) -> Iterator[Callable[[int, int | None], None]]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    # The label is the command's own words, never data: markup=False all the same.
    with Progress(*columns, console=Console(file=out), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update
