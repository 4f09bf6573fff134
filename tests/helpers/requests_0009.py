"""Cancellation requests in a database at revision 0009, before they had references."""

from __future__ import annotations

import re

from sqlalchemy import Engine, text

# verification.reference's format: CG- and six symbols without 0, O, 1 or I.
REFERENCE = re.compile(r"CG-[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{3}")


def seed_requests(engine: Engine, count: int) -> None:
    """``count`` cancellation requests of one call, every other one needing approval."""
    now = "2026-11-02 15:00:00+00:00"
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO tenant (id, ref, organization, contact_first_name, contact_last_name,"
                " phone_e164, address_line1, address_line2, city, region, postal_code, country,"
                " created_at) VALUES (1, 'T-1', 'Contoso', 'Jo', 'Park', '+14255550100',"
                " '1 Main St', '', 'Springfield', 'IL', '62704', 'US', :now)"
            ),
            {"now": now},
        )
        c.execute(
            text(
                "INSERT INTO subscription (id, tenant_id, product_name, kind, channel, term_start,"
                " term_end, auto_renew, status, expedited, updated_at) VALUES (1, 1, 'Suite',"
                " 'paid', 'direct', '2026-01-01', '2027-01-01', true, 'active', 'none', :now)"
            ),
            {"now": now},
        )
        c.execute(
            text(
                "INSERT INTO agent (id, username, display_name, role, passphrase_hash, active,"
                " failed_signins, created_at) VALUES (1, 'a', 'A', 'agent', 'x', true, 0, :now)"
            ),
            {"now": now},
        )
        c.execute(
            text(
                "INSERT INTO call (id, agent_id, started_at, tenant_id, state, notes)"
                " VALUES (1, 1, :now, 1, 'closed', '')"
            ),
            {"now": now},
        )
        for number in range(count):
            c.execute(
                text(
                    "INSERT INTO cancellation_request (call_id, subscription_id, action,"
                    " checklist, before, after, needs_approval, request_hash, created_at)"
                    " VALUES (1, 1, 'cancel_now', '', '', '', :approval, 'h', :now)"
                ),
                {"approval": number % 2 == 0, "now": now},
            )
