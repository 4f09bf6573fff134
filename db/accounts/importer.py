"""Account import from CSV or JSON: every bad row reported, all or nothing.

The format is flat: one record per account user and subscription, carrying
its tenant's fields too (the column list is ``COLUMNS``; README.md documents
it; reading is ``db.accounts.file``, the per-line rules ``db.accounts.rows``).

Re-importing never updates (that is ``db.accounts.sync``): a ``tenant_ref`` or user ID
already in the database makes its row bad, so a file is imported once,
whole, or not at all. Rows are written with bulk inserts in one transaction,
with one ``accounts.imported`` audit event carrying the counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from db.accounts.file import (
    COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    AccountRecords,
    BadRow,
    ImportFileError,
    file_records,
)
from db.accounts.memo import collector_paused
from db.accounts.rows import (
    MIN_PIN_LENGTH,
    ParsedFile,
    counts,
    merge,
    parse_records,
)
from db.accounts.writes import (
    SUBSCRIPTION_COLUMNS,
    TENANT_COLUMNS,
    USER_COLUMNS,
    insert_rows,
    insert_tenants,
    subscription_values,
    tenant_values,
    user_values,
)
from db.audit.chain import append_event
from db.engine import unit_of_work
from db.models import AccountUser, Subscription, Tenant, TenantDomain
from db.progress import Progress
from db.types import utcnow
from verification.pin import hash_pin

__all__ = [
    "COLUMNS",
    "MIN_PIN_LENGTH",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "BadRow",
    "ImportFileError",
    "ImportReport",
    "import_accounts",
]

# Bound on the number of values in one IN (...) list: under SQLite's limit.
CHUNK = 500


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


@collector_paused()
def import_accounts(
    factory: sessionmaker[Session],
    source: str | Path | AccountRecords,
    dry_run: bool = False,
    default_region: str = "US",
    *,
    actor: str = "operator",
    progress: Progress | None = None,
) -> ImportReport:
    """Import the account file ``source`` (a ``.csv`` or ``.json`` file, or records).

    Raises ImportFileError when the file cannot be read or has an unknown
    extension; everything wrong inside the file is a bad row of the report.
    ``progress`` hears the rows read (their total is not known ahead).
    """
    batch = source if isinstance(source, AccountRecords) else file_records(source, progress)
    parsed = parse_records(batch.pairs, default_region, batch.errors)
    bad = parsed.bad
    with factory() as session:
        bad.extend(_check_database(session, parsed))
    bad = merge(bad)
    found = counts(parsed.distinct)
    write = not bad and not dry_run and bool(parsed.rows)
    if write:
        _write(factory, parsed, batch.source, actor, found)
    return ImportReport(
        source=batch.source,
        dry_run=dry_run,
        written=write,
        rows=parsed.count,
        bad_rows=tuple(bad),
        **found,
    )


def _check_database(session: Session, parsed: ParsedFile) -> list[BadRow]:
    """Rows whose tenant or user ID is already in the database."""
    refs = existing(session, Tenant.ref, set(parsed.distinct.tenants))
    user_ids = existing(session, AccountUser.user_id, set(parsed.distinct.users))
    if not refs and not user_ids:
        return []
    bad = []
    for row in parsed.rows:
        reasons = []
        if row.tenant_ref in refs:
            reasons.append(f"tenant {row.tenant_ref!r} already exists (re-import never updates)")
        if row.user_id in user_ids:
            reasons.append(f"duplicate user ID {row.user_id}: already in the database")
        if reasons:
            bad.append(BadRow(row.line, "; ".join(reasons)))
    return bad


def existing(session: Session, column: InstrumentedAttribute[str], values: set[str]) -> set[str]:
    """Which of ``values`` are in ``column`` already."""
    stored = session.scalar(select(func.count()).select_from(column.class_)) or 0
    if stored <= 4 * len(values):
        # Fewer rows than a few IN lists would probe: read the column whole.
        return values & set(session.scalars(select(column)))
    ordered = sorted(values)
    found: set[str] = set()
    for i in range(0, len(ordered), CHUNK):
        chunk = ordered[i : i + CHUNK]
        found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found


# --- writing ---------------------------------------------------------------


def _write(
    factory: sessionmaker[Session],
    parsed: ParsedFile,
    source: str,
    actor: str,
    found: Mapping[str, int],
) -> None:
    """Insert every tenant, domain, user and subscription in one transaction."""
    tenants = {ref: row.tenant for ref, row in parsed.distinct.tenants.items()}
    # The slow PIN hashes are made before the write lock is taken.
    pins = {ref: hash_pin(t.support_pin) for ref, t in tenants.items() if t.support_pin}
    # One time for the whole import, rather than a default computed per row.
    now = utcnow()
    new_tenants = [(ref, now, *tenant_values(t, pins.get(ref))) for ref, t in tenants.items()]
    with unit_of_work(factory) as session:
        ids = insert_tenants(session, ("ref", "created_at", *TENANT_COLUMNS), new_tenants)
        insert_rows(
            session,
            TenantDomain,
            ("tenant_id", "domain"),
            [(ids[ref], domain) for ref, t in tenants.items() for domain in t.domains],
        )
        users = parsed.distinct.users
        insert_rows(
            session,
            AccountUser,
            USER_COLUMNS,
            [user_values(user_id, row.user, ids[row.tenant_ref]) for user_id, row in users.items()],
        )
        subscriptions = parsed.distinct.subscriptions
        insert_rows(
            session,
            Subscription,
            ("tenant_id", "product_name", *SUBSCRIPTION_COLUMNS),
            [
                (ids[ref], product, *subscription_values(row.subscription, now))
                for (ref, product), row in subscriptions.items()
            ],
        )
        append_event(
            session,
            actor=actor,
            type="accounts.imported",
            payload={"source": source, "rows": len(parsed.rows), **found},
        )
