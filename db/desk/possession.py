"""What a call has proven beyond the six items, and what it could still prove.

Read-only and shared by the step-up writes (``db.desk.stepup``) and the
desk's view (``db.desk.views``): the factors proven in a call (``proven``),
the code's state rebuilt from its stored sends and tries (``code_state``),
the destinations a code may go to, masked (``destinations``), whether the
latest code went to one still on file (``sent_to_contact_on_file``), and per action
whether it still needs a factor (``action_step_up``, the rule itself being
``verification.tiers.step_up``). A proven code or answered callback counts
only in the verification it was proven in (``verification.tiers.held``):
once the items are asked again, so is the factor. A proof holds only for the
contact on file it reached (``_live``): a code e-mailed to an admin a sync
removed or demoted since, or a code texted or a callback made to the phone
before the phone item was last checked (a sync changed the number: the
call's match of it no longer held until asked again), proves nothing, and
the step says so (``Possession.changed``).

The agent sees a destination only masked (``verification.otp.masked``); the
whole address or number leaves this module only through ``address_of`` for
the sender and the callback step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from db.delivery.notices import active_admins
from db.desk.possession_words import code_words, destination_words, no_sender_words
from db.models import AccountUser, Call, Callback, CodeSend, CodeTry, ItemCheck, Tenant
from db.policy import protection_of
from db.settings import Settings
from verification import otp
from verification.kinds import Item
from verification.otp import Channel, CodeState
from verification.policy import Action
from verification.session import ItemStatus, VerificationSession
from verification.tiers import Factor, Proof, Tier, held, step_up

# The destination key of the tenant's phone; an admin's is "email:<account user id>".
PHONE_KEY = "sms:phone"


@dataclass(frozen=True)
class Destination:
    """Where a code may go, as the agent sees it: a key to send by and the masked form."""

    key: str
    channel: Channel
    masked: str


@dataclass(frozen=True)
class ActionStepUp:
    """One action's tier and, while it needs a factor not yet proven, the gate's sentence."""

    action: Action
    tier: Tier
    missing: str

    @property
    def needs_factor(self) -> bool:
        """Whether the factor step must come before the action's checklist."""
        return bool(self.missing)


@dataclass(frozen=True)
class Possession:
    """The factor step of a call: what is proven and what the agent can do next.

    ``code_words`` says where the code stands in words, one part each (sent
    to whom, tries left, when a resend is possible); ``no_sender`` says, when no code can be
    sent at all, which actions are therefore left to the callback (or PIN).
    """

    proven: tuple[Factor, ...]
    has_pin: bool
    destinations: tuple[Destination, ...]
    code_sent: bool
    code_words: tuple[str, ...]
    send_refusal: str | None
    try_refusal: str | None
    tries_left: int
    callback_pending: int | None
    no_sender: str
    # Why a code or callback of this verification no longer counts, if one does not.
    changed: str = ""


# What the factor step says once a sync changed the contact a proof reached.
CHANGED = (
    "the phone number or admin on file changed since the code or callback: "
    "it no longer proves possession — send a new code or call back"
)
SendRow = Row[datetime, str, Channel, int | None]
TryRow = Row[datetime, bool]


def mail_configured(settings: Settings) -> bool:
    """Whether codes can go by e-mail (an SMTP server and a sender address)."""
    return bool(settings.smtp_host and settings.smtp_from)


def sms_configured(settings: Settings) -> bool:
    """Whether codes can go by text (a gateway account and a sender number)."""
    return bool(settings.sms_base_url and settings.sms_account_sid and settings.sms_from)


def code_state(session: Session, call: Call, tenant: Tenant, since: datetime | None) -> CodeState:
    """The call's one-time code rebuilt from its stored sends and tries.

    ``since`` is the start of the verification holding now
    (``VerificationSession.round_start``): a code of an earlier one is void,
    and so is a code sent to a contact no longer on file.
    """
    sends, tries = _code_rows(session, call)
    live_sends, live_tries = _live(sends, tries, _stale(session, call, tenant, sends))
    return CodeState(
        (otp.CodeSend(at, code_hash) for at, code_hash, _, _ in live_sends),
        (otp.CodeTry(at, matched) for at, matched in live_tries),
        since,
    )


def proven(
    session: Session, call: Call, tenant: Tenant, verification: VerificationSession, now: datetime
) -> tuple[Factor, ...]:
    """The possession factors this call holds at ``now``.

    The PIN is its matched item in the current round; a matched code or an
    answered callback counts in the verification it was proven in, while the
    contact it reached is still on file.
    """
    sends, tries = _code_rows(session, call)
    _, live_tries = _live(sends, tries, _stale(session, call, tenant, sends))
    phone_at = _phone_checked_at(session, call)
    callbacks = session.execute(
        select(Callback.shown_at, Callback.answered_at).where(
            Callback.call_id == call.id, Callback.answered.is_(True)
        )
    ).all()
    return _factors(
        [at for at, matched in live_tries if matched],
        [at for shown, at in callbacks if at is not None and _reached(shown, phone_at)],
        verification,
        now,
    )


def _factors(
    codes: Sequence[datetime],
    callbacks: Sequence[datetime],
    verification: VerificationSession,
    now: datetime,
) -> tuple[Factor, ...]:
    proofs = [Proof(Factor.CODE, at) for at in codes]
    proofs.extend(Proof(Factor.CALLBACK, at) for at in callbacks)
    factors = held(proofs, verification.round_start(now))
    if Item.PIN in verification.required and verification.status(Item.PIN, now) is (
        ItemStatus.MATCHED
    ):
        factors = (*factors, Factor.PIN)
    return factors


def action_step_up(
    action: Action, tiers: Mapping[Action, Tier], factors: tuple[Factor, ...], has_pin: bool
) -> ActionStepUp:
    """``action``'s tier (``tiers``: the policy's) and what it still needs, by ``step_up``."""
    tier = tiers[action]
    gate = step_up(action, tier, factors, has_pin)
    return ActionStepUp(action, tier, "" if gate.proceed else gate.missing)


def destinations(session: Session, tenant: Tenant, settings: Settings) -> tuple[Destination, ...]:
    """Where a code may go now, masked: the phone on file by text, each active admin by e-mail.

    Only the channels the operator configured are offered.
    """
    found: list[Destination] = []
    if sms_configured(settings) and tenant.phone_e164:
        found.append(
            Destination(PHONE_KEY, Channel.SMS, otp.masked(Channel.SMS, tenant.phone_e164))
        )
    if mail_configured(settings):
        for user in active_admins(session, tenant):
            shown = otp.masked(Channel.EMAIL, user.user_id)
            found.append(Destination(f"email:{user.id}", Channel.EMAIL, shown))
    return tuple(found)


def address_of(
    session: Session, tenant: Tenant, key: str
) -> tuple[Channel, AccountUser | None, str]:
    """The channel, admin (None for the phone) and whole address behind a destination key.

    Raises LookupError for a key that names no destination of this tenant.
    """
    if key == PHONE_KEY and tenant.phone_e164:
        return Channel.SMS, None, tenant.phone_e164
    kind, _, ident = key.partition(":")
    if kind == "email" and ident.isdigit():
        for user in active_admins(session, tenant):
            if user.id == int(ident):
                return Channel.EMAIL, user, user.user_id
    raise LookupError("that destination is not on file for this caller's organization")


def sent_to_contact_on_file(session: Session, call: Call, tenant: Tenant) -> bool:
    """Whether the call's latest code went to a destination still on file.

    A sync may remove or demote the admin a code was e-mailed to, or change
    the phone it was texted to, while the call is open: that code then
    proves possession of no contact on file.
    """
    sends, _ = _code_rows(session, call)
    return not sends or len(sends) - 1 not in _stale(session, call, tenant, sends)


def _code_rows(session: Session, call: Call) -> tuple[Sequence[SendRow], Sequence[TryRow]]:
    sends = session.execute(
        select(CodeSend.sent_at, CodeSend.code_hash, CodeSend.channel, CodeSend.account_user_id)
        .where(CodeSend.call_id == call.id)
        .order_by(CodeSend.sent_at, CodeSend.id)
    ).all()
    tries = session.execute(
        select(CodeTry.tried_at, CodeTry.matched)
        .where(CodeTry.call_id == call.id)
        .order_by(CodeTry.tried_at, CodeTry.id)
    ).all()
    return sends, tries


def _stale(
    session: Session, call: Call, tenant: Tenant, sends: Sequence[SendRow]
) -> frozenset[int]:
    """The positions in ``sends`` of codes sent to a contact no longer on file."""
    if not sends:
        return frozenset()
    admins = {user.id for user in active_admins(session, tenant)}
    phone_at = _phone_checked_at(session, call)
    return frozenset(
        n
        for n, (at, _, channel, admin) in enumerate(sends)
        if (admin not in admins if channel is Channel.EMAIL else not _reached(at, phone_at))
    )


def _live(
    sends: Sequence[SendRow], tries: Sequence[TryRow], stale: frozenset[int]
) -> tuple[list[SendRow], list[TryRow]]:
    """The sends to contacts still on file, and the tries without a match of a stale one.

    A try answers the latest code sent before it; wrong tries all stay (each
    was a miss and used up a try).
    """
    live_sends = [send for n, send in enumerate(sends) if n not in stale]
    # A matched try answered the latest code sent before it (-1: none).
    answered = (max((n for n, s in enumerate(sends) if s[0] <= t[0]), default=-1) for t in tries)
    live_tries = [t for t, n in zip(tries, answered, strict=True) if not t[1] or n not in stale]
    return live_sends, live_tries


def _phone_checked_at(session: Session, call: Call) -> datetime | None:
    """When the call last checked the phone item: the number a proof by phone reached.

    A phone proof needs an open gate, and with it a match of the number on
    file then; a sync that changes the number voids that match until the
    phone is asked again, so a proof made before the latest check of the
    phone reached a number no longer judged to be the caller's.
    """
    return session.scalar(
        select(ItemCheck.checked_at)
        .where(ItemCheck.call_id == call.id, ItemCheck.item == Item.PHONE)
        .order_by(ItemCheck.id.desc())
        .limit(1)
    )


def _reached(at: datetime, phone_checked_at: datetime | None) -> bool:
    return phone_checked_at is None or at >= phone_checked_at


def possession(
    session: Session,
    call: Call,
    tenant: Tenant,
    verification: VerificationSession,
    settings: Settings,
    now: datetime,
    first_verified: bool = False,
) -> Possession:
    """The factor step as the desk shows it; nothing in it is more than masked.

    Three statements: the call's sends, its tries and its callbacks, each
    read once for everything the step shows (``code_state`` and ``proven``
    read the same rows for a single answer). None for a call verified for the
    first time just now (``first_verified``): sends and callbacks need an open
    gate, so it has none.
    """
    has_pin = Item.PIN in verification.required
    sends: Sequence[SendRow] = ()
    tries: Sequence[TryRow] = ()
    callbacks: Sequence[Row[int, bool | None, datetime, datetime | None]] = ()
    if not first_verified:
        sends, tries = _code_rows(session, call)
        callbacks = session.execute(
            select(Callback.id, Callback.answered, Callback.shown_at, Callback.answered_at)
            .where(Callback.call_id == call.id)
            .order_by(Callback.id)
        ).all()
    start = verification.round_start(now)
    stale = _stale(session, call, tenant, sends)
    live_sends, live_tries = _live(sends, tries, stale)
    state = CodeState(
        (otp.CodeSend(at, code_hash) for at, code_hash, _, _ in live_sends),
        (otp.CodeTry(at, matched) for at, matched in live_tries),
        start,
    )
    phone_at = _phone_checked_at(session, call) if callbacks else None
    answered = [(shown, at) for _, ok, shown, at in callbacks if ok and at is not None]
    voided = start is not None and (
        any(sends[n][0] >= start for n in stale)
        or any(at >= start and not _reached(shown, phone_at) for shown, at in answered)
    )
    shown = destinations(session, tenant, settings)
    last = destination_words(session, tenant, *live_sends[-1][2:]) if live_sends else ""
    pending = [id_ for id_, ok, _, _ in callbacks if ok is None]
    return Possession(
        proven=_factors(
            [at for at, matched in live_tries if matched],
            [at for shown_at, at in answered if _reached(shown_at, phone_at)],
            verification,
            now,
        ),
        has_pin=has_pin,
        destinations=shown,
        code_sent=state.sent,
        code_words=code_words(state, last, now),
        send_refusal=state.send_refusal(now),
        try_refusal=state.try_refusal(now),
        tries_left=state.tries_left,
        callback_pending=pending[-1] if pending else None,
        no_sender="" if shown else no_sender_words(settings, protection_of(session).tiers, has_pin),
        changed=CHANGED if voided else "",
    )
