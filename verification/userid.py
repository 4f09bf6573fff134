"""The sign-in user ID: an email-style name, compared case-insensitively."""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from verification.errors import InputError, echo

_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
# The plain ASCII shape nearly every user ID has: a dot-atom local part of at
# most 64 characters and a domain of letter-digit-hyphen labels ending in an
# alphabetic TLD. email-validator accepts every such name unchanged, so these
# skip its Unicode machinery (most of an import's time); a property test holds
# the two paths to the same answers.
_PLAIN = re.compile(
    rf"(?=[^@]{{1,64}}@){_ATOM}(?:\.{_ATOM})*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
    re.ASCII,
)
_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)
_SPECIAL_USE_SUFFIXES = tuple("." + name for name in SPECIAL_USE_DOMAIN_NAMES)


def normalize_user_id(text: str) -> str:
    """The canonical form of a user ID: syntax checked (no DNS), lower-cased.

    Raises InputError naming briefly why the text is not a user ID.
    """
    stripped = text.strip()
    if not stripped:
        raise InputError("enter the caller's user ID")
    plain = plain_user_id(stripped)
    if plain is not None:
        return plain
    try:
        result = validate_email(stripped, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InputError(f"not a user ID: {echo(stripped)} ({_reason(exc)})") from None
    except Exception:  # the library's internals may fail on odd Unicode; still an input error
        raise InputError(f"not a user ID: {echo(stripped)}") from None
    return result.normalized.lower()


def plain_user_id(text: str) -> str | None:
    """``text`` lower-cased when it has the plain ASCII shape (see ``_PLAIN``), else None."""
    lowered = text.lower()
    if len(lowered) > 254 or not _PLAIN.fullmatch(lowered):
        return None
    domain = lowered.rpartition("@")[2]
    # Punycode-like labels and special-use names need the library's rules.
    if "--" in domain or domain in _SPECIAL_USE or domain.endswith(_SPECIAL_USE_SUFFIXES):
        return None
    return lowered


def match_user_id(stated: str, on_file: str) -> bool:
    """Whether a stated user ID is the (normalized) one on file. Raises InputError.

    A blank value on file matches nothing.
    """
    on_file = on_file.strip().lower()
    return bool(on_file) and normalize_user_id(stated) == on_file


def _reason(exc: EmailNotValidError) -> str:
    """The library's message as a short lower-case clause."""
    message = str(exc).strip().rstrip(".")
    return message[:1].lower() + message[1:]


def mask_user_id(user_id: str) -> str:
    """A user ID (an e-mail address) as masked views show it: ``a•••@contoso.com``.

    The one user ID mask (the phone's is ``phone.mask_phone``): the first
    character of the local part and the domain, nothing else; blank stays blank.
    """
    if not user_id:
        return ""
    local, at, domain = user_id.rpartition("@")
    if not at or not local:
        return "•••"
    return f"{local[0]}•••@{domain}"
