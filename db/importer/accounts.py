"""Account import from CSV or JSON: every bad row reported, all or nothing.

The format is flat: one record per account user and subscription, carrying
its tenant's fields too (the column list is ``COLUMNS``; README.md documents
it). Rows sharing a ``tenant_ref`` must agree on every tenant field; rows
sharing a ``tenant_ref`` and ``product_name`` describe one subscription and
must agree on its fields; a user ID may appear on several rows of one tenant
(one per subscription) with the same user fields, and nowhere else.

Re-importing never updates: a ``tenant_ref`` or user ID already in the
database makes its row bad, so a file is imported once, whole, or not at all.
Rows are written with bulk inserts in one transaction, with one
``accounts.imported`` audit event carrying the counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from db.audit import append_event
from db.engine import unit_of_work
from db.importer.files import BadRow, ImportFileError, csv_records, json_records
from db.importer.rows import Memo, Parts, Row, parse_row
from db.models import AccountUser, Base, Subscription, Tenant, TenantDomain
from db.types import utcnow
from verification.pin import hash_pin

# Bound on the number of values in one IN (...) list: under SQLite's limit.
_CHUNK = 500


@dataclass(frozen=True)
class ImportReport:
    """What an import found and did (``written`` is false on a dry run or a bad file)."""

    source: str
    dry_run: bool
    written: bool
    rows: int
    tenants: int
    users: int
    subscriptions: int
    domains: int
    pins: int
    bad_rows: tuple[BadRow, ...]

    @property
    def ok(self) -> bool:
        """Whether every row was good."""
        return not self.bad_rows


def import_accounts(
    factory: sessionmaker[Session],
    path: str | Path,
    dry_run: bool = False,
    default_region: str = "US",
    *,
    actor: str = "operator",
) -> ImportReport:
    """Import the account file at ``path`` (``.csv`` or ``.json``).

    Raises ImportFileError when the file cannot be read or has an unknown
    extension; everything wrong inside the file is a bad row of the report.
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
    return import_records(
        factory,
        records,
        dry_run=dry_run,
        default_region=default_region,
        source=file.name,
        actor=actor,
        file_errors=bad,
    )


def import_records(
    factory: sessionmaker[Session],
    records: Iterable[tuple[int, Mapping[str, object]]],
    *,
    dry_run: bool = False,
    default_region: str = "US",
    source: str = "records",
    actor: str = "operator",
    file_errors: Sequence[BadRow] = (),
) -> ImportReport:
    """Validate ``(line, record)`` pairs and write them all, or nothing.

    ``file_errors`` are problems the reader found (bad header, bad JSON);
    reading is lazy, so they are complete only once ``records`` is consumed.
    """
    bad: list[BadRow] = []
    rows: list[Row] = []
    memo: Memo = {}
    count = 0
    for line, record in records:
        count += 1
        row, reasons = parse_row(line, record, default_region, memo)
        if reasons:
            bad.append(BadRow(line, "; ".join(reasons)))
        elif row is not None:
            rows.append(row)
    bad.extend(file_errors)
    if count == 0 and not bad:
        bad.append(BadRow(1, "no account rows: nothing to import"))
    bad.extend(_cross_check(rows))
    with factory() as session:
        bad.extend(_check_database(session, rows))
    bad = _merge(bad)
    counts = _counts(rows)
    write = not bad and not dry_run and bool(rows)
    if write:
        _write(factory, rows, source, actor, counts)
    return ImportReport(
        source=source,
        dry_run=dry_run,
        written=write,
        rows=count,
        bad_rows=tuple(bad),
        **counts,
    )


def _merge(bad: list[BadRow]) -> list[BadRow]:
    """One bad row per line, in file order, with every reason found for it."""
    reasons: dict[int, list[str]] = {}
    for row in bad:
        reasons.setdefault(row.line, []).append(row.reason)
    return [BadRow(line, "; ".join(reasons[line])) for line in sorted(reasons)]


# --- across rows and against the database ----------------------------------


def _cross_check(rows: list[Row]) -> list[BadRow]:
    """Rows that contradict an earlier row of the file."""
    bad: list[BadRow] = []
    tenants: dict[str, Row] = {}
    subscriptions: dict[tuple[str, str], Row] = {}
    users: dict[str, Row] = {}
    pairs: dict[tuple[str, str], Row] = {}
    for row in rows:
        reasons: list[str] = []
        first = tenants.setdefault(row.tenant_ref, row)
        if first.tenant != row.tenant:
            names = _differing(first.tenant, row.tenant)
            reasons.append(f"tenant {row.tenant_ref!r} differs from line {first.line} in {names}")
        key = (row.tenant_ref, row.product_name)
        first = subscriptions.setdefault(key, row)
        if first.subscription != row.subscription:
            names = _differing(first.subscription, row.subscription)
            reasons.append(
                f"subscription {row.product_name!r} differs from line {first.line} in {names}"
            )
        first = users.setdefault(row.user_id, row)
        if first.tenant_ref != row.tenant_ref:
            reasons.append(f"duplicate user ID {row.user_id}: already on line {first.line}")
        elif first.user != row.user:
            names = _differing(first.user, row.user)
            reasons.append(f"user {row.user_id} differs from line {first.line} in {names}")
        first = pairs.setdefault((row.user_id, row.product_name), row)
        if first is not row and first.tenant_ref == row.tenant_ref:
            reasons.append(f"duplicate of line {first.line} (same user ID and product)")
        if reasons:
            bad.append(BadRow(row.line, "; ".join(reasons)))
    return bad


def _differing(a: Parts, b: Parts) -> str:
    return ", ".join(f.name for f in fields(a) if getattr(a, f.name) != getattr(b, f.name))


def _check_database(session: Session, rows: list[Row]) -> list[BadRow]:
    """Rows whose tenant or user ID is already in the database."""
    refs = _existing(session, Tenant.ref, {row.tenant_ref for row in rows})
    user_ids = _existing(session, AccountUser.user_id, {row.user_id for row in rows})
    bad = []
    for row in rows:
        reasons = []
        if row.tenant_ref in refs:
            reasons.append(f"tenant {row.tenant_ref!r} already exists (re-import never updates)")
        if row.user_id in user_ids:
            reasons.append(f"duplicate user ID {row.user_id}: already in the database")
        if reasons:
            bad.append(BadRow(row.line, "; ".join(reasons)))
    return bad


def _existing(session: Session, column: InstrumentedAttribute[str], values: set[str]) -> set[str]:
    ordered = sorted(values)
    found: set[str] = set()
    for i in range(0, len(ordered), _CHUNK):
        chunk = ordered[i : i + _CHUNK]
        found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found


# --- writing ---------------------------------------------------------------


def _counts(rows: list[Row]) -> dict[str, int]:
    tenants = {row.tenant_ref: row.tenant for row in rows}
    return {
        "tenants": len(tenants),
        "users": len({row.user_id for row in rows}),
        "subscriptions": len({(row.tenant_ref, row.product_name) for row in rows}),
        "domains": sum(len(t.domains) for t in tenants.values()),
        "pins": sum(1 for t in tenants.values() if t.support_pin),
    }


def _write(
    factory: sessionmaker[Session],
    rows: list[Row],
    source: str,
    actor: str,
    counts: Mapping[str, int],
) -> None:
    """Insert every tenant, domain, user and subscription in one transaction."""
    tenants = {row.tenant_ref: row.tenant for row in rows}
    # The slow PIN hashes are made before the write lock is taken.
    pins = {ref: hash_pin(t.support_pin) for ref, t in tenants.items() if t.support_pin}
    # One time for the whole import, rather than a default computed per row.
    now = utcnow()
    tenant_values = [
        {
            "ref": ref,
            "organization": t.organization,
            "contact_first_name": t.contact_first_name,
            "contact_last_name": t.contact_last_name,
            "phone_e164": t.phone,
            "address_line1": t.address_line1,
            "address_line2": t.address_line2,
            "city": t.city,
            "region": t.region,
            "postal_code": t.postal_code,
            "country": t.country,
            "support_pin_hash": pins.get(ref),
            "created_at": now,
        }
        for ref, t in tenants.items()
    ]
    with unit_of_work(factory) as session:
        table = Base.metadata.tables[Tenant.__tablename__]
        # Ids come back paired with refs, so the rows' order does not matter
        # and SQLite can batch the RETURNING insert.
        inserted = session.execute(insert(table).returning(table.c.ref, table.c.id), tenant_values)
        ids: dict[str, int] = {ref: id_ for ref, id_ in inserted}
        _insert(
            session,
            TenantDomain,
            [
                {"tenant_id": ids[ref], "domain": domain}
                for ref, t in tenants.items()
                for domain in t.domains
            ],
        )
        users = {row.user_id: row for row in rows}
        _insert(
            session,
            AccountUser,
            [
                {
                    "user_id": user_id,
                    "display_name": row.user.display_name,
                    "tenant_id": ids[row.tenant_ref],
                    "is_admin": row.user.is_admin,
                }
                for user_id, row in users.items()
            ],
        )
        subscriptions = {(row.tenant_ref, row.product_name): row for row in rows}
        _insert(
            session,
            Subscription,
            [
                {
                    "tenant_id": ids[ref],
                    "product_name": product,
                    "kind": row.subscription.kind,
                    "channel": row.subscription.channel,
                    "term_start": row.subscription.term_start,
                    "term_end": row.subscription.term_end,
                    "auto_renew": row.subscription.auto_renew,
                    "status": row.subscription.status,
                    "canceled_at": row.subscription.canceled_at,
                    "data_deletion_on": row.subscription.data_deletion_on,
                    "updated_at": now,
                }
                for (ref, product), row in subscriptions.items()
            ],
        )
        append_event(
            session,
            actor=actor,
            type="accounts.imported",
            payload={"source": source, "rows": len(rows), **counts},
        )


def _insert(session: Session, model: type[Base], values: list[dict[str, object]]) -> None:
    # A Core insert of the table skips the ORM's per-row bookkeeping.
    if values:
        session.execute(insert(Base.metadata.tables[model.__tablename__]), values)
