"""Validation on two cores gives exactly what one core gives: rows, bad lines, order."""

from __future__ import annotations

import pytest

from db import account_rows
from db.account_rows import parse_records
from tests.db.test_import import row


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
