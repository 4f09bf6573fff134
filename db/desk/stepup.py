"""Proof of possession at the agent desk: one-time codes, callbacks and the tier gate.

The one home of the step-up writes (PRODUCT.md section 5). ``send_code``
checks the resend limits (``verification.otp.CodeState.send_refusal``), makes
a code with ``secrets``, stores only its hash, then hands it to the configured
sender (SMTP or the SMS gateway) outside any transaction: stored first, so two
desks sending at once never deliver a code nobody stored; a send that fails
is deleted again, counts nothing and says so in one line. ``try_code`` stores each
try; a wrong one is a miss of the call and of its tenant, counted and locked
exactly as an item mismatch (``db.desk.guessing.after_miss``,
``db.desk.verify.update_call_state``). ``callback_shown`` is the one place
the whole number on file leaves the database for the desk, and the audit
chain records it. ``missing_factor`` is the gate ``take_action`` asks before
applying an action.

Audit events carry ids and results only: never the code, never a destination.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from db.audit.chain import append_event
from db.calls import get_call, taken_by, tenant_of
from db.delivery.mail import MailError, MailSender
from db.delivery.sms import SmsError, SmsSender
from db.desk.guessing import after_miss, hold_tenant
from db.desk.possession import (
    Destination,
    action_step_up,
    address_of,
    code_state,
    destinations,
    mail_configured,
    proven,
    sent_to_contact_on_file,
    sms_configured,
)
from db.desk.verify import update_call_state
from db.desk.views import CallView, gate, verification_of, view
from db.engine import unit_of_work
from db.models import Call, Callback, CodeSend, CodeTry, Tenant
from db.policy import protection_of
from db.settings import Settings, sms_token, smtp_password
from verification import otp
from verification.kinds import CallState, Item
from verification.otp import Channel, CodeRefused
from verification.phone import display_phone
from verification.policy import Action
from verification.session import VerificationSession
from verification.tiers import tier_map

SUBJECT = "Your verification code"


class StepUpRefused(Exception):
    """A factor step cannot be taken now; the message says why, for the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class CodeSenders:
    """The senders the operator configured (None: that channel cannot carry codes)."""

    mail: MailSender | None = None
    sms: SmsSender | None = None

    def close(self) -> None:
        """Release the SMS gateway's connection pool."""
        if self.sms is not None:
            self.sms.close()


def code_senders(settings: Settings) -> CodeSenders:
    """Senders built from the settings; the secrets are read here, not earlier."""
    mail = MailSender(settings, smtp_password(settings)) if mail_configured(settings) else None
    sms = None
    if sms_configured(settings):
        sms = SmsSender(
            settings.sms_base_url,
            settings.sms_account_sid,
            sms_token(settings),
            settings.sms_from,
            timeout=settings.delivery_timeout_seconds,
        )
    return CodeSenders(mail, sms)


@dataclass(frozen=True)
class CallbackNumber:
    """The number on file for a callback, shown once; ``callback_id`` records the outcome."""

    callback_id: int
    number: str


def code_destinations(
    factory: sessionmaker[Session], call_id: int, actor: str, settings: Settings, now: datetime
) -> tuple[Destination, ...]:
    """Where a code may go for this call's verified caller, masked only; the call's agent only."""
    with unit_of_work(factory) as session:
        call = get_call(session, call_id)
        tenant, _ = _open_call(session, call, actor, settings, now)
        return destinations(session, tenant, settings)


def send_code(
    factory: sessionmaker[Session],
    call_id: int,
    actor: str,
    destination_key: str,
    settings: Settings,
    now: datetime,
    sender: CodeSenders,
) -> CallView:
    """Send a new code to a destination on file and store its hash; raises ``StepUpRefused``.

    The send is stored before it goes out, under the call's row lock, so a
    second desk of the same agent sending at once is refused by the resend
    limits instead of sending a code nobody stored. The delivery happens
    between two short transactions, so a slow mail server holds no database
    lock; a failed one deletes the stored send again: it counts nothing.
    """
    code, code_hash = otp.new_code()
    with unit_of_work(factory) as session:
        call = get_call(session, call_id, for_update=True)
        tenant, verification = _open_call(session, call, actor, settings, now)
        _refuse_send(session, call, verification, now)
        try:
            channel, admin, address = address_of(session, tenant, destination_key)
        except LookupError as exc:
            raise StepUpRefused(str(exc)) from None
        admin_id = admin.id if admin is not None else None
        chosen = _sender_of(sender, channel)
        send = CodeSend(
            call_id=call.id,
            channel=channel,
            account_user_id=admin_id,
            code_hash=code_hash,
            sent_at=now,
        )
        session.add(send)
        session.flush()
        send_id = send.id
    try:
        _deliver(chosen, address, code)
    except (MailError, SmsError) as exc:
        with unit_of_work(factory) as session:
            session.execute(delete(CodeSend).where(CodeSend.id == send_id))
            append_event(
                session,
                actor=actor,
                type="code.send_failed",
                payload={"call_id": call_id, "channel": channel.value, "account_user_id": admin_id},
                at=now,
            )
        raise StepUpRefused(
            f"the code was not sent ({exc}); nothing counted — try again or call back"
        ) from None
    with unit_of_work(factory) as session:
        # Recorded whatever the call became meanwhile: the code went out.
        call = get_call(session, call_id, for_update=True)
        append_event(
            session,
            actor=actor,
            type="code.sent",
            payload={
                "call_id": call.id,
                "send_id": send_id,
                "channel": channel.value,
                "account_user_id": admin_id,
            },
            at=now,
        )
        return view(session, call, settings, now)


def try_code(
    factory: sessionmaker[Session],
    call_id: int,
    actor: str,
    typed: str,
    settings: Settings,
    now: datetime,
) -> CallView:
    """Check the code the caller read back; a wrong one is a miss of the call and tenant.

    Raises InputError (nothing written, no try) for text that is not 6 digits,
    ``StepUpRefused`` when no try is possible now (none sent, expired, no tries left).
    """
    otp.normalize_code(typed)
    with unit_of_work(factory) as session:
        call = get_call(session, call_id, for_update=True)
        hold_tenant(session, call)
        tenant, verification = _open_call(session, call, actor, settings, now)
        if not sent_to_contact_on_file(session, call, tenant):
            raise StepUpRefused(
                "the code went to a number or address no longer on file — send a new one"
            )
        try:
            since = verification.round_start(now)
            matched = code_state(session, call, tenant, since).check(typed, now)
        except CodeRefused as exc:
            raise StepUpRefused(str(exc)) from None
        attempt = CodeTry(call_id=call.id, matched=matched, tried_at=now)
        session.add(attempt)
        session.flush()
        append_event(
            session,
            actor=actor,
            type="code.tried",
            payload={
                "call_id": call.id,
                "try_id": attempt.id,
                "result": "match" if matched else "mismatch",
            },
            at=now,
        )
        if not matched:
            after_miss(session, call, None, "", actor, now)
        verification = verification_of(session, call, tenant)
        call.misses = verification.misses
        update_call_state(session, call, tenant, verification, actor, now)
        return view(session, call, settings, now, verification)


def callback_shown(
    factory: sessionmaker[Session], call_id: int, actor: str, settings: Settings, now: datetime
) -> CallbackNumber:
    """The whole number on file, for the callback only; the chain records that it was shown."""
    with unit_of_work(factory) as session:
        call = get_call(session, call_id, for_update=True)
        tenant, _ = _open_call(session, call, actor, settings, now)
        callback = Callback(call_id=call.id, shown_at=now)
        session.add(callback)
        session.flush()
        append_event(
            session,
            actor=actor,
            type="callback.shown",
            payload={"call_id": call.id, "callback_id": callback.id},
            at=now,
        )
        return CallbackNumber(callback.id, display_phone(tenant.phone_e164))


def callback_result(
    factory: sessionmaker[Session],
    call_id: int,
    actor: str,
    callback_id: int,
    answered: bool,
    settings: Settings,
    now: datetime,
) -> CallView:
    """Record whether the callback reached the customer; answered, it proves possession."""
    with unit_of_work(factory) as session:
        call = get_call(session, call_id, for_update=True)
        _open_call(session, call, actor, settings, now)
        callback = session.scalars(
            select(Callback).where(
                Callback.id == callback_id,
                Callback.call_id == call.id,
                Callback.answered.is_(None),
            )
        ).first()
        if callback is None:
            raise StepUpRefused("no callback of this call waits for its outcome")
        callback.answered = answered
        callback.answered_at = now
        append_event(
            session,
            actor=actor,
            type="callback.recorded",
            payload={"call_id": call.id, "callback_id": callback.id, "answered": answered},
            at=now,
        )
        return view(session, call, settings, now)


def missing_factor(
    session: Session,
    call: Call,
    verification: VerificationSession,
    action: Action,
    settings: Settings,
    now: datetime,
) -> str | None:
    """The gate's sentence when ``action``'s tier needs a factor this call has not proven."""
    tenant = tenant_of(session, call)
    factors = () if tenant is None else proven(session, call, tenant, verification, now)
    tiers = tier_map(protection_of(session).tiers)
    needs = action_step_up(action, tiers, factors, Item.PIN in verification.required)
    return needs.missing or None


def _open_call(
    session: Session, call: Call, actor: str | None, settings: Settings, now: datetime
) -> tuple[Tenant, VerificationSession]:
    """The call's tenant once its gate is open; refuses otherwise (and other agents)."""
    if call.state is CallState.CLOSED:
        raise StepUpRefused("this call has ended")
    if call.state is CallState.LOCKED:
        raise StepUpRefused("this call is locked after too many misses: end the call")
    if actor is not None and not taken_by(session, call, actor):
        raise StepUpRefused("only the agent who took this call can act in it")
    tenant = tenant_of(session, call)
    verification = verification_of(session, call, tenant)
    is_open, reasons, _ = gate(session, call, tenant, verification, now)
    if not is_open or tenant is None:
        raise StepUpRefused("the gate is closed: " + "; ".join(reasons))
    return tenant, verification


def _refuse_send(
    session: Session, call: Call, verification: VerificationSession, now: datetime
) -> None:
    tenant = tenant_of(session, call)
    assert tenant is not None  # the gate is open: the tenant was found
    refusal = code_state(session, call, tenant, verification.round_start(now)).send_refusal(now)
    if refusal is not None:
        raise StepUpRefused(refusal)


def _sender_of(sender: CodeSenders, channel: Channel) -> MailSender | SmsSender:
    """The configured sender of ``channel``; refused (nothing stored) when there is none."""
    if channel is Channel.SMS:
        if sender.sms is None:
            raise StepUpRefused("no SMS gateway is configured: choose an e-mail or call back")
        return sender.sms
    if sender.mail is None:
        raise StepUpRefused("no SMTP server is configured: choose a text or call back")
    return sender.mail


def _deliver(sender: MailSender | SmsSender, address: str, code: str) -> None:
    body = (
        f"Your verification code is {code}. It is valid for {_minutes(otp.VALID_FOR)} minutes.\n"
        "Read it to the agent on the phone only if you asked to change your subscription."
    )
    if isinstance(sender, SmsSender):
        sender.send(address, body)
    else:
        sender.send(address, SUBJECT, body, str(uuid.uuid4()))


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)
