"""Request references (``CG-7K4-Q2M``): short, read out by phone, typed back.

The alphabet has no 0/O nor 1/I: 32 symbols, six of them (2^30, about a
billion references). Typed back, case, spaces, dots and dashes do not matter
and the ``CG`` prefix may be left out. A 0, O, 1 or I is refused rather than
folded: none of them is in the alphabet, so folding O→0 (or I→1) would still
be no reference, and guessing which letter was meant could find another
request. The error says which characters a reference never holds.
"""

from __future__ import annotations

import secrets

from verification.errors import InputError, echo

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PREFIX = "CG"
_LENGTH = 6
_IGNORED = frozenset(" -.\t")


def new_reference() -> str:
    """A fresh reference from ``secrets`` (the caller checks it is unused)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(_LENGTH))
    return _format(body)


def normalize_reference(text: str) -> str:
    """The canonical ``CG-XXX-XXX`` form of a typed reference.

    Raises InputError when the text cannot be a reference.
    """
    kept = "".join(ch for ch in text.upper() if ch not in _IGNORED)
    if len(kept) == _LENGTH + len(PREFIX) and kept.startswith(PREFIX):
        kept = kept[len(PREFIX) :]
    if not kept:
        raise InputError("enter a reference like CG-7K4-Q2M")
    if any(ch in "0O1I" for ch in kept):
        raise InputError("a reference never holds 0, O, 1 or I: ask the caller to spell it")
    if len(kept) != _LENGTH or any(ch not in ALPHABET for ch in kept):
        raise InputError(f"not a reference: {echo(text.strip())}")
    return _format(kept)


def _format(body: str) -> str:
    return f"{PREFIX}-{body[:3]}-{body[3:]}"
