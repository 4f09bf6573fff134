"""Account rows as the values of bulk Core statements, shared by import and sync.

The one home of how a parsed tenant, user or subscription maps onto table
columns. Core ``insert``/``update`` with lists of values skip the ORM's
per-row bookkeeping, which is most of the cost of writing 100,000 accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

from db.account_rows import SubscriptionFields, TenantFields, UserFields
from db.models import Base, Tenant

Values = dict[str, Any]
# Update statements bind the row's id under this name: "id" is a column's.
ROW_ID = "row_id"


def table(model: type[Base]) -> Table:
    """The Core table of ``model``."""
    return Base.metadata.tables[model.__tablename__]


def tenant_values(t: TenantFields, pin_hash: str | None) -> Values:
    """A tenant's columns (without ``ref``, ``created_at`` and ``active``)."""
    return {
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
        "support_pin_hash": pin_hash,
    }


def user_values(user_id: str, u: UserFields, tenant_id: int) -> Values:
    """An account user's columns (without ``active``)."""
    return {
        "user_id": user_id,
        "display_name": u.display_name,
        "tenant_id": tenant_id,
        "is_admin": u.is_admin,
    }


def subscription_values(s: SubscriptionFields, now: datetime) -> Values:
    """The columns of a subscription the account file holds, and ``updated_at``."""
    return {
        "kind": s.kind,
        "channel": s.channel,
        "term_start": s.term_start,
        "term_end": s.term_end,
        "auto_renew": s.auto_renew,
        "status": s.status,
        "canceled_at": s.canceled_at,
        "data_deletion_on": s.data_deletion_on,
        "updated_at": now,
    }


def insert_tenants(session: Session, values: list[Values]) -> dict[str, int]:
    """Insert tenants (each with its ``ref``); their ids by ref."""
    if not values:
        return {}
    tenant = table(Tenant)
    # Ids come back paired with refs, so the rows' order does not matter
    # and SQLite can batch the RETURNING insert.
    inserted = session.execute(insert(tenant).returning(tenant.c.ref, tenant.c.id), values)
    return {ref: id_ for ref, id_ in inserted}


def insert_rows(session: Session, model: type[Base], values: Sequence[Values]) -> None:
    """One bulk insert of ``values`` into ``model``'s table."""
    if values:
        session.execute(insert(table(model)), list(values))


def update_rows(session: Session, model: type[Base], values: Sequence[Values]) -> None:
    """One bulk update by id: each value set names its row under ``ROW_ID``.

    Every value set must have the same keys (one statement serves them all).
    """
    if not values:
        return
    t = table(model)
    columns = [name for name in values[0] if name != ROW_ID]
    statement = (
        update(t)
        .where(t.c.id == bindparam(ROW_ID))
        .values({name: bindparam(name) for name in columns})
    )
    # A Core update with bindparams: executemany, not the ORM's bulk path.
    session.connection().execute(statement, list(values))
