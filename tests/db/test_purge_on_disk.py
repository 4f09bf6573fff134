"""After a purge, no stated value, note or reason is left anywhere on disk.

PRODUCT.md section 7: free text lives in purgeable columns only (never in an
audit payload, which purge cannot touch), and a purge leaves no copy behind in
free pages or the write-ahead log. The test reads the SQLite file and its
``-wal`` byte by byte, the way someone who copied the disk would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from db import desk, review
from db.audit.chain import verify_chain
from db.engine import make_engine, make_sessionmaker, unit_of_work
from db.migrate import upgrade
from db.models import AuditEvent
from db.purge import purge
from tests.helpers.review_data import (
    SETTINGS,
    expedited_call,
    make_account,
    make_staff,
)
from verification.kinds import Decision, Item, Outcome

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TODAY = NOW.astimezone().date()
STATED_NAME = ("Zebulonia", "Quixotework")
NOTE = "caller mentioned Wolfgangsee-4711 as backup contact"
APPROVAL_REASON = "Approved after callback to Xylophonix-2209"
CLEAR_REASON = "Verified Yodelina Vantablack by callback on +1 425-555-0101"
REVIEW_NOTE = "Spoke with Grimbleshanks about this one"
SECRETS = (*STATED_NAME, "Wolfgangsee-4711", "Xylophonix-2209", "Yodelina", "Grimbleshanks")


def test_nothing_personal_is_left_on_disk_after_a_purge(tmp_path: Path) -> None:
    path = tmp_path / "callgate.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    factory = make_sessionmaker(engine)
    staff = make_staff(factory)
    account = make_account(factory, "Diskcheck Ltd", "+14255550133", TODAY)

    # A missed name, a note, an approval with a reason.
    call_id, request_id = expedited_call(factory, staff.agent, account, NOW)
    detail = review.call_detail(factory, staff.supervisor.id, call_id, NOW)
    review.decide_expedited(
        factory,
        staff.supervisor.id,
        request_id,
        Decision.APPROVED,
        APPROVAL_REASON,
        detail.requests[0].request_hash,
        NOW,
    )
    review.add_review_note(factory, staff.supervisor2.id, call_id, REVIEW_NOTE, NOW)
    view = desk.start_call(factory, staff.agent.id, staff.agent.username, SETTINGS, NOW)
    desk.submit_item(
        factory,
        view.call_id,
        staff.agent.username,
        Item.USER_ID,
        {"value": account.user_id},
        SETTINGS,
        NOW,
    )
    first, last = STATED_NAME
    desk.submit_item(
        factory,
        view.call_id,
        staff.agent.username,
        Item.CONTACT_NAME,
        {"first": first, "last": last},
        SETTINGS,
        NOW,
    )
    desk.end_call(factory, view.call_id, staff.agent.username, Outcome.ABANDONED, NOTE, NOW)
    # A tenant lock cleared with a reason full of personal data.
    review.clear_tenant_lock(factory, staff.supervisor.id, account.tenant_id, CLEAR_REASON, NOW)

    with unit_of_work(factory) as session:
        payloads = " ".join(session.scalars(select(AuditEvent.payload)))
    assert not [s for s in SECRETS if s in payloads], "free text reached the audit chain"

    later = NOW + timedelta(days=30)
    purge(factory, 1, later, dry_run=False, actor="operator:test")
    assert verify_chain(engine).ok
    engine.dispose()

    on_disk = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    left = [s for s in SECRETS if s.encode() in on_disk or json.dumps(s).encode() in on_disk]
    assert left == []
