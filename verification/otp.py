"""One-time codes (PRODUCT.md section 5): the one home of their rules.

A code is 6 digits from ``secrets``, valid 10 minutes after it was sent. A
call allows at most 5 tries in all (each wrong one is also a miss of the
call, counted by the desk), a resend at most every 30 s, and 3 resends after
the first send. Only the latest code is valid: a resend voids the one before,
so the caller cannot read an older message back. ``CodeState`` is rebuilt
from the stored sends and tries, like ``session.VerificationSession``, and
holds no clock.

A code serves the verification it was sent in (``CodeState(since=…)``, the
round's start; ``verification.tiers.held`` is the rule for every factor):
once that verification lapses and the items are asked again, a code confirmed
or sent before proves nothing and cannot be tried; a new code may be sent
within the call's limits. The tries and resends are counted over the whole
call, whatever the round: asking the items again buys no new guesses.

Why scrypt (``hashing.hash_secret``) and not a salted SHA-256: a 6-digit code
has only 10^6 values, so a salted fast hash read out of the database gives
the code back in well under a second. At scrypt's ~50 ms per guess, running
the whole space costs about 14 CPU-hours, far beyond the code's 10 minutes,
while checking the at most 5 tries costs the desk a quarter of a second. A
server-side key (HMAC with a pepper) would be stronger still but needs a
secret outside the database, which this pure module cannot hold.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from verification.errors import InputError
from verification.hashing import hash_secret, verify_secret
from verification.phone import mask_phone
from verification.userid import mask_user_id

DIGITS = 6
VALID_FOR = timedelta(minutes=10)
MAX_TRIES = 5
RESEND_GAP = timedelta(seconds=30)
MAX_RESENDS = 3


class Channel(StrEnum):
    """How a code reaches the caller."""

    SMS = "sms"
    EMAIL = "email"


def masked(channel: Channel, destination: str) -> str:
    """The destination as the agent sees it: ``•••0100`` or ``a•••@contoso.com``."""
    return mask_phone(destination) if channel is Channel.SMS else mask_user_id(destination)


def new_code() -> tuple[str, str]:
    """A fresh code and its stored hash; the code goes to the sender, never to storage."""
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    return code, hash_secret(code)


def normalize_code(text: str) -> str:
    """The code as typed, spaces and dashes removed; InputError unless 6 digits.

    An input error is not a try: only a well-formed code can be wrong.
    """
    kept = "".join(ch for ch in text if not ch.isspace() and ch != "-")
    if not kept:
        raise InputError("enter the code the caller reads out")
    if len(kept) != DIGITS or not (kept.isascii() and kept.isdigit()):
        raise InputError(f"a code is {DIGITS} digits")
    return kept


@dataclass(frozen=True)
class CodeSend:
    """One stored send: when (aware UTC) and the code's hash."""

    at: datetime
    code_hash: str


@dataclass(frozen=True)
class CodeTry:
    """One stored try: when and whether it matched."""

    at: datetime
    matched: bool


class CodeState:
    """Where a call's one-time code stands, rebuilt from its sends and tries.

    ``since`` is the start of the verification holding now: only a code sent
    and confirmed since counts. None bounds nothing (every send is this round's).
    """

    def __init__(
        self,
        sends: Iterable[CodeSend],
        tries: Iterable[CodeTry],
        since: datetime | None = None,
    ) -> None:
        self.sends = tuple(sorted(sends, key=lambda s: s.at))
        self.tries = tuple(sorted(tries, key=lambda t: t.at))
        self._current = tuple(s for s in self.sends if since is None or s.at >= since)
        self._round_tries = tuple(t for t in self.tries if since is None or t.at >= since)

    @property
    def sent(self) -> bool:
        """Whether a code was sent in this verification."""
        return bool(self._current)

    @property
    def proven(self) -> bool:
        """Whether a try matched in this verification: possession is proven."""
        return any(t.matched for t in self._round_tries)

    @property
    def tries_left(self) -> int:
        """Tries the call still allows."""
        return max(0, MAX_TRIES - len(self.tries))

    def send_refusal(self, now: datetime) -> str | None:
        """Why a (re)send is refused at ``now``, or None when it may go."""
        if self.proven:
            return "the code was already confirmed"
        if not self.tries_left:
            return f"no tries left after {MAX_TRIES} wrong codes — offer the callback"
        if not self.sends:
            return None
        if len(self.sends) > MAX_RESENDS:
            return f"the code was already resent {MAX_RESENDS} times — offer the callback"
        wait = self.sends[-1].at + RESEND_GAP - now
        if wait > timedelta(0):
            return f"resend possible in {int(-(-wait.total_seconds() // 1))} s"
        return None

    def try_refusal(self, now: datetime) -> str | None:
        """Why a typed code cannot be tried at ``now``, or None when it can."""
        if self.proven:
            return "the code was already confirmed"
        if not self._current:
            if self.sends:
                return "no code sent in this verification — send a new one"
            return "no code sent yet"
        if not self.tries_left:
            return f"no tries left after {MAX_TRIES} wrong codes — offer the callback"
        if now >= self._current[-1].at + VALID_FOR:
            return "the code has expired — send a new one"
        return None

    def check(self, text: str, now: datetime) -> bool:
        """Whether the typed code is the latest one sent (the desk stores the try).

        Raises InputError for text that is no code (not a try), ValueError
        with the refusal when no try is possible now.
        """
        code = normalize_code(text)
        refusal = self.try_refusal(now)
        if refusal is not None:
            raise CodeRefused(refusal)
        return verify_secret(code, self._current[-1].code_hash)


class CodeRefused(ValueError):
    """A try or send the rules refuse now; the message says why in one line."""
