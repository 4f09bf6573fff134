"""Export the calls a filter selects, as CSV or JSON, streamed row by row.

The rows are exactly those of the supervisor's request list (the same
query), read with ``yield_per`` so a year of calls never sits in memory.
Personal data is masked unless a supervisor asks otherwise. CSV cells that a
spreadsheet would run as a formula are neutralized here (``csv_cell``, the one
home of that rule). Every export appends an ``export`` audit event before its
first row is written (an export that cannot be recorded writes nothing), and
the chain head after it is returned, so whoever keeps the file can also keep
the head outside the database.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.engine import unit_of_work
from db.progress import Progress, counted
from db.review import (
    NotSupervisor,
    RequestFilter,
    in_call_tenants,
    organization_is_broad,
    parse_search,
    request_query,
    require_supervisor,
)
from verification.phone import mask_phone
from verification.userid import mask_user_id

Format = Literal["csv", "json"]
FIELDS = (
    "call_id",
    "started_at",
    "ended_at",
    "agent",
    "tenant_ref",
    "organization",
    "contact",
    "phone",
    "caller_user_id",
    "state",
    "outcome",
    "reviewed_at",
    "references",
)
# Rows fetched per round trip: enough to be fast, few enough to stay small.
BATCH = 1_000
# OWASP's CSV-injection rule: a cell starting with one of these is run as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportReport:
    """What was written and the audit chain head that records it."""

    rows: int
    masked: bool
    head_seq: int
    head_hash: str


def export_rows(
    factory: sessionmaker[Session],
    filters: RequestFilter,
    *,
    masked: bool,
    requested_by: int | None = None,
) -> Iterator[dict[str, str]]:
    """The selected calls newest first, one flat record each, streamed.

    Personal data in clear (``masked=False``) only for ``requested_by`` being a
    supervisor: checked here, before the first row, so no caller can skip it.
    Raises ``NotSupervisor`` otherwise.
    """
    hidden: frozenset[int] = frozenset()
    if not masked:
        with factory() as session:
            if requested_by is None:
                raise NotSupervisor("personal data in clear needs a supervisor")
            require_supervisor(session, requested_by)
            # Nothing of a tenant the supervisor has a call open with, as in the list.
            hidden = in_call_tenants(session, requested_by)
    return _rows(factory, filters, masked, hidden)


def _rows(
    factory: sessionmaker[Session], filters: RequestFilter, masked: bool, hidden: frozenset[int]
) -> Iterator[dict[str, str]]:
    with factory() as session:
        broad = organization_is_broad(session, filters)
        query = request_query(filters, broad_organization=broad, hidden=hidden)
        result = session.execute(query.execution_options(yield_per=BATCH))
        for row in result:
            yield _record(row, masked)


def write_export(
    factory: sessionmaker[Session],
    out: TextIO,
    fmt: Format,
    filters: RequestFilter,
    *,
    actor: str,
    now: datetime,
    unmasked_for: int | None = None,
    progress: Progress | None = None,
) -> ExportReport:
    """Record the export in the audit chain, then write the selected calls to ``out``.

    The ``export`` event is committed before the first byte is written, so
    data never leaves without its record: a database that cannot take the
    event (read-only, full) raises and nothing is written. Its ``rows`` is the
    count the filter selected then; the report gives the rows written.
    ``unmasked_for`` is the id of the supervisor who asked for personal data
    in clear; anyone else (or None) gets it masked. Raises ``NotSupervisor``
    for an unmasked export asked by someone who is not one. ``progress``
    hears the rows written against the rows selected.
    """
    masked = unmasked_for is None
    records = export_rows(factory, filters, masked=masked, requested_by=unmasked_for)
    with unit_of_work(factory) as session:
        broad = organization_is_broad(session, filters)
        hidden = in_call_tenants(session, unmasked_for)
        query = request_query(filters, broad_organization=broad, hidden=hidden)
        selected = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        event = append_event(
            session,
            actor=actor,
            type="export",
            payload={
                "format": fmt,
                "rows": selected,
                "masked": masked,
                "filters": _filter_payload(filters),
            },
            at=now,
        )
    seq, digest = event.seq, event.hash  # chained as the transaction committed
    records = counted(records, progress, selected)
    count = _write_csv(out, records) if fmt == "csv" else _write_json(out, records)
    return ExportReport(count, masked, seq, digest)


def _write_csv(out: TextIO, records: Iterator[dict[str, str]]) -> int:
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow({name: csv_cell(value) for name, value in record.items()})
        count += 1
    return count


def csv_cell(value: str) -> str:
    """``value`` as a CSV cell no spreadsheet runs: a leading formula character gets a ``'``."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _write_json(out: TextIO, records: Iterator[dict[str, str]]) -> int:
    """A JSON array written one element at a time, so it never exists whole in memory."""
    out.write("[")
    count = 0
    for record in records:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(record, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _record(row: Any, masked: bool) -> dict[str, str]:
    contact = f"{row.contact_first_name or ''} {row.contact_last_name or ''}".strip()
    phone = row.phone_e164 or ""
    user_id = row.user_id or ""
    if masked:
        contact = _initials(contact)
        phone = mask_phone(phone)
        user_id = mask_user_id(user_id)
    return {
        "call_id": str(row.id),
        "started_at": _iso(row.started_at),
        "ended_at": _iso(row.ended_at),
        "agent": row.username,
        "tenant_ref": row.ref or "",
        "organization": row.organization or "",
        "contact": contact,
        "phone": phone,
        "caller_user_id": user_id,
        "state": row.state.value,
        "outcome": row.outcome.value if row.outcome else "",
        "reviewed_at": _iso(row.reviewed_at),
        "references": row.references or "",
    }


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def _initials(name: str) -> str:
    """``Jo Park`` as ``J. P.``: enough to tell callers apart, not to name them."""
    return " ".join(f"{part[0]}." for part in name.split())


def _filter_payload(filters: RequestFilter) -> dict[str, object]:
    """The filter as ids and values for the audit payload."""
    return {
        "started_from": _iso(filters.started_from) or None,
        "started_before": _iso(filters.started_before) or None,
        "agent_id": filters.agent_id,
        "outcome": filters.outcome.value if filters.outcome else None,
        "kind": filters.kind.value if filters.kind else None,
        "channel": filters.channel.value if filters.channel else None,
        # Whether a name search was set, not its text: the chain outlives any purge.
        "organization_search": bool(filters.organization.strip()),
        "search": _search_kind(filters),
    }


def _search_kind(filters: RequestFilter) -> str | None:
    """What the search box was read as (never what it held)."""
    search = parse_search(filters.search, filters.region)
    return search.kind.value if search is not None else None
