"""Notices to a tenant's admins (PRODUCT.md section 5, "Notice"): the one home of their text.

Every action of the two upper tiers (``verification.tiers``: ends service,
destroys data), the approval of an expedited request and a dispute of one
queue one e-mail per active admin of the tenant on record (``active_admins``,
also the addresses the desk may e-mail a one-time code to), through
``db.delivery.outbox.enqueue_notice`` in the transaction of the decision itself, so a
decision is never recorded without its notices nor a notice sent for a
decision rolled back. The worker asks ``recipient_now`` just before it
sends one: an admin a sync made inactive (or no longer an admin, or whose
tenant went inactive) after the notice was queued is not written to, and the
notice is canceled with the reason (``db.delivery.outbox.record``). Each
says what was done and by whom, when it takes effect, the request's
reference and how to dispute it. The audit event
carries ids and counts only: the text names people and dates, and goes
to the outbox row, which holds no address (read when the notice leaves).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.delivery.outbox import enqueue_notice, service_ends_on
from db.models import AccountUser, CancellationRequest, Subscription, Tenant
from verification.policy import Action, SubscriptionFacts

NOTICE_EVENT = "notices.queued"

_DONE = {
    Action.AUTO_RENEW_OFF: "auto-renew was turned off",
    Action.CANCEL_NOW: "the subscription was canceled now, before the end of its term",
    Action.EXPEDITED_DEPROVISIONING: "expedited deprovisioning was requested: all its data "
    "deleted within 3 days instead of 90",
    Action.CANCEL_NOW_WITH_EXPEDITED: "the subscription was canceled now, with expedited "
    "deprovisioning: all its data deleted within 3 days instead of 90",
}


class NoticeKind(StrEnum):
    """Why admins are told (the outbox row's type)."""

    ACTION = "notice.action"
    APPROVED = "notice.expedited_approved"
    DISPUTED = "notice.expedited_disputed"


@dataclass(frozen=True)
class Notice:
    """One notice's text, the same for every admin of the tenant."""

    subject: str
    body: str


def when(moment: datetime) -> str:
    """A moment as the notice states it: unambiguous in every locale, in UTC."""
    utc = moment.astimezone(UTC)
    return f"{utc.day} {utc:%B %Y, %H:%M} UTC"


def day(value: date | None) -> str:
    """A date as the notice states it."""
    return "—" if value is None else f"{value.day} {value:%B %Y}"


def action_notice(
    *,
    action: Action,
    reference: str,
    organization: str,
    product: str,
    agent: str,
    at: datetime,
    facts: SubscriptionFacts,
    effects: tuple[tuple[str, date], ...],
    cooling_off_until: datetime | None,
) -> Notice:
    """The notice of an action taken on the phone; ``effects`` are the policy's dates."""
    lines = [
        f"On {when(at)} a support agent, {agent}, took this request by phone for "
        f"{organization}: {product}: {_DONE[action]}.",
        "",
        f"Reference: {reference}",
        "",
        "When it takes effect:",
    ]
    ends = service_ends_on(facts)
    if ends is not None:
        lines.append(f"- service ends on {day(ends)}")
    lines += [f"- {label}: {day(value)}" for label, value in effects if label != "canceled"]
    if cooling_off_until is not None:
        lines += [
            f"- the deletion is final no earlier than {when(cooling_off_until)}, and only "
            "after a supervisor other than the agent approves it",
            "",
            "If you did not ask for this, call the support desk and quote the reference "
            f"{reference} before {when(cooling_off_until)}: a dispute recorded by then stops "
            "the deletion.",
        ]
    else:
        lines += [
            "",
            "If you did not ask for this, call the support desk at once and quote the "
            f"reference {reference}.",
        ]
    return Notice(f"{product}: {_subject(action)} ({reference})", "\n".join(lines))


def approved_notice(
    *, reference: str, product: str, approved_at: datetime, final_at: datetime, deleted_by: date
) -> Notice:
    """The notice that a supervisor approved expedited deprovisioning."""
    lines = [
        f"On {when(approved_at)} a supervisor approved the expedited deprovisioning of "
        f"{product} (reference {reference}).",
        "",
        f"It becomes final on {when(final_at)}. All its data is deleted by {day(deleted_by)}.",
        "",
        "If you did not ask for this, call the support desk and quote the reference "
        f"{reference} before {when(final_at)}: a dispute recorded by then stops the deletion.",
    ]
    return Notice(f"{product}: expedited deprovisioning approved ({reference})", "\n".join(lines))


def disputed_notice(
    *, reference: str, product: str, at: datetime, kept_until: date | None
) -> Notice:
    """The notice that a dispute stopped expedited deprovisioning."""
    lines = [
        f"On {when(at)} the expedited deprovisioning of {product} (reference {reference}) "
        "was disputed at the support desk. It is stopped: it will not become final.",
        "",
        f"The data is kept as before: it is deleted on {day(kept_until)} unless the "
        "subscription changes. A supervisor reviews the dispute.",
    ]
    return Notice(f"{product}: expedited deprovisioning stopped ({reference})", "\n".join(lines))


def queue_notices(
    session: Session,
    *,
    kind: NoticeKind,
    request: CancellationRequest,
    notice: Notice,
    actor: str,
    now: datetime,
) -> int:
    """Queue ``notice`` to every active admin of the request's tenant; how many were queued.

    One ``notices.queued`` audit event records the request and the count.
    """
    subscription = session.get(Subscription, request.subscription_id)
    assert subscription is not None  # a foreign key
    tenant = session.get(Tenant, subscription.tenant_id)
    assert tenant is not None  # a foreign key
    admins = active_admins(session, tenant)
    for admin in admins:
        enqueue_notice(
            session,
            type=kind.value,
            tenant=tenant,
            recipient=admin,
            subject=notice.subject,
            body=notice.body,
            now=now,
            request_id=request.id,
        )
    append_event(
        session,
        actor=actor,
        type=NOTICE_EVENT,
        payload={
            "call_id": request.call_id,
            "request_id": request.id,
            "kind": kind.value,
            "notices": len(admins),
        },
        at=now,
    )
    return len(admins)


def active_admins(session: Session, tenant: Tenant) -> list[AccountUser]:
    """The tenant's active admins, oldest first: whom its notices go to, and the e-mail
    addresses the desk may send a one-time code to (``db.desk.possession``)."""
    return list(
        session.scalars(
            select(AccountUser)
            .where(
                AccountUser.tenant_id == tenant.id,
                AccountUser.is_admin.is_(True),
                AccountUser.active.is_(True),
            )
            .order_by(AccountUser.id)
        )
    )


def recipient_now(
    factory: sessionmaker[Session], user_id: int | None
) -> tuple[str | None, str | None]:
    """``(address, None)`` while the notice's recipient is an active admin of an active
    tenant, else ``(None, why)``: a reason code without personal data."""
    with factory() as session:
        user = None if user_id is None else session.get(AccountUser, user_id)
        if user is None:
            return None, "recipient_removed"
        tenant = session.get(Tenant, user.tenant_id)
        if tenant is None or not tenant.active:
            return None, "tenant_inactive"
        if not user.active:
            return None, "recipient_inactive"
        if not user.is_admin:
            return None, "recipient_not_admin"
        return user.user_id, None


def _subject(action: Action) -> str:
    match action:
        case Action.AUTO_RENEW_OFF:
            return "auto-renew turned off"
        case Action.CANCEL_NOW:
            return "canceled"
        case Action.EXPEDITED_DEPROVISIONING:
            return "expedited deprovisioning requested"
        case Action.CANCEL_NOW_WITH_EXPEDITED:
            return "canceled, expedited deprovisioning requested"
