"""The support PIN: a secret the customer sets, kept only as a slow hash."""

from __future__ import annotations

import unicodedata

from verification.errors import InputError
from verification.hashing import hash_secret, verify_secret
from verification.limits import MIN_PIN_LENGTH


def normalize_pin(text: str) -> str:
    """The PIN as hashed: NFKC, white space and hyphens removed.

    Callers read PINs out in groups ("12 34"), so the grouping is not part of
    the secret. Raises InputError when nothing is left.
    """
    kept = (ch for ch in unicodedata.normalize("NFKC", text) if not ch.isspace() and ch != "-")
    # NFKC can split a character into a space and a combining mark; once the
    # space is gone the mark composes with what precedes it.
    pin = unicodedata.normalize("NFC", "".join(kept))
    if not pin:
        raise InputError("enter the caller's PIN")
    return pin


def hash_pin(text: str) -> str:
    """The stored form of a new PIN (what the importer and demo data keep)."""
    return hash_secret(normalize_pin(text))


def match_pin(stated: str, pin_hash: str | None) -> bool:
    """Whether the stated PIN is the one hashed, in constant time.

    Raises InputError for a PIN shorter than any stored PIN can be, whatever
    is on file. ``pin_hash`` None (a tenant without a PIN) matches nothing.
    """
    pin = normalize_pin(stated)
    if len(pin) < MIN_PIN_LENGTH:
        raise InputError(f"a support PIN has at least {MIN_PIN_LENGTH} characters")
    return pin_hash is not None and verify_secret(pin, pin_hash)
