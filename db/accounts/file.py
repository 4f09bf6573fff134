"""Reading an account file (CSV or JSON) into ``(line, record)`` pairs.

The one home of what a readable account file is: its columns, its header,
its JSON shape (no field named twice in an object), and the limits that keep
a hostile file a bad line instead of a traceback (nesting, number sizes,
non-finite numbers). What the values
mean is ``db.accounts.rows``; import and sync both read files through here.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from db.progress import Progress, counted

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
# No account field is a number this long; Python refuses ints over 4,300 digits.
MAX_NUMBER_DIGITS = 64

Records = Iterator[tuple[int, dict[str, object]]]


class ImportFileError(ValueError):
    """The file cannot be read as an account file at all (not a bad row)."""


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be imported, with its line in the file."""

    line: int
    reason: str


class _BadNumber(ValueError):
    """A JSON number no account field can hold; the message says why."""


@dataclass(frozen=True)
class AccountRecords:
    """``(line, record)`` pairs with their source's name and the problems reading them found.

    Reading is lazy: ``errors`` (bad header, bad JSON) is complete only once
    ``pairs`` is consumed.
    """

    pairs: Iterable[tuple[int, Mapping[str, object]]]
    source: str = "records"
    errors: Sequence[BadRow] = ()


def file_records(path: str | Path, progress: Progress | None) -> AccountRecords:
    """The records of the account file at ``path``, counted to ``progress`` as they are read.

    Raises ImportFileError as ``read_account_file`` does.
    """
    source, records, bad = read_account_file(path)
    return AccountRecords(counted(records, progress), source, bad)


def read_account_file(path: str | Path) -> tuple[str, Records, list[BadRow]]:
    """The file's name, its records (lazy) and the list its reading problems go to.

    Raises ImportFileError when the file cannot be read or has an unknown
    extension. The problem list is complete once the records are consumed.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ImportFileError(f"{file}: expected a .csv or .json file")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{file}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise ImportFileError(f"cannot read {file}: {exc.strerror}") from exc
    bad: list[BadRow] = []
    records = csv_records(text, bad) if suffix == ".csv" else json_records(text, bad)
    return file.name, records, bad


def csv_records(text: str, bad: list[BadRow]) -> Records:
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
    width = len(header)
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            bad.append(BadRow(start, f"unreadable CSV: {exc}"))
            return
        line, start = start, reader.line_num + 1
        if not "".join(values).strip():  # a blank line, or only separators
            continue
        if len(values) != width:
            bad.append(BadRow(line, f"{len(values)} values for {width} columns"))
            continue
        yield line, dict(zip(header, values, strict=True))


def _header_problems(header: list[str]) -> str:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [shown_name(c) for c in header if c not in COLUMNS]
    repeated = sorted({c for c in header if header.count(c) > 1})
    parts = []
    if missing:
        parts.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        parts.append(f"unknown column(s): {', '.join(unknown)}")
    if repeated:
        parts.append(f"repeated column(s): {', '.join(repeated)}")
    return "; ".join(parts)


def shown_name(name: str) -> str:
    """A field name from the file as a message may quote it (quoted if odd)."""
    if name.isprintable() and name.isascii():
        return name
    return repr(name)


def _parse_int(digits: str) -> int:
    count = len(digits.lstrip("-"))
    if count > MAX_NUMBER_DIGITS:
        raise _BadNumber(f"number with {count} digits (at most {MAX_NUMBER_DIGITS})")
    return int(digits)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        raise _BadNumber(f"number with {len(text)} characters (at most {MAX_NUMBER_DIGITS})")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _BadNumber(f"number out of range: {text}")
    return value


def _refuse_constant(name: str) -> object:
    raise _BadNumber(f"{name} is not JSON")


def _decoder(repeated: list[str]) -> json.JSONDecoder:
    """A decoder that notes each field named twice in one object into ``repeated``.

    json keeps the last of two equal keys without a word; a file that says a
    field twice is as ambiguous as a CSV header naming a column twice.
    """

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        found: dict[str, object] = {}
        for key, value in items:
            if key in found:
                repeated.append(key)
            found[key] = value
        return found

    return json.JSONDecoder(
        parse_int=_parse_int,
        parse_float=_parse_float,
        parse_constant=_refuse_constant,
        object_pairs_hook=pairs,
    )


def json_records(text: str, bad: list[BadRow]) -> Records:
    """The objects of a top-level JSON array, each with the line it starts on."""
    pos = _skip_space(text, 0)
    if not text.startswith("[", pos):
        bad.append(BadRow(_line_at(text, pos), "expected a JSON array of account objects"))
        return
    line, counted = 1, 0
    repeated: list[str] = []
    decoder = _decoder(repeated)
    pos = _skip_space(text, pos + 1)
    if text.startswith("]", pos):
        return
    while True:
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            repeated.clear()
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            bad.append(BadRow(exc.lineno, f"invalid JSON: {exc.msg}"))
            return
        except _BadNumber as exc:
            bad.append(BadRow(line, f"invalid JSON: {exc}"))
            return
        except RecursionError:
            bad.append(BadRow(line, "invalid JSON: nested too deeply"))
            return
        if repeated:
            names = ", ".join(shown_name(n) for n in sorted(set(repeated)))
            bad.append(BadRow(line, f"repeated field(s): {names}"))
        elif isinstance(value, dict):
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
