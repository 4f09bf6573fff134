"""What the factor step says to the agent: where a code went, where it stands, what cannot be sent.

The one home of the step's sentences; ``db.desk.possession`` decides what holds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from db.models import AccountUser, Tenant
from db.settings import Settings
from verification import otp
from verification.otp import Channel, CodeState
from verification.policy import Action
from verification.tiers import Tier, phrase, tier_map


def destination_words(
    session: Session, tenant: Tenant, channel: Channel, account_user_id: int | None
) -> str:
    """Where the call's last code went, masked."""
    if channel is Channel.SMS:
        return otp.masked(Channel.SMS, tenant.phone_e164)
    user = None if account_user_id is None else session.get(AccountUser, account_user_id)
    return otp.masked(Channel.EMAIL, user.user_id) if user is not None else "an admin"


def code_words(state: CodeState, last: str, now: datetime) -> tuple[str, ...]:
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


def no_sender_words(
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
