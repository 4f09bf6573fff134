"""Account import from CSV or JSON: every bad row reported, all or nothing.

The format is flat: one record per account user and subscription, carrying
its tenant's fields too (the column list is ``COLUMNS``; README.md documents
it). Rows sharing a ``tenant_ref`` must agree on every tenant field; rows
sharing a ``tenant_ref`` and ``product_name`` describe one subscription and
must agree on its fields; a user ID may appear on several rows of one tenant
(one per subscription) with the same user fields, and nowhere else.

Re-importing never updates: a ``tenant_ref`` or user ID already in the
database makes its row bad, so a file is imported once, whole, or not at all.
Rows are written with bulk inserts in one transaction, with one
``accounts.imported`` audit event carrying the counts.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import TypeVar, cast

import pycountry
from sqlalchemy import insert, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from db.audit import append_event
from db.engine import unit_of_work
from db.models import AccountUser, Base, Subscription, Tenant, TenantDomain
from db.types import utcnow
from verification.errors import InputError
from verification.kinds import Channel, SubscriptionKind, SubscriptionStatus
from verification.phone import normalize_phone
from verification.pin import hash_pin
from verification.userid import normalize_user_id

REQUIRED_COLUMNS = (
    "tenant_ref",
    "organization",
    "contact_first_name",
    "contact_last_name",
    "phone",
    "address_line1",
    "city",
    "country",
    "user_id",
    "product_name",
    "kind",
    "channel",
    "term_start",
    "term_end",
    "status",
)
OPTIONAL_COLUMNS = (
    "address_line2",
    "region",
    "postal_code",
    "domains",
    "support_pin",
    "display_name",
    "is_admin",
    "auto_renew",
    "canceled_at",
    "data_deletion_on",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
_COLUMN_SET = frozenset(COLUMNS)
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
_Memo = dict[tuple[object, ...], tuple[object, list[str]]]
MIN_PIN_LENGTH = 4
# Bound on the number of values in one IN (...) list: under SQLite's limit.
_CHUNK = 500
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


class ImportFileError(ValueError):
    """The file cannot be read as an account file at all (not a bad row)."""


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be imported, with its line in the file."""

    line: int
    reason: str


@dataclass(frozen=True)
class ImportReport:
    """What an import found and did (``written`` is false on a dry run or a bad file)."""

    source: str
    dry_run: bool
    written: bool
    rows: int
    tenants: int
    users: int
    subscriptions: int
    domains: int
    pins: int
    bad_rows: tuple[BadRow, ...]

    @property
    def ok(self) -> bool:
        """Whether every row was good."""
        return not self.bad_rows


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
class _Row:
    line: int
    tenant_ref: str
    tenant: _TenantFields
    user_id: str
    user: _UserFields
    product_name: str
    subscription: _SubscriptionFields


def import_accounts(
    factory: sessionmaker[Session],
    path: str | Path,
    dry_run: bool = False,
    default_region: str = "US",
    *,
    actor: str = "operator",
) -> ImportReport:
    """Import the account file at ``path`` (``.csv`` or ``.json``).

    Raises ImportFileError when the file cannot be read or has an unknown
    extension; everything wrong inside the file is a bad row of the report.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ImportFileError(f"{file}: expected a .csv or .json file")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{file}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise ImportFileError(f"cannot read {file}: {exc.strerror}") from exc
    bad: list[BadRow] = []
    records = _csv_records(text, bad) if suffix == ".csv" else _json_records(text, bad)
    return import_records(
        factory,
        records,
        dry_run=dry_run,
        default_region=default_region,
        source=file.name,
        actor=actor,
        file_errors=bad,
    )


def import_records(
    factory: sessionmaker[Session],
    records: Iterable[tuple[int, Mapping[str, object]]],
    *,
    dry_run: bool = False,
    default_region: str = "US",
    source: str = "records",
    actor: str = "operator",
    file_errors: Sequence[BadRow] = (),
) -> ImportReport:
    """Validate ``(line, record)`` pairs and write them all, or nothing.

    ``file_errors`` are problems the reader found (bad header, bad JSON);
    reading is lazy, so they are complete only once ``records`` is consumed.
    """
    bad: list[BadRow] = []
    rows: list[_Row] = []
    memo: _Memo = {}
    count = 0
    for line, record in records:
        count += 1
        row, reasons = _parse(line, record, default_region, memo)
        if reasons:
            bad.append(BadRow(line, "; ".join(reasons)))
        elif row is not None:
            rows.append(row)
    bad.extend(file_errors)
    if count == 0 and not bad:
        bad.append(BadRow(1, "no account rows: nothing to import"))
    bad.extend(_cross_check(rows))
    with factory() as session:
        bad.extend(_check_database(session, rows))
    bad = _merge(bad)
    counts = _counts(rows)
    write = not bad and not dry_run and bool(rows)
    if write:
        _write(factory, rows, source, actor, counts)
    return ImportReport(
        source=source,
        dry_run=dry_run,
        written=write,
        rows=count,
        bad_rows=tuple(bad),
        **counts,
    )


def _merge(bad: list[BadRow]) -> list[BadRow]:
    """One bad row per line, in file order, with every reason found for it."""
    reasons: dict[int, list[str]] = {}
    for row in bad:
        reasons.setdefault(row.line, []).append(row.reason)
    return [BadRow(line, "; ".join(reasons[line])) for line in sorted(reasons)]


# --- reading ---------------------------------------------------------------


def _csv_records(text: str, bad: list[BadRow]) -> Iterator[tuple[int, dict[str, object]]]:
    """Records of a CSV file with a header row, each with its first line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        bad.append(BadRow(1, "the file is empty: expected a header row"))
        return
    except csv.Error as exc:
        bad.append(BadRow(1, f"unreadable header: {exc}"))
        return
    problems = _header_problems(header)
    if problems:
        bad.append(BadRow(1, problems))
        return
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            bad.append(BadRow(start, f"unreadable CSV: {exc}"))
            return
        line, start = start, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            bad.append(BadRow(line, f"{len(values)} values for {len(header)} columns"))
            continue
        yield line, dict(zip(header, values, strict=True))


def _header_problems(header: list[str]) -> str:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    repeated = sorted({c for c in header if header.count(c) > 1})
    parts = []
    if missing:
        parts.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        parts.append(f"unknown column(s): {', '.join(unknown)}")
    if repeated:
        parts.append(f"repeated column(s): {', '.join(repeated)}")
    return "; ".join(parts)


def _json_records(text: str, bad: list[BadRow]) -> Iterator[tuple[int, dict[str, object]]]:
    """The objects of a top-level JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    pos = _skip_space(text, 0)
    if not text.startswith("[", pos):
        bad.append(BadRow(_line_at(text, pos), "expected a JSON array of account objects"))
        return
    line, counted = 1, 0
    pos = _skip_space(text, pos + 1)
    if text.startswith("]", pos):
        return
    while True:
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            bad.append(BadRow(exc.lineno, f"invalid JSON: {exc.msg}"))
            return
        if isinstance(value, dict):
            yield line, value
        else:
            bad.append(BadRow(line, "expected an object"))
        pos = _skip_space(text, end)
        if text.startswith("]", pos):
            if text[_skip_space(text, pos + 1) :]:
                bad.append(BadRow(_line_at(text, pos + 1), "text after the JSON array"))
            return
        if not text.startswith(",", pos):
            bad.append(BadRow(_line_at(text, pos), "invalid JSON: expected ',' or ']'"))
            return
        pos = _skip_space(text, pos + 1)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


# --- one row ---------------------------------------------------------------


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


_Parts = _TenantFields | _SubscriptionFields | _UserFields


def _parse(
    line: int, record: Mapping[str, object], default_region: str, memo: _Memo
) -> tuple[_Row | None, list[str]]:
    """One record validated and normalized, or the reasons it is bad."""
    f = _Fields(record)
    unknown = sorted(str(k) for k in record.keys() - _COLUMN_SET)
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
    return _Row(line, tenant_ref, tenant, user_id, user, product_name, subscription), []


def _memoized(memo: _Memo, f: _Fields, columns: tuple[str, ...], parse: Callable[[], T]) -> T:
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


# --- across rows and against the database ----------------------------------


def _cross_check(rows: list[_Row]) -> list[BadRow]:
    """Rows that contradict an earlier row of the file."""
    bad: list[BadRow] = []
    tenants: dict[str, _Row] = {}
    subscriptions: dict[tuple[str, str], _Row] = {}
    users: dict[str, _Row] = {}
    pairs: dict[tuple[str, str], _Row] = {}
    for row in rows:
        reasons: list[str] = []
        first = tenants.setdefault(row.tenant_ref, row)
        if first.tenant != row.tenant:
            names = _differing(first.tenant, row.tenant)
            reasons.append(f"tenant {row.tenant_ref!r} differs from line {first.line} in {names}")
        key = (row.tenant_ref, row.product_name)
        first = subscriptions.setdefault(key, row)
        if first.subscription != row.subscription:
            names = _differing(first.subscription, row.subscription)
            reasons.append(
                f"subscription {row.product_name!r} differs from line {first.line} in {names}"
            )
        first = users.setdefault(row.user_id, row)
        if first.tenant_ref != row.tenant_ref:
            reasons.append(f"duplicate user ID {row.user_id}: already on line {first.line}")
        elif first.user != row.user:
            names = _differing(first.user, row.user)
            reasons.append(f"user {row.user_id} differs from line {first.line} in {names}")
        first = pairs.setdefault((row.user_id, row.product_name), row)
        if first is not row and first.tenant_ref == row.tenant_ref:
            reasons.append(f"duplicate of line {first.line} (same user ID and product)")
        if reasons:
            bad.append(BadRow(row.line, "; ".join(reasons)))
    return bad


def _differing(a: _Parts, b: _Parts) -> str:
    return ", ".join(f.name for f in fields(a) if getattr(a, f.name) != getattr(b, f.name))


def _check_database(session: Session, rows: list[_Row]) -> list[BadRow]:
    """Rows whose tenant or user ID is already in the database."""
    refs = _existing(session, Tenant.ref, {row.tenant_ref for row in rows})
    user_ids = _existing(session, AccountUser.user_id, {row.user_id for row in rows})
    bad = []
    for row in rows:
        reasons = []
        if row.tenant_ref in refs:
            reasons.append(f"tenant {row.tenant_ref!r} already exists (re-import never updates)")
        if row.user_id in user_ids:
            reasons.append(f"duplicate user ID {row.user_id}: already in the database")
        if reasons:
            bad.append(BadRow(row.line, "; ".join(reasons)))
    return bad


def _existing(session: Session, column: InstrumentedAttribute[str], values: set[str]) -> set[str]:
    ordered = sorted(values)
    found: set[str] = set()
    for i in range(0, len(ordered), _CHUNK):
        chunk = ordered[i : i + _CHUNK]
        found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found


# --- writing ---------------------------------------------------------------


def _counts(rows: list[_Row]) -> dict[str, int]:
    tenants = {row.tenant_ref: row.tenant for row in rows}
    return {
        "tenants": len(tenants),
        "users": len({row.user_id for row in rows}),
        "subscriptions": len({(row.tenant_ref, row.product_name) for row in rows}),
        "domains": sum(len(t.domains) for t in tenants.values()),
        "pins": sum(1 for t in tenants.values() if t.support_pin),
    }


def _write(
    factory: sessionmaker[Session],
    rows: list[_Row],
    source: str,
    actor: str,
    counts: Mapping[str, int],
) -> None:
    """Insert every tenant, domain, user and subscription in one transaction."""
    tenants = {row.tenant_ref: row.tenant for row in rows}
    # The slow PIN hashes are made before the write lock is taken.
    pins = {ref: hash_pin(t.support_pin) for ref, t in tenants.items() if t.support_pin}
    # One time for the whole import, rather than a default computed per row.
    now = utcnow()
    tenant_values = [
        {
            "ref": ref,
            "organization": t.organization,
            "contact_first_name": t.contact_first_name,
            "contact_last_name": t.contact_last_name,
            "phone_e164": t.phone,
            "address_line1": t.address_line1,
            "address_line2": t.address_line2,
            "city": t.city,
            "region": t.region,
            "postal_code": t.postal_code,
            "country": t.country,
            "support_pin_hash": pins.get(ref),
            "created_at": now,
        }
        for ref, t in tenants.items()
    ]
    with unit_of_work(factory) as session:
        table = Base.metadata.tables[Tenant.__tablename__]
        # Ids come back paired with refs, so the rows' order does not matter
        # and SQLite can batch the RETURNING insert.
        inserted = session.execute(insert(table).returning(table.c.ref, table.c.id), tenant_values)
        ids: dict[str, int] = {ref: id_ for ref, id_ in inserted}
        _insert(
            session,
            TenantDomain,
            [
                {"tenant_id": ids[ref], "domain": domain}
                for ref, t in tenants.items()
                for domain in t.domains
            ],
        )
        users = {row.user_id: row for row in rows}
        _insert(
            session,
            AccountUser,
            [
                {
                    "user_id": user_id,
                    "display_name": row.user.display_name,
                    "tenant_id": ids[row.tenant_ref],
                    "is_admin": row.user.is_admin,
                }
                for user_id, row in users.items()
            ],
        )
        subscriptions = {(row.tenant_ref, row.product_name): row for row in rows}
        _insert(
            session,
            Subscription,
            [
                {
                    "tenant_id": ids[ref],
                    "product_name": product,
                    "kind": row.subscription.kind,
                    "channel": row.subscription.channel,
                    "term_start": row.subscription.term_start,
                    "term_end": row.subscription.term_end,
                    "auto_renew": row.subscription.auto_renew,
                    "status": row.subscription.status,
                    "canceled_at": row.subscription.canceled_at,
                    "data_deletion_on": row.subscription.data_deletion_on,
                    "updated_at": now,
                }
                for (ref, product), row in subscriptions.items()
            ],
        )
        append_event(
            session,
            actor=actor,
            type="accounts.imported",
            payload={"source": source, "rows": len(rows), **counts},
        )


def _insert(session: Session, model: type[Base], values: list[dict[str, object]]) -> None:
    # A Core insert of the table skips the ORM's per-row bookkeeping.
    if values:
        session.execute(insert(Base.metadata.tables[model.__tablename__]), values)
