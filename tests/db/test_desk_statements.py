"""What one item check sends to the database: the caller is selected once, not per lookup.

Counted with a ``before_cursor_execute`` listener (as ``benchmarks/pg_load.py``
does); a statement count, never a time.
"""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from db import desk
from tests.db.test_desk import ACTOR, GOOD, NOW, SETTINGS, seed
from verification.kinds import Item


def _selects_of_the_caller(engine: Engine, action: object) -> int:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert callable(action)
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return sum(
        1 for s in statements if s.lstrip().startswith("SELECT") and "FROM account_user" in s
    )


def test_each_check_selects_the_caller_once(
    any_engine: Engine, any_factory: sessionmaker[Session]
) -> None:
    ids = seed(any_factory)
    call = desk.start_call(any_factory, ids.agent_id, ACTOR, SETTINGS, NOW)

    def check(item: Item) -> object:
        return lambda: desk.submit_item(
            any_factory, call.call_id, ACTOR, item, GOOD[item], SETTINGS, NOW
        )

    # the user ID is looked up by its text, once; every later check reads the caller once
    assert _selects_of_the_caller(any_engine, check(Item.USER_ID)) == 1
    for item in (Item.PHONE, Item.CONTACT_NAME, Item.ORGANIZATION, Item.ADDRESS):
        # the gate and each matched item of the view would each select it again otherwise
        assert _selects_of_the_caller(any_engine, check(item)) == 1, item
