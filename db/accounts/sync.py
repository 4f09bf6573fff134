"""Accounts sync: the records on file brought in line with the system of record.

``sync_accounts`` reads the same files as the import (``db.accounts.file``,
``db.accounts.rows``: the same per-line errors), compares them with the
records on file (``db.accounts.sync_plan``) and applies every change in one
transaction with one ``accounts.synced`` audit event carrying counts only, or
nothing at all. Removed tenants and users are marked inactive, never
deleted; history is never edited (each item check keeps the on-file value it
was judged against). A file that matches the records changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from db.accounts.file import AccountRecords, BadRow, file_records
from db.accounts.memo import collector_paused
from db.accounts.rows import merge, parse_records
from db.accounts.sync_plan import Change, PinJudge, Plan, new_pins, plan_sync
from db.accounts.writes import (
    SUBSCRIPTION_COLUMNS,
    TENANT_COLUMNS,
    USER_COLUMNS,
    insert_rows,
    insert_tenants,
    subscription_values,
    table,
    tenant_values,
    update_rows,
    user_values,
)
from db.audit.chain import append_event
from db.engine import unit_of_work
from db.models import AccountUser, Subscription, Tenant, TenantDomain
from db.progress import Progress
from db.types import utcnow

SYNC_EVENT = "accounts.synced"
# Bound on the number of pairs in one IN (...) list: under SQLite's limit.
_CHUNK = 400


@dataclass(frozen=True)
class SyncReport:
    """What a sync found and did: the changes grouped, or the bad rows.

    ``written`` is false on a dry run, a bad file, or when nothing changed.
    """

    source: str
    dry_run: bool
    written: bool
    rows: int
    bad_rows: tuple[BadRow, ...]
    groups: tuple[tuple[str, tuple[Change, ...]], ...] = ()
    # Subscription changes not applied: a decision is not delivered to billing yet.
    held: tuple[Change, ...] = ()
    counts: Mapping[str, int] | None = None
    tenants_missing: int = 0
    users_missing: int = 0

    @property
    def ok(self) -> bool:
        """Whether every row was good."""
        return not self.bad_rows

    @property
    def unchanged(self) -> bool:
        """Whether the records on file already matched the file."""
        return self.ok and not any(changes for _, changes in self.groups)


@collector_paused()
def sync_accounts(
    factory: sessionmaker[Session],
    source: str | Path | AccountRecords,
    *,
    dry_run: bool = False,
    remove_missing: bool = False,
    default_region: str = "US",
    actor: str = "operator",
    progress: Progress | None = None,
) -> SyncReport:
    """Sync the records on file with the account file (or the records) ``source``.

    Raises ImportFileError when the file cannot be read at all. ``progress``
    hears the rows read (their total is not known ahead).
    """
    batch = source if isinstance(source, AccountRecords) else file_records(source, progress)
    parsed = parse_records(batch.pairs, default_region, batch.errors)
    bad = merge(parsed.bad)
    if bad:
        return SyncReport(batch.source, dry_run, False, parsed.count, tuple(bad))
    judge = PinJudge()
    if dry_run or any(row.tenant.support_pin for row in parsed.rows):
        # A dry run stops here; a real sync does the slow PIN work now,
        # before the write lock, and plans again under it below.
        with factory() as session:
            plan = plan_sync(session, parsed.rows, remove_missing, judge)
            _hash_new_pins(plan, judge)
    written = False
    if not dry_run:
        with unit_of_work(factory) as session:
            plan = plan_sync(session, parsed.rows, remove_missing, judge)
            if not plan.empty:
                _apply(session, plan, judge)
                append_event(session, actor=actor, type=SYNC_EVENT, payload=plan.counts())
                written = True
    return SyncReport(
        source=batch.source,
        dry_run=dry_run,
        written=written,
        rows=parsed.count,
        bad_rows=(),
        groups=_groups(plan),
        held=tuple(plan.subscriptions_held),
        counts=plan.counts(),
        tenants_missing=plan.tenants_missing,
        users_missing=plan.users_missing,
    )


def _hash_new_pins(plan: Plan, judge: PinJudge) -> None:
    for ref, pin in new_pins(plan):
        judge.hash(ref, pin)


def _groups(plan: Plan) -> tuple[tuple[str, tuple[Change, ...]], ...]:
    return (
        ("tenants added", tuple(plan.tenants_added)),
        ("tenants changed", tuple(plan.tenants_changed)),
        ("tenants removed", tuple(plan.tenants_removed)),
        ("users added", tuple(plan.users_added)),
        ("users changed", tuple(plan.users_changed)),
        ("users removed", tuple(plan.users_removed)),
        ("subscriptions added", tuple(plan.subscriptions_added)),
        ("subscriptions changed", tuple(plan.subscriptions_changed)),
    )


def _apply(session: Session, plan: Plan, judge: PinJudge) -> None:
    """Write the plan: inserts and updates in bulk, removals as inactive flags."""
    now = utcnow()
    ids = dict(plan.tenant_ids)
    ids.update(
        insert_tenants(
            session,
            ("ref", "created_at", *TENANT_COLUMNS),
            [
                (ref, now, *tenant_values(t, judge.hash(ref, t.support_pin)))
                for ref, t in plan.new_tenants.items()
            ],
        )
    )
    update_rows(
        session,
        Tenant,
        (*TENANT_COLUMNS, "active"),
        [
            (id_, *tenant_values(t, kept if same else judge.hash(ref, t.support_pin)), True)
            for id_, ref, t, kept, same in plan.tenant_updates
        ],
    )
    _deactivate(session, Tenant, plan.removed_tenant_ids)
    d = table(TenantDomain)
    for i in range(0, len(plan.domains_removed), _CHUNK):
        chunk = plan.domains_removed[i : i + _CHUNK]
        session.execute(delete(d).where(tuple_(d.c.tenant_id, d.c.domain).in_(chunk)))
    insert_rows(
        session,
        TenantDomain,
        ("tenant_id", "domain"),
        [(ids[ref], domain) for ref, domain in plan.domains_added],
    )
    insert_rows(
        session,
        AccountUser,
        USER_COLUMNS,
        [user_values(user_id, u, ids[ref]) for user_id, u, ref in plan.new_users],
    )
    update_rows(
        session,
        AccountUser,
        (*USER_COLUMNS, "active"),
        [
            (id_, *user_values(user_id, u, ids[ref]), True)
            for id_, user_id, u, ref in plan.user_updates
        ],
    )
    _deactivate(session, AccountUser, plan.removed_user_ids)
    insert_rows(
        session,
        Subscription,
        ("tenant_id", "product_name", *SUBSCRIPTION_COLUMNS),
        [
            (ids[ref], product, *subscription_values(s, now))
            for ref, product, s in plan.new_subscriptions
        ],
    )
    update_rows(
        session,
        Subscription,
        SUBSCRIPTION_COLUMNS,
        [(id_, *subscription_values(s, now)) for id_, s in plan.subscription_updates],
    )


def _deactivate(session: Session, model: type[Tenant] | type[AccountUser], ids: list[int]) -> None:
    t = table(model)
    for i in range(0, len(ids), _CHUNK):
        session.execute(update(t).where(t.c.id.in_(ids[i : i + _CHUNK])).values(active=False))
