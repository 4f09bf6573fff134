"""One account record: typed, normalized fields, or every reason it is bad.

A tenant's fields repeat on each of its rows, so each distinct set of raw
values is validated once (``_memoized``) and its reasons replayed. Lengths
are checked against the columns' own limits, so an over-long value is a bad
row, never a failed transaction or a silently truncated value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar, cast

import pycountry

from db.importer.files import COLUMN_SET
from db.models import AccountUser, Base, Subscription, Tenant
from verification.errors import InputError
from verification.kinds import Channel, SubscriptionKind, SubscriptionStatus
from verification.phone import normalize_phone
from verification.userid import normalize_user_id

# What ``_tenant`` reads: every row of a tenant repeats them, so a tenant's
# fields are validated once per distinct set of values, not once per user.
_TENANT_COLUMNS = (
    "organization",
    "contact_first_name",
    "contact_last_name",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "domains",
    "support_pin",
)
_SUBSCRIPTION_COLUMNS = (
    "kind",
    "channel",
    "status",
    "term_start",
    "term_end",
    "canceled_at",
    "data_deletion_on",
    "auto_renew",
)
# Parsed field groups by their raw values, with the reasons they were bad.
Memo = dict[tuple[object, ...], tuple[object, list[str]]]
MIN_PIN_LENGTH = 4

_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0", ""})
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


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


@dataclass(frozen=True, slots=True)
class _TenantFields:
    organization: str
    contact_first_name: str
    contact_last_name: str
    phone: str
    address_line1: str
    address_line2: str
    city: str
    region: str
    postal_code: str
    country: str
    domains: tuple[str, ...]
    support_pin: str | None


@dataclass(frozen=True, slots=True)
class _SubscriptionFields:
    kind: SubscriptionKind
    channel: Channel
    term_start: date
    term_end: date
    auto_renew: bool
    status: SubscriptionStatus
    canceled_at: datetime | None
    data_deletion_on: date | None


@dataclass(frozen=True, slots=True)
class _UserFields:
    display_name: str
    is_admin: bool


@dataclass(frozen=True, slots=True)
class Row:
    """One good record, typed and normalized, with its line in the file."""

    line: int
    tenant_ref: str
    tenant: _TenantFields
    user_id: str
    user: _UserFields
    product_name: str
    subscription: _SubscriptionFields


class _Fields:
    """Reads typed values out of one record, collecting every problem."""

    def __init__(self, record: Mapping[str, object]) -> None:
        self.record = record
        self.reasons: list[str] = []

    def text(self, name: str, required: bool = False) -> str:
        value = self.record.get(name)
        if value is None:
            value = ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.reasons.append(f"{name} must be text")
            return ""
        value = " ".join(value.split())
        if required and not value:
            self.reasons.append(f"missing {name}")
        limit = _MAX_LENGTHS.get(name)
        if limit is not None and len(value) > limit:
            self.reasons.append(f"{name} is longer than {limit} characters")
        return value

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
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

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


Parts = _TenantFields | _SubscriptionFields | _UserFields


def parse_row(
    line: int, record: Mapping[str, object], default_region: str, memo: Memo
) -> tuple[Row | None, list[str]]:
    """One record validated and normalized, or the reasons it is bad."""
    f = _Fields(record)
    unknown = sorted(str(k) for k in record.keys() - COLUMN_SET)
    if unknown:
        f.reasons.append(f"unknown field(s): {', '.join(unknown)}")
    tenant_ref = f.text("tenant_ref", required=True)
    tenant = _memoized(memo, f, _TENANT_COLUMNS, lambda: _tenant(f, default_region))
    user_id = f.text("user_id", required=True)
    if user_id:
        try:
            user_id = normalize_user_id(user_id)
        except InputError as exc:
            f.reasons.append(str(exc))
    user = _UserFields(f.text("display_name") or user_id, f.flag("is_admin"))
    product_name = f.text("product_name", required=True)
    subscription = _memoized(memo, f, _SUBSCRIPTION_COLUMNS, lambda: _subscription(f))
    if f.reasons or subscription is None:
        return None, f.reasons
    return Row(line, tenant_ref, tenant, user_id, user, product_name, subscription), []


def _memoized(memo: Memo, f: _Fields, columns: tuple[str, ...], parse: Callable[[], T]) -> T:
    """``parse()`` once per distinct set of raw values of ``columns``.

    The rows of one tenant repeat its fields, so each set is validated once;
    the reasons it was bad are replayed on every row that repeats it.
    """
    raw = tuple(map(f.record.get, columns))
    # The types are part of the key because True == 1 == 1.0 as dict keys.
    key: tuple[object, ...] = (columns, raw, tuple(map(type, raw)))
    try:
        known = memo.get(key)
    except TypeError:  # a JSON list or object among the values
        key = (columns, repr(raw))
        known = memo.get(key)
    if known is not None:
        f.reasons.extend(known[1])
        return cast(T, known[0])
    before = len(f.reasons)
    parsed = parse()
    memo[key] = (parsed, f.reasons[before:])
    return parsed


def _tenant(f: _Fields, default_region: str) -> _TenantFields:
    country_text = f.text("country", required=True)
    country = _country(country_text) if country_text else None
    if country_text and country is None:
        f.reasons.append(f"unknown country {country_text!r} (expected an ISO code like US)")
    phone = f.text("phone", required=True)
    if phone:
        try:
            # A bad country is reported already; the default region still
            # lets a bad phone number be reported in the same pass.
            phone = normalize_phone(phone, country or default_region)
        except InputError as exc:
            f.reasons.append(str(exc))
    postal_code = f.text("postal_code").upper()
    if country == "US" and not postal_code:
        f.reasons.append("missing postal_code (required for US addresses)")
    pin = f.text("support_pin")
    if pin and len(pin) < MIN_PIN_LENGTH:
        f.reasons.append(f"support_pin must be at least {MIN_PIN_LENGTH} characters")
    return _TenantFields(
        organization=f.text("organization", required=True),
        contact_first_name=f.text("contact_first_name", required=True),
        contact_last_name=f.text("contact_last_name", required=True),
        phone=phone,
        address_line1=f.text("address_line1", required=True),
        address_line2=f.text("address_line2"),
        city=f.text("city", required=True),
        region=f.text("region"),
        postal_code=postal_code,
        country=country or "",
        domains=f.domains(),
        support_pin=pin or None,
    )


def _subscription(f: _Fields) -> _SubscriptionFields | None:
    kind = f.choice("kind", SubscriptionKind)
    channel = f.choice("channel", Channel)
    status = f.choice("status", SubscriptionStatus)
    start = f.day("term_start", required=True)
    end = f.day("term_end", required=True)
    if start and end and end < start:
        f.reasons.append("term_end is before term_start")
    canceled_at = f.moment("canceled_at")
    deletion_on = f.day("data_deletion_on")
    if status is SubscriptionStatus.CANCELED and (canceled_at is None or deletion_on is None):
        f.reasons.append("a canceled subscription needs canceled_at and data_deletion_on")
    if kind is None or channel is None or status is None or start is None or end is None:
        return None
    return _SubscriptionFields(
        kind=kind,
        channel=channel,
        term_start=start,
        term_end=end,
        auto_renew=f.flag("auto_renew"),
        status=status,
        canceled_at=canceled_at,
        data_deletion_on=deletion_on,
    )


@lru_cache(maxsize=512)
def _country(text: str) -> str | None:
    """The ISO alpha-2 code for an alpha-2 or alpha-3 code, or None."""
    code = text.strip().upper()
    found = None
    if len(code) == 2:
        found = pycountry.countries.get(alpha_2=code)
    elif len(code) == 3:
        found = pycountry.countries.get(alpha_3=code)
    return str(found.alpha_2) if found is not None else None
