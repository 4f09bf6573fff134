"""Validation on two cores gives exactly what one core gives: rows, bad lines, order.

The load-average probe (``db.parallel._core_free``) is set to "a core is free"
so that the split runs on a busy test machine too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest

from db import account_rows, parallel
from db.account_rows import parse_records
from tests.db.test_import import row


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_core_free", lambda: True)


def _pids(items: Sequence[int]) -> tuple[int, int]:
    return os.getpid(), sum(items)


@pytest.mark.usefixtures("two_cores")
def test_the_second_half_runs_in_another_process() -> None:
    (mine, first), (theirs, second) = parallel.in_two(_pids, list(range(10)), minimum=2)
    assert mine == os.getpid() != theirs
    assert (first, second) == (sum(range(5)), sum(range(5, 10)))


@pytest.mark.usefixtures("two_cores")
def test_split_parse_equals_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [
        (n + 2, row(tenant_ref=f"T-{n // 3}", user_id=f"u{n}@x.example", is_admin=str(n % 2 == 0)))
        for n in range(60)
    ]
    records[7] = (9, {**records[7][1], "phone": "12"})  # bad in the first half
    records[45] = (47, {**records[45][1], "kind": "free"})  # and in the second
    whole = parse_records(records, "US")
    monkeypatch.setattr(account_rows, "_PARALLEL_MINIMUM", 10)
    split = parse_records(records, "US")
    assert split.rows == whole.rows and split.bad == whole.bad and split.count == 60
    assert {b.line for b in split.bad} >= {9, 47}
