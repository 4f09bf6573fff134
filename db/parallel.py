"""Pure CPU work split over two processes: PRODUCT.md section 9 asks for both cores.

The one home of how callgate forks for work: the second half of the items
goes to a forked child (its input is inherited, not pickled; only its result
is sent back), the first half is done here meanwhile. Where fork is not
available, no second core is free (the load average says the cores are
busy: a child would only queue behind other work and the parent wait for
it), the input is small, or the child fails, the work is done here, whole:
the result is the same either way.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import TypeVar

_START_METHODS = frozenset(multiprocessing.get_all_start_methods())
T = TypeVar("T")
R = TypeVar("R")


def in_two(
    work: Callable[[Sequence[T]], R],
    items: Sequence[T],
    minimum: int,
    pack: Callable[[R], object] | None = None,
    unpack: Callable[[object], R] | None = None,
) -> list[R]:
    """``work`` of the items' halves, in order (one result when not split).

    ``pack`` and ``unpack`` carry the child's result across the pipe when
    plain tuples pickle much faster than the result itself.
    """
    if len(items) < minimum or not _core_free() or "fork" not in _START_METHODS:
        return [work(items)]
    half = len(items) // 2
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(work, items[half:], writer, pack), daemon=True)
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
    if not done:
        return [mine, work(items[half:])]
    return [mine, unpack(theirs) if unpack is not None else theirs]


def _core_free() -> bool:
    cores = os.cpu_count() or 1
    return cores >= 2 and os.getloadavg()[0] <= cores - 1


def _child(
    work: Callable[[Sequence[T]], R],
    items: Sequence[T],
    writer: Connection,
    pack: Callable[[R], object] | None,
) -> None:
    try:
        result = work(items)
        writer.send((True, pack(result) if pack is not None else result))
    except Exception:  # e.g. a result that cannot be pickled: the parent redoes it
        writer.send((False, None))
    finally:
        writer.close()
