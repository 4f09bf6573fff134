"""How a long operation reports progress: ``(done, total)`` to a callback.

The command line draws it (``tui/commands/progress.py``); db/ only counts.
``total`` is None when not known ahead (rows of a file still being read).
Callbacks are called from the operation's own thread, every ``EVERY`` items
or so, never per item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Progress = Callable[[int, int | None], None]
T = TypeVar("T")

# Items between two calls of the callback.
EVERY = 1000


def counted(items: Iterable[T], progress: Progress | None, total: int | None = None) -> Iterator[T]:
    """``items`` unchanged, reporting how many went by every ``EVERY`` and at the end."""
    done = 0
    for item in items:
        yield item
        done += 1
        if progress is not None and done % EVERY == 0:
            progress(done, total)
    if progress is not None:
        progress(done, total if total is not None else done)
