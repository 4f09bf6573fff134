"""Typed values read out of one account record, every problem collected.

The one home of what a field's text may be: whitespace collapsed, a length
limit from the column it is stored in, no lone surrogate and no NUL (which a
database would refuse only at the write), flags, enums, dates and domains.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TypeVar

from db.models import AccountUser, Base, Subscription, Tenant

_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0", ""})
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")

E = TypeVar("E", bound=StrEnum)
# The length limit of a field stored in no sized column.
_UNLIMITED = 1 << 62


def _max_length(model: type[Base], column: str) -> int:
    length = getattr(model.__table__.c[column].type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{model.__name__}.{column} has no length")
    return length


# Checked per row so that an over-long value is a bad row, not a failed
# transaction (PostgreSQL refuses it) or a silently stored one (SQLite).
_MAX_LENGTHS = {
    "tenant_ref": _max_length(Tenant, "ref"),
    "organization": _max_length(Tenant, "organization"),
    "contact_first_name": _max_length(Tenant, "contact_first_name"),
    "contact_last_name": _max_length(Tenant, "contact_last_name"),
    "address_line1": _max_length(Tenant, "address_line1"),
    "address_line2": _max_length(Tenant, "address_line2"),
    "city": _max_length(Tenant, "city"),
    "region": _max_length(Tenant, "region"),
    "postal_code": _max_length(Tenant, "postal_code"),
    "user_id": _max_length(AccountUser, "user_id"),
    "display_name": _max_length(AccountUser, "display_name"),
    "product_name": _max_length(Subscription, "product_name"),
}


class FieldReader:
    """Reads typed values out of one record, collecting every problem."""

    def __init__(self, record: Mapping[str, object]) -> None:
        self.record = record
        self.reasons: list[str] = []

    def text(self, name: str, required: bool = False) -> str:
        value = self.record.get(name)
        # Plain ASCII text, the usual case, needs only its whitespace collapsed.
        if type(value) is not str or not value.isascii() or "\x00" in value:
            checked = self._checked_text(name, value)
            if checked is None:
                return ""
            value = checked
        value = " ".join(value.split())
        if not value:
            if required:
                self.reasons.append(f"missing {name}")
        elif len(value) > _MAX_LENGTHS.get(name, _UNLIMITED):
            self.reasons.append(f"{name} is longer than {_MAX_LENGTHS[name]} characters")
        return value

    def _checked_text(self, name: str, value: object) -> str | None:
        """A value that is not plain ASCII text as text, or None with the reason."""
        if value.__class__ is not str:
            return self._as_text(name, value)
        assert isinstance(value, str)
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                self.reasons.append(f"{name} is not valid Unicode text (a lone surrogate)")
                return None
        if "\x00" in value:
            # PostgreSQL stores no NUL in text; SQLite would, so refuse on both.
            self.reasons.append(f"{name} contains a NUL character")
            return None
        return value

    def _as_text(self, name: str, value: object) -> str | None:
        """A value that is not a str as text (numbers), or None with the reason."""
        if value is None:
            return ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return str(value)
            except ValueError:  # an int past Python's digit limit, from memory
                self.reasons.append(f"{name} is a number too long for any field")
                return None
        self.reasons.append(f"{name} must be text")
        return None

    def flag(self, name: str) -> bool:
        value = self.record.get(name)
        if isinstance(value, bool):
            return value
        word = self.text(name).lower()
        if word in _TRUE:
            return True
        if word not in _FALSE:
            self.reasons.append(f"{name} must be true or false, not {word!r}")
        return False

    def choice(self, name: str, enum: type[E]) -> E | None:
        word = self.text(name, required=True).lower()
        if not word:
            return None
        try:
            return enum(word)
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            self.reasons.append(f"unknown {name} {word!r} (one of {allowed})")
            return None

    def day(self, name: str, required: bool = False) -> date | None:
        word = self.text(name, required)
        if not word:
            return None
        try:
            return date.fromisoformat(word)
        except ValueError:
            self.reasons.append(f"bad date in {name}: {word!r} (expected YYYY-MM-DD)")
            return None

    def moment(self, name: str) -> datetime | None:
        word = self.text(name)
        if not word:
            return None
        try:
            moment = datetime.fromisoformat(word)
        except ValueError:
            self.reasons.append(f"bad date in {name}: {word!r} (expected ISO 8601)")
            return None
        # A bare date or a time without offset is taken as UTC, the stored zone.
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            self.reasons.append(f"bad date in {name}: {word!r} (outside the calendar in UTC)")
            return None

    def domains(self) -> tuple[str, ...]:
        value = self.record.get("domains")
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            items = [str(v) for v in value]
        else:
            items = self.text("domains").split(";")
        found: list[str] = []
        for item in items:
            domain = item.strip().lower().rstrip(".")
            if not domain:
                continue
            if not _DOMAIN.fullmatch(domain):
                self.reasons.append(f"not a domain name: {item.strip()!r}")
            elif domain not in found:
                found.append(domain)
        return tuple(sorted(found))
