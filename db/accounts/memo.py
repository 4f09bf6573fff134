"""Validating a large account file cheaply: each distinct group of values once.

The one home of the shortcuts that make import and sync of 100,000 accounts
fast without changing a result: the rows of one tenant (or subscription)
repeat its fields, so ``memoized`` validates each distinct set of raw values
once and replays its result and reasons (``tests/db/test_import_memo.py``
holds it to parsing each line alone); and ``collector_paused`` keeps the
cyclic garbage collector off while the rows are built.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import repeat
from typing import TypeVar, cast

from db.accounts.fields import FieldReader

# Parsed field groups of one kind by their raw values, with the reasons they were bad.
Memo = dict[object, tuple[object, list[str]]]
T = TypeVar("T")


def memoized(memo: Memo, f: FieldReader, columns: tuple[str, ...], parse: Callable[[], T]) -> T:
    """``parse()`` once per distinct set of raw values of ``columns``.

    The rows of one tenant repeat its fields, so each set is validated once;
    the reasons it was bad are replayed on every row that repeats it.
    """
    # A column the file lacks reads as "": every reader takes a missing value
    # as blank text, so both parse alike, and the key stays all text.
    raw = tuple(map(f.record.get, columns, repeat("")))
    key: object = raw
    try:
        # Values all text, the usual case, are their own key (``_memo_key``):
        # only such a key can equal them, so a hit needs no other.
        known = memo.get(raw)
    except TypeError:  # a JSON list or object among the values
        known = None
    if known is None:
        key = _memo_key(raw)
        known = memo.get(key)
    if known is not None:
        f.reasons.extend(known[1])
        return cast(T, known[0])
    before = len(f.reasons)
    parsed = parse()
    memo[key] = (parsed, f.reasons[before:])
    return parsed


def _memo_key(raw: tuple[object, ...]) -> object:
    """The memo key of a group's raw values: the values themselves when all are text.

    Otherwise the types are part of the key, because True == 1 == 1.0 as
    dict keys, and a JSON list or object (unhashable) is keyed by its repr.
    The three kinds of key never equal one another.
    """
    try:
        "".join(raw)  # type: ignore[arg-type]  # C-speed: fails on any value that is not text
    except TypeError:
        pass
    else:
        return raw
    typed = (raw, tuple(map(type, raw)))
    try:
        hash(typed)
    except TypeError:
        return repr(raw)
    return typed


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while an import or sync builds its rows.

    Hundreds of thousands of small acyclic objects (records, rows, values)
    each trigger the collector's scans of every younger object, about a
    third of the validation's time; nothing of them needs the collector,
    which is turned back on (if it was on) at the end.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
