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


def _statements(engine: Engine, action: object) -> list[str]:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert callable(action)
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return statements


def _selects_of_the_caller(engine: Engine, action: object) -> int:
    return sum(
        1
        for s in _statements(engine, action)
        if s.lstrip().startswith("SELECT") and "FROM account_user" in s
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

    # the user ID is looked up by its text, once; every later check reads the
    # caller with the call, in the statement that locks it
    assert _selects_of_the_caller(any_engine, check(Item.USER_ID)) == 1
    for item in (Item.PHONE, Item.CONTACT_NAME, Item.ORGANIZATION, Item.ADDRESS):
        # the gate and each matched item of the view would each select it again otherwise
        assert _selects_of_the_caller(any_engine, check(item)) == 0, item


def test_a_check_reads_the_chain_head_once_last_and_no_requests_before_verification(
    any_engine: Engine, any_factory: sessionmaker[Session]
) -> None:
    ids = seed(any_factory)
    call = desk.start_call(any_factory, ids.agent_id, ACTOR, SETTINGS, NOW)
    items = (Item.USER_ID, Item.PHONE, Item.CONTACT_NAME, Item.ORGANIZATION, Item.ADDRESS)
    for n, item in enumerate(items):
        sent = _statements(
            any_engine,
            lambda item=item: desk.submit_item(
                any_factory, call.call_id, ACTOR, item, GOOD[item], SETTINGS, NOW
            ),
        )
        last = n == len(items) - 1
        events = [s for s in sent if s.lstrip().startswith("INSERT INTO audit_event")]
        # one insert, also for the last item's "item.checked" and "call.verified"
        assert len(events) == 1, item
        # the chain's lock is taken last: nothing else runs while a check holds it
        head = "audit_chain_head" if any_engine.dialect.name == "postgresql" else "FROM audit_event"
        assert head in sent[-2] and sent[-1] == events[0], (item, sent[-3:])
        if any_engine.dialect.name == "postgresql":
            # the lock and the head in one call (migration 0012), no head read apart
            assert len([s for s in sent if "audit_chain_head" in s]) == 1, item
            assert not [s for s in sent if "FROM audit_event" in s], item
        else:
            assert len([s for s in sent if "FROM audit_event" in s]) == 1, item
        # the call, its agent and its tenant in one statement
        assert not [s for s in sent if "FROM agent" in s and "FROM call" not in s], item
        requests = [s for s in sent if "FROM cancellation_request" in s]
        # once verified: the tenant's latest earlier request (in the "Earlier:" line's
        # one statement); none before. Not the call's own requests, nor its codes and
        # callbacks: a call verified for the first time has none (each needs its open gate).
        assert len(requests) == (1 if last else 0), item
        assert not [s for s in sent if "FROM code_send" in s or "FROM callback" in s], item


def test_a_matching_check_before_the_last_sends_six_statements(
    any_engine: Engine, any_factory: sessionmaker[Session]
) -> None:
    """The call and tenant locked, the policy's limits (``db.policy``: the
    database's, read once per unit of work), the check written, the verification
    read, the chain's head and the event: a statement more is a cost every desk
    pays on every check (``docs/PERFORMANCE.md``)."""
    ids = seed(any_factory)
    call = desk.start_call(any_factory, ids.agent_id, ACTOR, SETTINGS, NOW)
    desk.submit_item(
        any_factory, call.call_id, ACTOR, Item.USER_ID, GOOD[Item.USER_ID], SETTINGS, NOW
    )
    begin = 1 if any_engine.dialect.name == "sqlite" else 0  # BEGIN IMMEDIATE is a statement
    for item in (Item.PHONE, Item.CONTACT_NAME, Item.ORGANIZATION):
        sent = _statements(
            any_engine,
            lambda item=item: desk.submit_item(
                any_factory, call.call_id, ACTOR, item, GOOD[item], SETTINGS, NOW
            ),
        )
        assert len(sent) == 6 + begin, (item, sent)
        assert sum("FROM policy_setting" in s for s in sent) == 1, sent
