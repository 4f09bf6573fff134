"""Account records validated and normalized into rows, shared by import and sync.

The one home of the per-line rules of the account format (README.md): what
each field must hold, how it is normalized (phones to E.164, user IDs and
domains lower-cased, countries to ISO alpha-2), and how rows of one tenant,
subscription or user must agree. What one field's text may be is
``db.accounts.fields``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

import pycountry

from db.accounts.fields import FieldReader
from db.accounts.file import COLUMNS, BadRow, shown_name
from db.accounts.memo import Memo, memoized
from verification.errors import InputError
from verification.kinds import Channel, SubscriptionKind, SubscriptionStatus
from verification.phone import normalize_phone
from verification.userid import normalize_user_id

_COLUMN_SET = frozenset(COLUMNS)
# What ``_tenant`` reads: every row of a tenant repeats them, so a tenant's
# fields are validated once per distinct set of values, not once per user.
# A tenant's text fields as the file names them and ``TenantFields`` holds them.
TENANT_TEXT = (
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
)
_TENANT_COLUMNS = (*TENANT_TEXT, "domains", "support_pin")
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
MIN_PIN_LENGTH = 4


@dataclass(frozen=True, slots=True)
class TenantFields:
    """A tenant's fields as stored (the PIN in clear: it is hashed on writing)."""

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
class SubscriptionFields:
    """A subscription's fields as stored."""

    kind: SubscriptionKind
    channel: Channel
    term_start: date
    term_end: date
    auto_renew: bool
    status: SubscriptionStatus
    canceled_at: datetime | None
    data_deletion_on: date | None


@dataclass(frozen=True, slots=True)
class UserFields:
    """An account user's fields as stored."""

    display_name: str
    is_admin: bool


class AccountRow(NamedTuple):
    """One good line of an account file, normalized.

    A named tuple rather than a frozen dataclass: one is made per line, and
    a frozen dataclass sets each field through ``object.__setattr__``.
    """

    line: int
    tenant_ref: str
    tenant: TenantFields
    user_id: str
    user: UserFields
    product_name: str
    subscription: SubscriptionFields


@dataclass(frozen=True)
class Distinct:
    """The first good row of each tenant, user and subscription of a file."""

    tenants: dict[str, AccountRow]
    users: dict[str, AccountRow]
    subscriptions: dict[tuple[str, str], AccountRow]


@dataclass(frozen=True)
class ParsedFile:
    """The good rows of a file, every bad line found, and how many records it had."""

    rows: list[AccountRow]
    bad: list[BadRow]
    count: int
    distinct: Distinct


def parse_records(
    records: Iterable[tuple[int, Mapping[str, object]]],
    default_region: str,
    file_errors: Iterable[BadRow] = (),
) -> ParsedFile:
    """Every record validated, then the rows checked against each other.

    ``file_errors`` are read after ``records`` is consumed (the reader is lazy).
    """
    bad: list[BadRow] = []
    rows: list[AccountRow] = []
    tenants: Memo = {}
    subscriptions: Memo = {}
    count = 0
    for line, record in records:
        count += 1
        row, reasons = parse_record(line, record, default_region, tenants, subscriptions)
        if reasons:
            bad.append(BadRow(line, "; ".join(reasons)))
        elif row is not None:
            rows.append(row)
    bad.extend(file_errors)
    if count == 0 and not bad:
        bad.append(BadRow(1, "no account rows: nothing to import"))
    contradictions, distinct = cross_check(rows)
    bad.extend(contradictions)
    return ParsedFile(rows, bad, count, distinct)


def merge(bad: Iterable[BadRow]) -> list[BadRow]:
    """One bad row per line, in file order, with every reason found for it."""
    reasons: dict[int, list[str]] = {}
    for row in bad:
        reasons.setdefault(row.line, []).append(row.reason)
    return [BadRow(line, "; ".join(reasons[line])) for line in sorted(reasons)]


_Parts = TenantFields | SubscriptionFields | UserFields


def parse_record(
    line: int,
    record: Mapping[str, object],
    default_region: str,
    tenants: Memo,
    subscriptions: Memo,
) -> tuple[AccountRow | None, list[str]]:
    """One record validated and normalized, or the reasons it is bad.

    ``tenants`` and ``subscriptions`` keep the field groups parsed so far.
    """
    f = FieldReader(record)
    if not record.keys() <= _COLUMN_SET:
        unknown = sorted(shown_name(str(k)) for k in record.keys() - _COLUMN_SET)
        f.reasons.append(f"unknown field(s): {', '.join(unknown)}")
    tenant_ref = f.text("tenant_ref", required=True)
    tenant = memoized(tenants, f, _TENANT_COLUMNS, lambda: _tenant(f, default_region))
    user_id = f.text("user_id", required=True)
    if user_id:
        try:
            user_id = normalize_user_id(user_id)
        except InputError as exc:
            f.reasons.append(str(exc))
    user = UserFields(f.text("display_name") or user_id, f.flag("is_admin"))
    product_name = f.text("product_name", required=True)
    subscription = memoized(subscriptions, f, _SUBSCRIPTION_COLUMNS, lambda: _subscription(f))
    if f.reasons or subscription is None:
        return None, f.reasons
    return AccountRow(line, tenant_ref, tenant, user_id, user, product_name, subscription), []


def _tenant(f: FieldReader, default_region: str) -> TenantFields:
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
    return TenantFields(
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


def _subscription(f: FieldReader) -> SubscriptionFields | None:
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
    return SubscriptionFields(
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


def cross_check(rows: list[AccountRow]) -> tuple[list[BadRow], Distinct]:
    """Rows that contradict an earlier row of the file, and the first row of each record."""
    bad: list[BadRow] = []
    tenants: dict[str, AccountRow] = {}
    subscriptions: dict[tuple[str, str], AccountRow] = {}
    users: dict[str, AccountRow] = {}
    pairs: dict[tuple[str, str], AccountRow] = {}
    for row in rows:
        reasons: list[str] = []
        first = tenants.setdefault(row.tenant_ref, row)
        if first.tenant is not row.tenant and first.tenant != row.tenant:
            names = differing(first.tenant, row.tenant)
            reasons.append(f"tenant {row.tenant_ref!r} differs from line {first.line} in {names}")
        key = (row.tenant_ref, row.product_name)
        first = subscriptions.setdefault(key, row)
        if first.subscription is not row.subscription and first.subscription != row.subscription:
            names = differing(first.subscription, row.subscription)
            reasons.append(
                f"subscription {row.product_name!r} differs from line {first.line} in {names}"
            )
        first = users.setdefault(row.user_id, row)
        if first.tenant_ref != row.tenant_ref:
            reasons.append(f"duplicate user ID {row.user_id}: already on line {first.line}")
        elif first.user != row.user:
            names = differing(first.user, row.user)
            reasons.append(f"user {row.user_id} differs from line {first.line} in {names}")
        first = pairs.setdefault((row.user_id, row.product_name), row)
        if first is not row and first.tenant_ref == row.tenant_ref:
            reasons.append(f"duplicate of line {first.line} (same user ID and product)")
        if reasons:
            bad.append(BadRow(row.line, "; ".join(reasons)))
    return bad, Distinct(tenants, users, subscriptions)


def differing(a: _Parts, b: _Parts) -> str:
    """The names of the fields in which two field groups differ."""
    return ", ".join(f.name for f in fields(a) if getattr(a, f.name) != getattr(b, f.name))


def counts(distinct: Distinct) -> dict[str, int]:
    """How many tenants, users, subscriptions, domains and PINs a file holds."""
    tenants = [row.tenant for row in distinct.tenants.values()]
    return {
        "tenants": len(tenants),
        "users": len(distinct.users),
        "subscriptions": len(distinct.subscriptions),
        "domains": sum(len(t.domains) for t in tenants),
        "pins": sum(1 for t in tenants if t.support_pin),
    }
