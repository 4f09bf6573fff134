"""Revision 0006 copies today's record into the checks made before it.

Until 0006 a record could never change after its import, so what is on file
is what every earlier check was judged against; purged calls stay blank.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from db.migrate import upgrade
from tests.db.conftest import BACKENDS, engine_at


@pytest.fixture(params=BACKENDS)
def old_engine(request: pytest.FixtureRequest) -> Engine:
    return engine_at(request, "0004")


def test_existing_checks_get_the_value_on_file(old_engine: Engine) -> None:
    now = "2026-11-02 15:00:00+00:00"
    with old_engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO tenant (id, ref, organization, contact_first_name, contact_last_name,"
                " phone_e164, address_line1, address_line2, city, region, postal_code, country,"
                " support_pin_hash, created_at) VALUES (1, 'T-1', 'Contoso', 'Jo', 'Park',"
                " '+14255550100', '1 Main St', '', 'Springfield', 'IL', '62704', 'US', 'h', :now)"
            ),
            {"now": now},
        )
        c.execute(
            text(
                "INSERT INTO account_user (id, user_id, display_name, tenant_id, is_admin)"
                " VALUES (1, 'jo@contoso.com', 'Jo', 1, true)"
            )
        )
        c.execute(
            text(
                "INSERT INTO agent (id, username, display_name, role, passphrase_hash, active,"
                " failed_signins, created_at) VALUES (1, 'a', 'A', 'agent', 'x', true, 0, :now)"
            ),
            {"now": now},
        )
        for call_id, purged in ((1, None), (2, now)):
            c.execute(
                text(
                    "INSERT INTO call (id, agent_id, started_at, tenant_id, caller_user_id, state,"
                    " notes, purged_at) VALUES (:id, 1, :now, 1, 1, 'closed', '', :purged)"
                ),
                {"id": call_id, "now": now, "purged": purged},
            )
        checks = [
            ("user_id", "match"),
            ("user_id", "mismatch"),
            ("phone", "match"),
            ("contact_name", "mismatch"),
            ("organization", "match"),
            ("address", "match"),
            ("pin", "match"),
        ]
        for call_id in (1, 2):
            for item, result in checks:
                c.execute(
                    text(
                        "INSERT INTO item_check (call_id, item, result, rules_version, checked_at)"
                        " VALUES (:call, :item, :result, 'r1', :now)"
                    ),
                    {"call": call_id, "item": item, "result": result, "now": now},
                )
    upgrade(old_engine)
    with old_engine.connect() as c:
        rows = c.execute(
            text("SELECT call_id, item, result, on_file FROM item_check ORDER BY id")
        ).all()
        active = c.execute(text("SELECT active FROM tenant")).scalar_one()
    assert bool(active) is True
    assert [(item, on_file) for call_id, item, _, on_file in rows if call_id == 1] == [
        ("user_id", "jo@contoso.com"),
        ("user_id", None),
        ("phone", "+14255550100"),
        ("contact_name", "Jo Park"),
        ("organization", "Contoso"),
        ("address", "1 Main St, Springfield, IL, 62704, US"),
        ("pin", "(set)"),
    ]
    assert {on_file for call_id, _, _, on_file in rows if call_id == 2} == {None}
