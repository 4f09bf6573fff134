"""After a sync: the desk sees today's record, an old call still shows that day's.

Each case of the issue (a changed phone, a new admin, a removed user, a
renamed organization) is checked where an agent meets it (``db.desk``) and
in the supervisor's detail of a call made before the sync
(``db.review.call_detail``), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from db import desk, review
from db.accounts.importer import import_accounts
from db.accounts.sync import sync_accounts
from db.purge import purge
from db.settings import Settings
from db.staff.agents import AgentInfo, add_agent
from tests.db.test_import import row, stated_as_imported, write_csv
from verification.kinds import CheckResult, Item, Outcome, Role

Factory = sessionmaker[Session]
SETTINGS = Settings()
BEFORE = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
AFTER = BEFORE + timedelta(days=3)
PASSPHRASE = "correct horse battery staple"

BEN = {"user_id": "ben@contoso.com", "display_name": "Ben", "is_admin": "false"}
DEE = {"user_id": "dee@contoso.com", "display_name": "Dee", "is_admin": "false"}
CHANGED = {"phone": "(425) 555-0199", "organization": "Contoso Group"}


OLD = stated_as_imported(BEN["user_id"], "Contoso, Ltd.", "(425) 555-0100")
NEW = stated_as_imported(BEN["user_id"], "Contoso Group", "(425) 555-0199")


def _call(
    factory: Factory, agent: AgentInfo, stated: dict[Item, dict[str, str]], now: datetime
) -> desk.CallView:
    view = desk.start_call(factory, agent.id, agent.username, SETTINGS, now)
    for item, fields in stated.items():
        view = desk.submit_item(factory, view.call_id, agent.username, item, fields, SETTINGS, now)
    return view


def _on_file(detail: review.CallDetail) -> dict[Item, tuple[str, CheckResult]]:
    return {c.item: (c.on_file, c.result) for c in detail.checks}


@pytest.fixture
def world(any_factory: Factory, tmp_path: Path) -> tuple[Factory, AgentInfo, AgentInfo, int]:
    """Contoso on file with Ben (no admin) and Dee; one call of Ben's verified before the sync."""
    rows = [row(**BEN), row(**DEE)]
    assert import_accounts(any_factory, write_csv(tmp_path / "base.csv", rows)).written
    agent = add_agent(any_factory, "ana", "Ana Agent", Role.AGENT, PASSPHRASE)
    supervisor = add_agent(any_factory, "sue", "Sue Supervisor", Role.SUPERVISOR, PASSPHRASE)
    old = _call(any_factory, agent, OLD, BEFORE)
    assert old.gate_open is False and old.caller_is_admin is False  # verified, not an admin
    desk.end_call(any_factory, old.call_id, agent.username, Outcome.DENIED_NOT_ADMIN, "", BEFORE)
    synced = sync_accounts(
        any_factory,
        write_csv(tmp_path / "sync.csv", [row(**{**BEN, **CHANGED, "is_admin": "true"})]),
        remove_missing=True,
    )
    assert synced.written
    return any_factory, agent, supervisor, old.call_id


def test_desk_sees_the_synced_record(world: tuple[Factory, AgentInfo, AgentInfo, int]) -> None:
    factory, agent, _, _ = world
    view = _call(factory, agent, NEW, AFTER)
    # The new phone and the new name match, and Ben is an admin now.
    assert all(i.status.value == "matched" for i in view.items), view.items
    assert view.gate_open and view.caller_is_admin is True
    shown = {i.item: i.shown for i in view.items}
    assert shown[Item.PHONE] == "•••0199" and shown[Item.ORGANIZATION] == "Contoso Group"
    desk.end_call(factory, view.call_id, agent.username, Outcome.INFORMED, "", AFTER)


def test_old_values_miss_after_the_sync(world: tuple[Factory, AgentInfo, AgentInfo, int]) -> None:
    factory, agent, _, _ = world
    view = desk.start_call(factory, agent.id, agent.username, SETTINGS, AFTER)
    for item in (Item.USER_ID, Item.PHONE, Item.ORGANIZATION):
        view = desk.submit_item(
            factory, view.call_id, agent.username, item, OLD[item], SETTINGS, AFTER
        )
    status = {i.item: i.status.value for i in view.items}
    assert status[Item.USER_ID] == "matched"
    assert status[Item.PHONE] == "missed" and status[Item.ORGANIZATION] == "missed"


def test_a_removed_user_is_a_miss_like_an_unknown_one(
    world: tuple[Factory, AgentInfo, AgentInfo, int],
) -> None:
    factory, agent, _, _ = world
    outcomes = []
    for user_id in (DEE["user_id"], "nobody@contoso.com"):
        view = desk.start_call(factory, agent.id, agent.username, SETTINGS, AFTER)
        view = desk.submit_item(
            factory, view.call_id, agent.username, Item.USER_ID, {"value": user_id}, SETTINGS, AFTER
        )
        outcomes.append((view.tenant_found, view.misses_left, view.items[0].status.value))
        desk.abandon_call(factory, view.call_id, agent.username, "", AFTER)
    assert outcomes[0] == outcomes[1] and outcomes[0][0] is False
    assert outcomes[0][2] == "missed"


def test_old_call_detail_keeps_that_days_on_file_values(
    world: tuple[Factory, AgentInfo, AgentInfo, int],
) -> None:
    factory, agent, supervisor, old_call = world
    detail = review.call_detail(factory, supervisor.id, old_call, AFTER)
    on_file = _on_file(detail)
    assert on_file[Item.PHONE] == ("+14255550100", CheckResult.MATCH)
    assert on_file[Item.ORGANIZATION] == ("Contoso, Ltd.", CheckResult.MATCH)
    assert on_file[Item.USER_ID] == ("ben@contoso.com", CheckResult.MATCH)
    assert (
        on_file[Item.ADDRESS][0] == "123 North Main Street, Suite 400, Springfield, IL, 62704, US"
    )
    assert "accounts.synced" not in {e.type for e in detail.timeline}
    # A call after the sync shows the new record.
    new = _call(factory, agent, NEW, AFTER)
    desk.end_call(factory, new.call_id, agent.username, Outcome.INFORMED, "", AFTER)
    now_on_file = _on_file(review.call_detail(factory, supervisor.id, new.call_id, AFTER))
    assert now_on_file[Item.PHONE][0] == "+14255550199"
    assert now_on_file[Item.ORGANIZATION][0] == "Contoso Group"


def test_purge_blanks_the_stored_on_file_values(
    world: tuple[Factory, AgentInfo, AgentInfo, int],
) -> None:
    factory, _, supervisor, old_call = world
    assert purge(factory, 1, AFTER, dry_run=False, actor="operator").calls == 1
    detail = review.call_detail(factory, supervisor.id, old_call, AFTER)
    assert {c.on_file for c in detail.checks} == {"(purged)"}
    assert {c.stated for c in detail.checks} == {"(purged)"}
