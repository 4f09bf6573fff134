"""Every table has its line in each role's map (``db.roles``): a new table is a decision."""

from __future__ import annotations

from db.models import Base
from db.roles import DELIVERY, DESK


def test_the_desk_map_names_every_table() -> None:
    assert set(DESK.tables) == {*Base.metadata.tables, "alembic_version"}


def test_the_delivery_role_writes_nothing_of_the_desks_or_of_the_records_on_file() -> None:
    writes = {table for table, rights in DELIVERY.tables.items() if rights != ("SELECT",)}
    assert writes == {"audit_event", "cancellation_request", "outbox_event"}
    assert DELIVERY.tables["cancellation_request"] == ("SELECT", "UPDATE (final_at)")
