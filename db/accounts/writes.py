"""Account rows as the values of bulk Core statements, shared by import and sync.

The one home of how a parsed tenant, user or subscription maps onto table
columns. Core ``insert``/``update`` with lists of values skip the ORM's
per-row bookkeeping, which is most of the cost of writing 100,000 accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from datetime import datetime
from itertools import repeat
from operator import attrgetter
from typing import Any

from sqlalchemy import Insert, Table, Update, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from db.accounts.rows import SubscriptionFields, TenantFields, UserFields
from db.models import Base, Tenant

Row = tuple[Any, ...]
# A tenant's stored fields (not its domains, a table of their own, nor the
# PIN, stored only as a hash) and the columns they are stored in.
_TENANT_FIELDS = tuple(
    f.name for f in fields(TenantFields) if f.name not in ("domains", "support_pin")
)
_COLUMN_OF = {"phone": "phone_e164"}
# The columns each of these functions' tuples hold, in order.
TENANT_COLUMNS = (*(_COLUMN_OF.get(name, name) for name in _TENANT_FIELDS), "support_pin_hash")
USER_COLUMNS = ("user_id", "display_name", "tenant_id", "is_admin")
SUBSCRIPTION_COLUMNS = (*(f.name for f in fields(SubscriptionFields)), "updated_at")
_tenant_fields = attrgetter(*_TENANT_FIELDS)
_subscription_fields = attrgetter(*(f.name for f in fields(SubscriptionFields)))
# Update statements bind the row's id under this name: "id" is a column's.
ROW_ID = "row_id"
_UNSET = object()


def table(model: type[Base]) -> Table:
    """The Core table of ``model``."""
    return Base.metadata.tables[model.__tablename__]


def tenant_values(t: TenantFields, pin_hash: str | None) -> Row:
    """A tenant's ``TENANT_COLUMNS`` (not ``ref``, ``created_at`` nor ``active``)."""
    return (*_tenant_fields(t), pin_hash)


def user_values(user_id: str, u: UserFields, tenant_id: int) -> Row:
    """An account user's ``USER_COLUMNS`` (not ``active``)."""
    return (user_id, u.display_name, tenant_id, u.is_admin)


def subscription_values(s: SubscriptionFields, now: datetime) -> Row:
    """A subscription's ``SUBSCRIPTION_COLUMNS``: the file's fields, then ``updated_at``."""
    return (*_subscription_fields(s), now)


def insert_tenants(session: Session, columns: Sequence[str], rows: Sequence[Row]) -> dict[str, int]:
    """Insert tenants (``columns`` naming ``ref`` among them); their ids by ref."""
    if not rows:
        return {}
    t = table(Tenant)
    # Ids are read back by ref after one executemany: a RETURNING insert
    # would go through SQLAlchemy's per-row processing, the slow part.
    # Every id given to these rows is above the highest one visible now.
    before = session.execute(select(func.max(t.c.id))).scalar() or 0
    insert_rows(session, Tenant, columns, rows)
    at = list(columns).index("ref")
    refs = {row[at] for row in rows}
    found = session.execute(select(t.c.ref, t.c.id).where(t.c.id > before)).all()
    return {ref: id_ for ref, id_ in found if ref in refs}


def insert_rows(
    session: Session, model: type[Base], columns: Sequence[str], rows: Sequence[Row]
) -> None:
    """One bulk insert into ``model``'s table of ``rows``, each holding ``columns`` in order."""
    if rows:
        t = table(model)
        _executemany(session, insert(t), t, [(name, name) for name in columns], rows)


def update_rows(
    session: Session, model: type[Base], columns: Sequence[str], rows: Sequence[Row]
) -> None:
    """One bulk update by id: each row is its id, then the new values of ``columns``."""
    if not rows:
        return
    t = table(model)
    # Bind names differ from column names: SQLAlchemy reserves those for SET.
    statement = (
        update(t)
        .where(t.c.id == bindparam(ROW_ID, type_=t.c.id.type))
        .values({name: bindparam(f"new_{name}", type_=t.c[name].type) for name in columns})
    )
    binds = [(ROW_ID, "id"), *((f"new_{name}", name) for name in columns)]
    _executemany(session, statement, t, binds, rows)


def _executemany(
    session: Session,
    statement: Insert | Update,
    t: Table,
    binds: Sequence[tuple[str, str]],
    rows: Sequence[Row],
) -> None:
    """``statement`` run once per row through the driver's executemany.

    ``binds`` names each position of a row: its bind name and the column
    whose type it has. Columns the rows leave out get their scalar or
    callable default, once.

    SQLAlchemy's own executemany builds and processes a parameter dict per
    row, most of a bulk write's time; here the rows are turned into columns,
    each column's bind processor (the same the statement would use: enums to
    their values, SQLite's date text, aware UTC times) is applied down it,
    and the columns are zipped back in the compiled statement's order.
    """
    connection = session.connection()
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, column_keys=[bind for bind, _ in binds])
    names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
    given = dict(zip((bind for bind, _ in binds), zip(*rows, strict=True), strict=True))
    column_of = dict(binds)
    columns: list[Iterable[object]] = []
    for name in names:
        column = t.c[column_of.get(name, name)]
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if name in given:
            columns.append(given[name] if process is None else _processed(process, given[name]))
        else:
            default = _default(t, name)
            columns.append(repeat(default if process is None else process(default), len(rows)))
    if compiled.positional:
        params: list[Any] = list(zip(*columns, strict=False))
    else:
        params = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=False)]
    connection.exec_driver_sql(compiled.string, params)


def _processed(process: Callable[[Any], Any], values: Sequence[object]) -> list[object]:
    """``process`` applied to each value, once per distinct object.

    The same object recurs down a column (the one ``now``, an enum member,
    a date shared by the rows of one subscription), and a value's
    processing depends on nothing but the value. The values are alive in
    ``values`` throughout, so their ids stay distinct.
    """
    distinct = {id(value): value for value in values}
    done = {key: process(value) for key, value in distinct.items()}
    return [done[id(value)] for value in values]


def _default(t: Table, name: str) -> object:
    """The Python-side default of a column, computed once for a whole statement."""
    default = t.c[name].default
    if default is None:
        raise ValueError(f"{t.name}.{name} needs a value: it has no default")
    arg = getattr(default, "arg", None)
    return arg(None) if callable(arg) else arg
