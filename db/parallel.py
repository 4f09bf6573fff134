"""Pure CPU work split over two processes: PRODUCT.md section 9 asks for both cores.

The one home of how callgate forks for work: the second half of the items
goes to a forked child (its input is inherited, not pickled; only its result
is sent back), the first half is done here meanwhile. Where fork is not
available, there is one core, the input is small, or the child fails, the
work is done here, whole: the result is the same either way.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def in_two(work: Callable[[Sequence[T]], R], items: Sequence[T], minimum: int) -> list[R]:
    """``work`` of the items' halves, in order (one result when not split)."""
    if (
        len(items) < minimum
        or (os.cpu_count() or 1) < 2
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return [work(items)]
    half = len(items) // 2
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(work, items[half:], writer), daemon=True)
    child.start()
    writer.close()
    try:
        mine = work(items[:half])
        try:
            done, theirs = reader.recv()
        except EOFError:  # the child died: its half is done here
            done, theirs = False, None
    finally:
        reader.close()
        child.join()
    return [mine, theirs if done else work(items[half:])]


def _child(work: Callable[[Sequence[T]], R], items: Sequence[T], writer: Connection) -> None:
    try:
        writer.send((True, work(items)))
    except Exception:  # e.g. a result that cannot be pickled: the parent redoes it
        writer.send((False, None))
    finally:
        writer.close()
