"""What a call has proven beyond the six items, and what it could still prove.

Read-only and shared by the step-up writes (``db.desk.stepup``) and the
desk's view (``db.desk.views``): the factors proven in a call (``proven``),
the code's state rebuilt from its stored sends and tries (``code_state``),
the destinations a code may go to, masked (``destinations``), whether the
latest code went to one still on file (``sent_to_contact_on_file``), and per action
whether it still needs a factor (``action_step_up``, the rule itself being
``verification.tiers.step_up``). A proven code or answered callback counts
only in the verification it was proven in (``verification.tiers.held``):
once the items are asked again, so is the factor.

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

from db.models import AccountUser, Call, Callback, CodeSend, CodeTry, Tenant
from db.policy import protection_of
from db.settings import Settings
from verification import otp
from verification.kinds import Item
from verification.otp import Channel, CodeState
from verification.policy import Action
from verification.session import ItemStatus, VerificationSession
from verification.tiers import Factor, Proof, Tier, held, phrase, step_up, tier_map

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


def mail_configured(settings: Settings) -> bool:
    """Whether codes can go by e-mail (an SMTP server and a sender address)."""
    return bool(settings.smtp_host and settings.smtp_from)


def sms_configured(settings: Settings) -> bool:
    """Whether codes can go by text (a gateway account and a sender number)."""
    return bool(settings.sms_base_url and settings.sms_account_sid and settings.sms_from)


def code_state(session: Session, call: Call, since: datetime | None) -> CodeState:
    """The call's one-time code rebuilt from its stored sends and tries.

    ``since`` is the start of the verification holding now
    (``VerificationSession.round_start``): a code of an earlier one is void.
    """
    sends = session.execute(
        select(CodeSend.sent_at, CodeSend.code_hash).where(CodeSend.call_id == call.id)
    ).all()
    tries = session.execute(
        select(CodeTry.tried_at, CodeTry.matched).where(CodeTry.call_id == call.id)
    ).all()
    return CodeState(
        (otp.CodeSend(at, code_hash) for at, code_hash in sends),
        (otp.CodeTry(at, matched) for at, matched in tries),
        since,
    )


def proven(
    session: Session, call: Call, verification: VerificationSession, now: datetime
) -> tuple[Factor, ...]:
    """The possession factors this call holds at ``now``.

    The PIN is its matched item in the current round; a matched code or an
    answered callback counts in the verification it was proven in.
    """
    codes = session.scalars(
        select(CodeTry.tried_at).where(CodeTry.call_id == call.id, CodeTry.matched.is_(True))
    ).all()
    callbacks = session.scalars(
        select(Callback.answered_at).where(Callback.call_id == call.id, Callback.answered.is_(True))
    ).all()
    return _factors(codes, [at for at in callbacks if at is not None], verification, now)


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
        for user in _admins(session, tenant):
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
        for user in _admins(session, tenant):
            if user.id == int(ident):
                return Channel.EMAIL, user, user.user_id
    raise LookupError("that destination is not on file for this caller's organization")


def sent_to_contact_on_file(session: Session, call: Call, tenant: Tenant) -> bool:
    """Whether the call's latest code went to a destination still on file.

    A sync may remove or demote the admin a code was e-mailed to while the
    call is open: that code then proves possession of no contact on file.
    """
    last = session.scalars(
        select(CodeSend).where(CodeSend.call_id == call.id).order_by(CodeSend.id.desc()).limit(1)
    ).first()
    if last is None or last.account_user_id is None:
        return True
    return any(user.id == last.account_user_id for user in _admins(session, tenant))


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
    sends: Sequence[Row[datetime, str, Channel, int | None]] = ()
    tries: Sequence[Row[datetime, bool]] = ()
    callbacks: Sequence[Row[int, bool | None, datetime | None]] = ()
    if not first_verified:
        sends = session.execute(
            select(CodeSend.sent_at, CodeSend.code_hash, CodeSend.channel, CodeSend.account_user_id)
            .where(CodeSend.call_id == call.id)
            .order_by(CodeSend.id)
        ).all()
        tries = session.execute(
            select(CodeTry.tried_at, CodeTry.matched).where(CodeTry.call_id == call.id)
        ).all()
        callbacks = session.execute(
            select(Callback.id, Callback.answered, Callback.answered_at)
            .where(Callback.call_id == call.id)
            .order_by(Callback.id)
        ).all()
    state = CodeState(
        (otp.CodeSend(at, code_hash) for at, code_hash, _, _ in sends),
        (otp.CodeTry(at, matched) for at, matched in tries),
        verification.round_start(now),
    )
    shown = destinations(session, tenant, settings)
    last = _destination_words(session, tenant, *sends[-1][2:]) if sends else ""
    pending = [id_ for id_, answered, _ in callbacks if answered is None]
    return Possession(
        proven=_factors(
            [at for at, matched in tries if matched],
            [at for _, answered, at in callbacks if answered and at is not None],
            verification,
            now,
        ),
        has_pin=has_pin,
        destinations=shown,
        code_sent=state.sent,
        code_words=_code_words(state, last, now),
        send_refusal=state.send_refusal(now),
        try_refusal=state.try_refusal(now),
        tries_left=state.tries_left,
        callback_pending=pending[-1] if pending else None,
        no_sender="" if shown else _no_sender(settings, protection_of(session).tiers, has_pin),
    )


def _admins(session: Session, tenant: Tenant) -> list[AccountUser]:
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


def _destination_words(
    session: Session, tenant: Tenant, channel: Channel, account_user_id: int | None
) -> str:
    """Where the call's last code went, masked."""
    if channel is Channel.SMS:
        return otp.masked(Channel.SMS, tenant.phone_e164)
    user = None if account_user_id is None else session.get(AccountUser, account_user_id)
    return otp.masked(Channel.EMAIL, user.user_id) if user is not None else "an admin"


def _code_words(state: CodeState, last: str, now: datetime) -> tuple[str, ...]:
    """Where the code stands, in words for the agent."""
    if state.proven:
        return ("code confirmed",)
    if not state.sent:
        return ()
    tries = state.tries_left
    resend = state.send_refusal(now)
    return (
        f"code sent to {last}",
        f"{tries} {'try' if tries == 1 else 'tries'} left",
        resend if resend is not None else "a resend is possible",
    )


def _no_sender(
    settings: Settings, overrides: tuple[tuple[Action, Tier], ...], has_pin: bool
) -> str:
    """Which actions no code can serve, when neither SMTP nor SMS is configured."""
    tiers = tier_map(overrides)
    needing = [a for a in Action if tiers[a] is not Tier.REVERSIBLE]
    if not needing:
        return ""
    # The PIN serves "ends service" where the tenant has one; the callback serves every tier.
    left = [a for a in needing if not has_pin or tiers[a] is Tier.DESTROYS_DATA]
    words = "no code can be sent (no SMTP server or SMS gateway configured)"
    if not left:
        return f"{words}: the PIN or the callback serves every action"
    return f"{words}: {', '.join(phrase(a) for a in left)} only with the callback"
