"""Account rows as the values of bulk Core statements, shared by import and sync.

The one home of how a parsed tenant, user or subscription maps onto table
columns. Core ``insert``/``update`` with lists of values skip the ORM's
per-row bookkeeping, which is most of the cost of writing 100,000 accounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Table, Update, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from db.account_rows import SubscriptionFields, TenantFields, UserFields
from db.models import Base, Tenant

Values = dict[str, Any]
# Update statements bind the row's id under this name: "id" is a column's.
ROW_ID = "row_id"
_UNSET = object()


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
    t = table(Tenant)
    # Ids are read back by ref after one executemany: a RETURNING insert
    # would go through SQLAlchemy's per-row processing, the slow part.
    # Every id given to these rows is above the highest one visible now.
    before = session.execute(select(func.max(t.c.id))).scalar() or 0
    insert_rows(session, Tenant, values)
    refs = {value["ref"] for value in values}
    found = session.execute(select(t.c.ref, t.c.id).where(t.c.id > before))
    return {ref: id_ for ref, id_ in found if ref in refs}


def insert_rows(session: Session, model: type[Base], values: Sequence[Values]) -> None:
    """One bulk insert of ``values`` into ``model``'s table (every set with the same keys)."""
    if values:
        t = table(model)
        _executemany(session, insert(t), t, {name: name for name in values[0]}, values)


def update_rows(session: Session, model: type[Base], values: Sequence[Values]) -> None:
    """One bulk update by id: each value set names its row under ``ROW_ID``.

    Every value set must have the same keys (one statement serves them all).
    """
    if not values:
        return
    t = table(model)
    columns = [name for name in values[0] if name != ROW_ID]
    # Bind names differ from column names: SQLAlchemy reserves those for SET.
    statement = (
        update(t)
        .where(t.c.id == bindparam(ROW_ID, type_=t.c.id.type))
        .values({name: bindparam(f"new_{name}", type_=t.c[name].type) for name in columns})
    )
    keys = {f"new_{name}": name for name in columns}
    keys[ROW_ID] = "id"
    _executemany(session, statement, t, keys, values, source={ROW_ID: ROW_ID})


def _executemany(
    session: Session,
    statement: Insert | Update,
    t: Table,
    columns: Mapping[str, str],
    values: Sequence[Values],
    source: Mapping[str, str] | None = None,
) -> None:
    """``statement`` run once per value set through the driver's executemany.

    Columns the values leave out get their scalar or callable default, once.

    SQLAlchemy's own executemany builds and processes a parameter dict per
    row, most of a bulk write's time; here each column's bind processor (the
    same the statement would use: enums to their values, SQLite's date text,
    aware UTC times) is applied directly. ``columns`` maps each bind name to
    the column whose type it has; ``source`` the bind names whose value key
    differs from that column name.
    """
    connection = session.connection()
    dialect = connection.dialect
    given = [name for name in values[0] if name in columns]
    compiled = statement.compile(dialect=dialect, column_keys=given)
    names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
    defaults = {name: _default(t, name) for name in names if name not in columns}
    keys = [(source or {}).get(name, columns.get(name, name)) for name in names]
    processors = [
        t.c[columns.get(name, name)].type.dialect_impl(dialect).bind_processor(dialect)
        for name in names
    ]
    processed = [(i, p) for i, p in enumerate(processors) if p is not None]
    # The same object in one column (the one ``now``, an enum member) is
    # processed once: a value's processing depends on nothing but the value.
    last: list[tuple[object, object]] = [(_UNSET, None)] * len(processors)
    rows: list[Any] = []
    for value in values:
        row = [value[key] if key in value else defaults[key] for key in keys]
        for i, process in processed:
            given_value = row[i]
            seen, result = last[i]
            if given_value is not seen:
                result = process(given_value)
                last[i] = (given_value, result)
            row[i] = result
        rows.append(tuple(row) if compiled.positional else dict(zip(names, row, strict=True)))
    connection.exec_driver_sql(compiled.string, rows)


def _default(t: Table, name: str) -> object:
    """The Python-side default of a column, computed once for a whole statement."""
    default = t.c[name].default
    if default is None:
        raise ValueError(f"{t.name}.{name} needs a value: it has no default")
    arg = getattr(default, "arg", None)
    return arg(None) if callable(arg) else arg
