"""The per-value memo of the account rows never changes what a record parses to.

``db.accounts.rows`` validates each distinct set of a tenant's (and a
subscription's) raw values once and replays the result; a missing column is
keyed as blank text, and values that are not all text are keyed with their
types. Whatever a file holds, parsing it whole must give every line the row
and the reasons that line gets when parsed alone.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from db.accounts.rows import parse_records
from tests.db.test_import import GOOD

# Values that collide as dict keys (True == 1 == 1.0) or read alike ("" and
# missing), beside good ones and unhashable ones.
_VALUES = st.sampled_from(["", "1", "true", "US", "paid", None, True, 1, 1.0, 0, ["a"], {"k": 1}])
_MISSING = object()


@st.composite
def _records(draw: st.DrawFn) -> list[dict[str, object]]:
    """A few records that vary the same one or two of GOOD's fields, some dropped."""
    varied = draw(st.lists(st.sampled_from(sorted(GOOD)), min_size=1, max_size=2, unique=True))
    records = []
    for _ in range(draw(st.integers(2, 6))):
        record: dict[str, object] = dict(GOOD)
        for name in varied:
            value = draw(st.one_of(_VALUES, st.just(_MISSING)))
            if value is _MISSING:
                del record[name]
            else:
                record[name] = value
        records.append(record)
    return records


@settings(max_examples=300, deadline=None)
@given(_records())
def test_whole_file_parses_each_line_as_alone(records: list[dict[str, object]]) -> None:
    whole = parse_records(list(enumerate(records, start=2)), "US")
    alone_rows = []
    alone_bad = []
    for line, record in enumerate(records, start=2):
        parsed = parse_records([(line, record)], "US")
        alone_rows += parsed.rows
        # Only the record's own reasons: cross-row checks need the whole file.
        alone_bad += [b for b in parsed.bad if b.line == line]
    whole_own = {b.line: b.reason for b in whole.bad}
    assert [r.line for r in whole.rows] == [r.line for r in alone_rows]
    assert [r[1:] for r in whole.rows] == [r[1:] for r in alone_rows]
    for bad in alone_bad:
        assert whole_own[bad.line].startswith(bad.reason)
