"""Reading an account file: its columns, and its records one by one with their lines.

CSV needs a header naming the columns (``COLUMNS``; README.md documents
them); JSON is a top-level array of objects. Reading is lazy and never
raises for what is inside the file: each problem is a ``BadRow`` appended
to the list the caller passes, so every bad row is reported at once.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

REQUIRED_COLUMNS = (
    "tenant_ref",
    "organization",
    "contact_first_name",
    "contact_last_name",
    "phone",
    "address_line1",
    "city",
    "country",
    "user_id",
    "product_name",
    "kind",
    "channel",
    "term_start",
    "term_end",
    "status",
)
OPTIONAL_COLUMNS = (
    "address_line2",
    "region",
    "postal_code",
    "domains",
    "support_pin",
    "display_name",
    "is_admin",
    "auto_renew",
    "canceled_at",
    "data_deletion_on",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
COLUMN_SET = frozenset(COLUMNS)


class ImportFileError(ValueError):
    """The file cannot be read as an account file at all (not a bad row)."""


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be imported, with its line in the file."""

    line: int
    reason: str


def csv_records(text: str, bad: list[BadRow]) -> Iterator[tuple[int, dict[str, object]]]:
    """Records of a CSV file with a header row, each with its first line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        bad.append(BadRow(1, "the file is empty: expected a header row"))
        return
    except csv.Error as exc:
        bad.append(BadRow(1, f"unreadable header: {exc}"))
        return
    problems = _header_problems(header)
    if problems:
        bad.append(BadRow(1, problems))
        return
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            bad.append(BadRow(start, f"unreadable CSV: {exc}"))
            return
        line, start = start, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            bad.append(BadRow(line, f"{len(values)} values for {len(header)} columns"))
            continue
        yield line, dict(zip(header, values, strict=True))


def _header_problems(header: list[str]) -> str:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    repeated = sorted({c for c in header if header.count(c) > 1})
    parts = []
    if missing:
        parts.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        parts.append(f"unknown column(s): {', '.join(unknown)}")
    if repeated:
        parts.append(f"repeated column(s): {', '.join(repeated)}")
    return "; ".join(parts)


def json_records(text: str, bad: list[BadRow]) -> Iterator[tuple[int, dict[str, object]]]:
    """The objects of a top-level JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    pos = _skip_space(text, 0)
    if not text.startswith("[", pos):
        bad.append(BadRow(_line_at(text, pos), "expected a JSON array of account objects"))
        return
    line, counted = 1, 0
    pos = _skip_space(text, pos + 1)
    if text.startswith("]", pos):
        return
    while True:
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            bad.append(BadRow(exc.lineno, f"invalid JSON: {exc.msg}"))
            return
        if isinstance(value, dict):
            yield line, value
        else:
            bad.append(BadRow(line, "expected an object"))
        pos = _skip_space(text, end)
        if text.startswith("]", pos):
            if text[_skip_space(text, pos + 1) :]:
                bad.append(BadRow(_line_at(text, pos + 1), "text after the JSON array"))
            return
        if not text.startswith(",", pos):
            bad.append(BadRow(_line_at(text, pos), "invalid JSON: expected ',' or ']'"))
            return
        pos = _skip_space(text, pos + 1)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1
