"""A sync never undoes a decision the billing system has not acknowledged yet.

The system of record learns of an agent's decision only through the outbox
(``callgate deliver``). Until the webhook event is delivered, the file still
shows the subscription as it was before the call: applying it would turn
auto-renew back on, or a cancellation back into an active subscription.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from db import desk
from db.accounts.sync import sync_accounts
from db.engine import unit_of_work
from db.models import OutboxChannel, OutboxEvent, OutboxState, Subscription
from tests.db.test_import import row, write_csv
from tests.helpers.review_data import SETTINGS, make_account, make_staff, verified_call
from tui.commands.accounts_cmd import sync_lines
from verification.policy import Action

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
TODAY = NOW.astimezone().date()


def _as_billing_has_it(path: Path) -> Path:
    """The tenant and subscription as the system of record still has them: auto-renew on."""
    return write_csv(
        path,
        [
            row(
                tenant_ref="fabrikam",
                organization="Fabrikam",
                contact_first_name="Jo",
                contact_last_name="Park",
                phone="+14255550111",
                address_line1="1 Main St",
                address_line2="",
                city="Springfield",
                region="IL",
                postal_code="62704",
                country="US",
                domains="",
                user_id="admin@fabrikam.example",
                display_name="Jo",
                product_name="Business Standard",
                term_start=(TODAY - timedelta(days=200)).isoformat(),
                term_end=(TODAY + timedelta(days=165)).isoformat(),
                auto_renew="yes",
                status="active",
            )
        ],
    )


def _auto_renew(factory: sessionmaker[Session], subscription_id: int) -> bool:
    with factory() as session:
        return bool(
            session.scalar(
                select(Subscription.auto_renew).where(Subscription.id == subscription_id)
            )
        )


def test_an_undelivered_decision_is_held_then_applied_once_delivered(
    any_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    staff = make_staff(any_factory)
    account = make_account(any_factory, "Fabrikam", "+14255550111", TODAY, canceled_days_ago=None)
    view = verified_call(any_factory, staff.agent, account, NOW)
    [sub] = view.subscriptions
    desk.take_action(
        any_factory, view.call_id, "ana", sub.id, Action.AUTO_RENEW_OFF, (), SETTINGS, NOW
    )
    assert not _auto_renew(any_factory, sub.id)
    stale = _as_billing_has_it(tmp_path / "billing.csv")

    held = sync_accounts(any_factory, stale)

    assert not _auto_renew(any_factory, sub.id)  # the agent's decision stands
    assert [c.what for c in held.held] == ["fabrikam: Business Standard"]
    assert dict(held.groups)["subscriptions changed"] == ()
    assert held.unchanged and not held.written
    printed = "\n".join(sync_lines(held))
    assert "held" in printed and "fabrikam: Business Standard" in printed

    # Delivered: the billing system has the decision; the next file it sends is the truth.
    with unit_of_work(any_factory) as session:
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.channel == OutboxChannel.WEBHOOK)
            .values(state=OutboxState.DELIVERED, delivered_at=NOW)
        )
    applied = sync_accounts(any_factory, stale)

    assert applied.written and not applied.held
    assert _auto_renew(any_factory, sub.id)
