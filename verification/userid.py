"""The sign-in user ID: an email-style name, compared case-insensitively."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from verification.errors import InputError, echo


def normalize_user_id(text: str) -> str:
    """The canonical form of a user ID: syntax checked (no DNS), lower-cased.

    Raises InputError naming briefly why the text is not a user ID.
    """
    stripped = text.strip()
    if not stripped:
        raise InputError("enter the caller's user ID")
    try:
        result = validate_email(stripped, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InputError(f"not a user ID: {echo(stripped)} ({_reason(exc)})") from None
    except Exception:  # the library's internals may fail on odd Unicode; still an input error
        raise InputError(f"not a user ID: {echo(stripped)}") from None
    return result.normalized.lower()


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
