"""Staff sign-in's second factor: time-based one-time codes (RFC 6238, by ``pyotp``).

The one home of the code rule in Python: a code is six digits for a 30-second
time step (HMAC-SHA1, the authenticator apps' default), one step either side
is accepted for clocks that drift, and a step at or before the last one
accepted is refused, so a code seen over a shoulder cannot be used again.
Revision 0020's ``agent_sign_in`` holds the same rule on PostgreSQL
(``totp_code``, with pgcrypto's ``hmac``); tests/db/test_totp.py holds both to
the same codes. Pure: every function takes the time.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import pyotp

DIGITS = 6
STEP_SECONDS = 30
# Steps either side of now that still count (RFC 6238 section 5.2 suggests one).
TOLERANCE = 1
ISSUER = "callgate"


def new_secret() -> str:
    """A fresh secret: 160 random bits as base32 (what authenticator apps take)."""
    return pyotp.random_base32(32)


def time_step(now: datetime) -> int:
    """The RFC 6238 time step ``now`` falls in (Unix time over 30 s)."""
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int, digits: int = DIGITS) -> str:
    """The code for ``step`` (RFC 4226's HOTP of the step counter)."""
    return pyotp.HOTP(secret, digits=digits).generate_otp(step)


def clean_code(text: str) -> str:
    """The code as typed, without the spaces or hyphens some apps show in it."""
    return "".join(ch for ch in text if ch not in " -\t")


def accepted_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` is right for near ``now``, or None to refuse it.

    Only steps after ``last_step`` (the last accepted) count: no code is used twice.
    """
    typed = clean_code(code)
    if len(typed) != DIGITS or not typed.isdigit():
        return None
    current = time_step(now)
    for step in range(current - TOLERANCE, current + TOLERANCE + 1):
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(code_at(secret, step), typed):
            return step
    return None


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (from the QR code or typed)."""
    label = quote(f"{ISSUER}:{username}")
    return (
        f"otpauth://totp/{label}?secret={secret}&issuer={ISSUER}"
        f"&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}"
    )
