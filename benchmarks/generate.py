"""Build a call-center-sized callgate database for the benchmarks.

    python -m benchmarks.generate                      # full size, SQLite, cached
    python -m benchmarks.generate --tenants 200 --calls 1000
    python -m benchmarks.generate --url postgresql://...  # into an empty server database

The schema comes from ``db.migrate.upgrade``; the rows are synthetic tenants,
account users, subscriptions, agents and closed calls, each call with the item
checks, cancellation requests and audit events the desk writes for it, in the
same shapes (``db.desk``), over the year before ``ANCHOR``. The audit chain
is computed here in Python with ``db.audit.chain.canonical_payload`` and
``event_hash`` and so verifies like one the desks appended. Rows go in by
executemany (SQLite) or COPY (PostgreSQL), one transaction per batch of
50,000 calls; a second process hashes and stores the chain meanwhile.

A SQLite database is built under ``benchmarks/.cache/`` in a name keyed by
its size, the generator version and the schema revision, and reused when it
already exists: a rerun of ``make bench`` does not pay for it twice.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import random
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from db.audit.chain import GENESIS_HASH, canonical_payload, event_hash
from db.desk import request_hash
from db.engine import make_engine
from db.migrate import head, upgrade
from verification.checks import RULES_VERSION
from verification.hashing import hash_secret
from verification.pin import hash_pin
from verification.protection import Protection
from verification.reference import ALPHABET as REFERENCE_ALPHABET

# Bump whenever the generated data changes shape, so cached files are rebuilt.
GENERATOR_VERSION = 3
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
AGENT_PASSPHRASE = "bench passphrase"
# Calls whose rows are built in memory before they are written: bounds memory
# (about 150 MB of tuples) while keeping each executemany large.
CALL_BATCH = 50_000
# All timestamps are spread over the year before this moment; a fixed anchor
# makes a given size always produce the same rows.
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
# A call locks on the miss after these many, as on the desk (the default settings).
MAX_MISSES = Protection().max_misses
SPAN = timedelta(days=365)
# Supervisors review failed verifications and early cancellations (the queue)
# within a day; only the last two days' calls are still waiting.
REVIEWED_OUTCOMES = frozenset({"verification_failed", "canceled"})
REVIEW_BACKLOG = timedelta(days=2)


@dataclass(frozen=True)
class Scale:
    """How much to generate; the defaults are PRODUCT.md section 9's sizes."""

    tenants: int = 100_000
    users: int = 200_000
    calls: int = 1_000_000
    agents: int = 200
    seed: int = 7

    def __post_init__(self) -> None:
        if self.tenants < 1 or self.users < self.tenants or self.calls < 0 or self.agents < 3:
            raise ValueError(f"impossible scale: {self}")

    @property
    def key(self) -> str:
        """The part of the cache file name that identifies this size."""
        return f"t{self.tenants}-u{self.users}-c{self.calls}-a{self.agents}-s{self.seed}"


@dataclass
class Counts:
    """Rows written per table."""

    tenant: int = 0
    tenant_domain: int = 0
    account_user: int = 0
    subscription: int = 0
    agent: int = 0
    call: int = 0
    item_check: int = 0
    cancellation_request: int = 0
    audit_event: int = 0


@dataclass(frozen=True)
class Generated:
    """A generated database: where it is and what it holds."""

    url: str
    scale: Scale
    counts: Counts
    seconds: float
    cached: bool = False
    head_hash: str = GENESIS_HASH


# --- where rows go ------------------------------------------------------------

# Rows for several tables, written in one transaction: (table, columns, rows).
Batch = list[tuple[str, Sequence[str], list[tuple[Any, ...]]]]


class SqliteSink:
    """executemany on a raw sqlite3 connection, one short transaction per batch.

    Two of these (the rows and the audit chain, in two processes) write one
    file at once, so each batch takes the write lock with ``BEGIN IMMEDIATE``
    and the other waits. Journal and fsync are off: the file is a private
    temporary until it is complete and renamed into place, and a WAL would
    grow past the database's own size, never reset between two busy writers.
    """

    def __init__(self, path: Path) -> None:
        # Made here, used only by one writer thread from then on.
        self.connection = sqlite3.connect(
            path, isolation_level=None, timeout=600, check_same_thread=False
        )
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            "cache_size = -1000000",  # 1 GB: the audit hash index takes random inserts
        ):
            self.connection.execute(f"PRAGMA {pragma}")

    def write(self, batch: Batch) -> None:
        """Insert every table's rows of ``batch`` in one transaction."""
        self.connection.execute("BEGIN IMMEDIATE")
        for table, columns, rows in batch:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            self.connection.executemany(sql, rows)
        self.connection.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


class PostgresSink:
    """COPY into a migrated, empty PostgreSQL database, one transaction per batch.

    Values are written as SQLite stores them (timestamps as UTC text, booleans
    as 0/1), which PostgreSQL's text input reads the same once the session
    time zone is UTC.
    """

    def __init__(self, url: str) -> None:
        import psycopg

        self.connection = psycopg.connect(_libpq_url(url))
        self.connection.execute("SET TIME ZONE 'UTC'")

    def write(self, batch: Batch) -> None:
        """COPY every table's rows of ``batch``, then commit."""
        with self.connection.cursor() as cursor:
            for table, columns, rows in batch:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        self.connection.commit()

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def _libpq_url(url: str) -> str:
    return make_engine(url).url.set(drivername="postgresql").render_as_string(hide_password=False)


def open_sink(url: str) -> SqliteSink | PostgresSink:
    """The bulk writer for the database at ``url``."""
    engine = make_engine(url)
    backend, database = engine.dialect.name, engine.url.database
    engine.dispose()
    if backend == "sqlite":
        assert database is not None
        return SqliteSink(Path(database))
    return PostgresSink(url)


def _finish(url: str) -> None:
    """After the load: SQLite in WAL mode as the desk runs it; PostgreSQL's id
    sequences moved past the ids written, and fresh statistics."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = sqlite3.connect(str(parsed.database))
        database.execute("PRAGMA journal_mode = WAL")
        database.close()
        return
    import psycopg

    with psycopg.connect(_libpq_url(url), autocommit=True) as connection:
        for table in (
            "tenant",
            "tenant_domain",
            "account_user",
            "subscription",
            "agent",
            "call",
            "item_check",
            "cancellation_request",
        ):
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        connection.execute("VACUUM ANALYZE")


class BackgroundWriter:
    """Runs a sink's writes in a second thread while the next batch is built.

    Both drivers release the GIL while the database works, so building rows
    (Python) and storing them (SQLite's B-trees, PostgreSQL's COPY) overlap.
    At most two batches wait, which bounds memory.
    """

    def __init__(self, sink: SqliteSink | PostgresSink) -> None:
        self.sink = sink
        self.jobs: queue.Queue[Batch | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="bench-writer", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while (batch := self.jobs.get()) is not None:
            if self.error is not None:
                continue  # drain, so the producer never blocks on a dead writer
            try:
                self.sink.write(batch)
            except BaseException as exc:
                self.error = exc

    def write(self, batch: Batch) -> None:
        """Queue ``batch``; re-raise an earlier write's error."""
        if self.error is not None:
            raise self.error
        self.jobs.put(batch)

    def close(self) -> None:
        """Wait for every queued batch, close the sink; re-raise a write's error."""
        self.jobs.put(None)
        self.thread.join()
        self.sink.close()
        if self.error is not None:
            raise self.error


# An audit event before hashing: (time, actor, type, payload).
EventSpec = tuple[datetime, str, str, dict[str, object]]
# The same with the time in microseconds after ANCHOR: an int pickles many
# times faster than a datetime on its way to the chain's process.
WireEvent = tuple[int, str, str, dict[str, object]]
_MICROSECOND = timedelta(microseconds=1)


def _chain_worker(url: str, jobs: Any, results: Any) -> None:
    """The audit chain's process: hash each batch of events in order and store it.

    The chain is one sequence, so it cannot be split; what runs in parallel is
    everything else, in the generator's process.
    """
    try:
        chain = _Chain()
        writer = BackgroundWriter(open_sink(url))
        try:
            while (specs := jobs.get()) is not None:
                rows = [chain.append(*spec) for spec in specs]
                writer.write([("audit_event", AUDIT_COLUMNS, rows)])
        finally:
            writer.close()
        results.put((chain.seq, chain.prev))
    except BaseException as exc:
        results.put(exc)
        raise


# --- synthetic people and places --------------------------------------------------

FIRST_NAMES = (
    "Ana", "José", "Mei", "Liam", "Olivia", "Noah", "Emma", "Amara", "Sven", "Chloé",
    "Ravi", "Fatima", "Kenji", "Zoë", "Mateo", "Ingrid", "Tariq", "Lucía", "Oskar", "Priya",
    "Jon", "John", "Siobhán", "Björn", "Aiko", "Nadia", "Pedro", "Grace", "Hugo", "Leila",
)  # fmt: skip
LAST_NAMES = (
    "Pérez", "O’Brien", "Nguyen", "Smith", "García", "Müller", "Kowalski", "Chen", "Okafor",
    "Johansson", "Rossi", "Dubois", "Tanaka", "Haddad", "Silva", "MacLeod", "Novák", "Patel",
    "Jensen", "Ivanova", "Kim", "Lindqvist", "Moreau", "Brown", "Fernández", "Abebe",
)  # fmt: skip
ORG_WORDS = (
    "Contoso", "Fabrikam", "Northwind", "Adventure", "Tailspin", "Wingtip", "Litware",
    "Proseware", "Lucerne", "Margie", "Alpine", "Coho", "Humongous", "Trey", "Woodgrove",
    "Blue Yonder", "Fourth Coffee", "Wide World", "Graphic", "Relecloud", "Datum", "Bellows",
)  # fmt: skip
ORG_KINDS = (
    "Pharma", "Traders", "Consulting", "Logistics", "Design", "Foods", "Labs", "Media",
    "Travel", "Bank", "Winery", "Systems", "Partners", "Studio", "Outfitters",
)  # fmt: skip
LEGAL_FORMS = ("Ltd.", "Inc.", "LLC", "GmbH", "plc", "Corp.", "", "S.A.", "Limited")
STREETS = (
    "Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park",
    "Sunset", "Ridge", "Jefferson", "Lincoln", "Madison", "Highland", "River", "Church",
)  # fmt: skip
STREET_SUFFIXES = ("Street", "Avenue", "Road", "Boulevard", "Lane", "Drive", "Court", "Way")
DIRECTIONALS = ("", "", "", "North", "South", "East", "West")
US_PLACES = (
    ("Springfield", "Illinois", "62704", "217"),
    ("Seattle", "WA", "98101", "206"),
    ("Redmond", "Washington", "98052", "425"),
    ("Austin", "TX", "78701", "512"),
    ("Boston", "MA", "02108", "617"),
    ("Denver", "Colorado", "80202", "303"),
    ("Chicago", "IL", "60601", "312"),
    ("New York", "NY", "10001", "212"),
    ("San Francisco", "California", "94103", "415"),
    ("Atlanta", "GA", "30303", "404"),
    ("Miami", "Florida", "33131", "305"),
    ("Portland", "OR", "97204", "503"),
)
# The last field is the national number's start: area code and a first digit in use.
GB_PLACES = (
    ("London", "", "SW1A 2AA", "207"),
    ("Manchester", "", "M1 1AE", "1614"),
    ("Edinburgh", "", "EH1 1YZ", "1312"),
    ("Bristol", "", "BS1 4DJ", "1179"),
)
PRODUCTS = ("Business Basic", "Business Standard", "Business Premium", "E3", "E5", "Visio Plan 2")
PINS = ("2468", "1357", "8080", "4321", "9753", "1122")


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


def _reference(request_id: int) -> str:
    """A unique reference for a generated request: its id in the reference alphabet."""
    digits = []
    for _ in range(6):
        request_id, digit = divmod(request_id, len(REFERENCE_ALPHABET))
        digits.append(REFERENCE_ALPHABET[digit])
    body = "".join(reversed(digits))
    return f"CG-{body[:3]}-{body[3:]}"


def _db_time(moment: datetime) -> str:
    """A UTC timestamp in the text form SQLAlchemy stores on SQLite."""
    return moment.isoformat(" ", "microseconds")[:26]


# --- the generator ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tenant:
    id: int
    phone: str
    first: str
    last: str
    organization: str
    address: dict[str, str]
    has_pin: bool
    users: tuple[int, ...]  # account_user ids, admin first
    admins: int  # how many of ``users`` (from the front) are admins
    subscriptions: tuple[int, ...]


class _Chain:
    """The audit chain's state: hashes events in sequence order."""

    def __init__(self) -> None:
        self.seq = 0
        self.prev = GENESIS_HASH

    def append(
        self, micros: int, actor: str, type_: str, payload: dict[str, object]
    ) -> tuple[Any, ...]:
        """The next event's row, hashed onto the chain; ``micros`` after ``ANCHOR``."""
        self.seq += 1
        at = ANCHOR + timedelta(microseconds=micros)
        body = canonical_payload(payload)
        digest = event_hash(self.seq, at, actor, type_, body, self.prev)
        row = (self.seq, _db_time(at), actor, type_, body, self.prev, digest)
        self.prev = digest
        return row


AUDIT_COLUMNS = ("seq", "occurred_at", "actor", "type", "payload", "prev_hash", "hash")
CALL_COLUMNS = (
    "id", "agent_id", "started_at", "ended_at", "tenant_id", "caller_user_id", "state",
    "outcome", "notes", "verified_at", "reviewed_at", "reviewed_by_id",
)  # fmt: skip
CHECK_COLUMNS = (
    "id", "call_id", "item", "stated", "normalized", "result", "rules_version", "checked_at",
)  # fmt: skip
REQUEST_COLUMNS = (
    "id", "call_id", "subscription_id", "action", "checklist", "before", "after",
    "needs_approval", "request_hash", "created_at", "reference",
)  # fmt: skip
ITEMS = ("user_id", "phone", "contact_name", "organization", "address", "pin")
# What a caller who does not know the account states: (stated JSON, normalized).
WRONG = {
    "user_id": ('{"value": "someone@example.com"}', "someone@example.com"),
    "phone": ('{"value": "(425) 555-0199"}', "+14255550199"),
    "contact_name": ('{"first": "Jon", "last": "Smith"}', "jon smith"),
    "organization": ('{"value": "Contoso Pharma"}', "contoso pharma"),
    "address": (
        '{"line1": "1 Microsoft Way", "line2": "", "city": "Redmond", "region": "WA",'
        ' "postal_code": "98052", "country": "US"}',
        "1 MICROSOFT WAY REDMOND WA 98052 US",
    ),
    "pin": ('{"value": "[secret]"}', ""),
}


class Generator:
    """Makes every row of a database of a given scale.

    Table rows go to ``write`` (one transaction per batch); audit events go to
    ``send_events`` in order, unhashed, for the chain's process to hash.
    """

    def __init__(
        self,
        scale: Scale,
        write: Callable[[Batch], None],
        send_events: Callable[[list[WireEvent]], None],
    ) -> None:
        self.scale = scale
        self.write = write
        self.send_events = send_events
        self.rng = random.Random(scale.seed)
        self.counts = Counts()
        self.events: list[EventSpec] = []
        self.tenants: list[_Tenant] = []
        self.user_ids: dict[int, str] = {}
        self.agent_names: list[str] = []
        self.supervisors = max(2, self.scale.agents // 10)
        self._stated: dict[tuple[int, str], tuple[str, str]] = {}
        self.last_check_id = 0
        self.last_request_id = 0

    def run(self) -> Counts:
        """Generate everything, committing after each large batch."""
        start = ANCHOR - SPAN
        self._agents(start)
        self._accounts(start)
        self._flush_events()
        self._calls(start)
        return self.counts

    def _flush_events(self) -> None:
        self.send_events(
            [
                ((at - ANCHOR) // _MICROSECOND, actor, type_, payload)
                for at, actor, type_, payload in self.events
            ]
        )
        self.counts.audit_event += len(self.events)
        self.events = []

    def _agents(self, start: datetime) -> None:
        # One shared scrypt hash: hashing per agent would cost seconds, not realism.
        passphrase_hash = hash_secret(AGENT_PASSPHRASE)
        supervisors = self.supervisors
        rows = []
        for n in range(1, self.scale.agents + 1):
            username = f"agent{n:04d}" if n > supervisors else f"super{n:04d}"
            role = "supervisor" if n <= supervisors else "agent"
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            created = start - timedelta(days=30, minutes=n)
            rows.append(
                (n, username, f"{first} {last}", role, passphrase_hash, 1, 0, _db_time(created))
            )
            self.agent_names.append(username)
            self.events.append((created, "operator", "agent.added", {"agent_id": n, "role": role}))
        columns = (
            "id", "username", "display_name", "role", "passphrase_hash", "active",
            "failed_signins", "created_at",
        )  # fmt: skip
        self.write([("agent", columns, rows)])
        self.counts.agent = len(rows)

    def _accounts(self, start: datetime) -> None:
        rng, scale = self.rng, self.scale
        pin_hashes = [hash_pin(pin) for pin in PINS]
        created = _db_time(start - timedelta(days=20))
        tenants, domains, users, subscriptions = [], [], [], []
        per_tenant, extra = divmod(scale.users, scale.tenants)
        user_id = subscription_id = domain_id = 0
        for t in range(1, scale.tenants + 1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            org = f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_KINDS)} {rng.choice(LEGAL_FORMS)}"
            org = org.strip()
            number = rng.randint(1, 9999)
            street = f"{rng.choice(STREETS)} {rng.choice(STREET_SUFFIXES)}"
            if rng.random() < 0.85:
                city, region, postal, area = rng.choice(US_PLACES)
                line1 = f"{number} {rng.choice(DIRECTIONALS)} {street}".replace("  ", " ")
                line2 = f"Suite {rng.randint(1, 40) * 10}" if rng.random() < 0.3 else ""
                country = "US"
                phone = f"+1{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
            else:
                city, region, postal, area = rng.choice(GB_PLACES)
                line1, line2, country = f"{number} {street}", "", "GB"
                # UK national numbers have ten digits after the trunk 0.
                phone = f"+44{area}{rng.randrange(10**6, 10**7):07d}"[:13]
            address = {
                "line1": line1,
                "line2": line2,
                "city": city,
                "region": region,
                "postal_code": postal,
                "country": country,
            }
            pin = rng.choice(pin_hashes) if rng.random() < 0.1 else None
            tenants.append(
                (
                    t, f"T{t:07d}", org, first, last, phone, line1, line2, city, region,
                    postal, country, pin, created,
                )
            )  # fmt: skip
            for d in range(rng.choice((0, 0, 0, 1, 1, 2))):
                domain_id += 1
                domains.append((domain_id, t, f"{_slug(org)}{t}-{d}.example"))
            count = per_tenant + (1 if t <= extra else 0)
            admins = 1 if count == 1 or rng.random() < 0.7 else 2
            ids = []
            for u in range(count):
                user_id += 1
                ufirst = first if u == 0 else rng.choice(FIRST_NAMES)
                ulast = last if u == 0 else rng.choice(LAST_NAMES)
                email = f"{_slug(ufirst)}.{_slug(ulast)}.{user_id}@{_slug(org)}{t}.example"
                users.append((user_id, email, f"{ufirst} {ulast}", t, 1 if u < admins else 0))
                self.user_ids[user_id] = email
                ids.append(user_id)
            subs = []
            for s in range(rng.choice((1, 1, 2, 2, 3))):
                subscription_id += 1
                subs.append(subscription_id)
                subscriptions.append(self._subscription(subscription_id, t, s, created))
            self.tenants.append(
                _Tenant(t, phone, first, last, org, address, pin is not None,
                        tuple(ids), admins, tuple(subs))
            )  # fmt: skip
        tenant_columns = (
            "id", "ref", "organization", "contact_first_name", "contact_last_name", "phone_e164",
            "address_line1", "address_line2", "city", "region", "postal_code", "country",
            "support_pin_hash", "created_at",
        )  # fmt: skip
        user_columns = ("id", "user_id", "display_name", "tenant_id", "is_admin")
        subscription_columns = (
            "id", "tenant_id", "product_name", "kind", "channel", "term_start", "term_end",
            "auto_renew", "status", "expedited", "updated_at",
        )  # fmt: skip
        self.write(
            [
                ("tenant", tenant_columns, tenants),
                ("tenant_domain", ("id", "tenant_id", "domain"), domains),
                ("account_user", user_columns, users),
                ("subscription", subscription_columns, subscriptions),
            ]
        )
        self.counts.tenant, self.counts.tenant_domain = len(tenants), len(domains)
        self.counts.account_user, self.counts.subscription = len(users), len(subscriptions)
        self.events.append(
            (
                start - timedelta(days=20),
                "operator",
                "accounts.imported",
                {
                    "source": "generated",
                    "rows": len(users),
                    "tenants": len(tenants),
                    "users": len(users),
                    "subscriptions": len(subscriptions),
                    "domains": len(domains),
                    "pins": sum(1 for row in tenants if row[12]),
                },
            )
        )

    def _subscription(self, id_: int, tenant: int, n: int, created: str) -> tuple[Any, ...]:
        rng = self.rng
        kind = "trial" if rng.random() < 0.1 else "paid"
        channel = "direct" if kind == "trial" else rng.choice(
            ("direct", "direct", "direct", "product_key", "open", "fpp")
        )  # fmt: skip
        term_start = ANCHOR.date() - timedelta(days=rng.randint(30, 700))
        term_end = term_start + timedelta(days=30 if kind == "trial" else 365)
        status = "active" if term_end >= ANCHOR.date() else "expired"
        return (
            id_, tenant, PRODUCTS[(tenant + n) % len(PRODUCTS)], kind, channel,
            term_start.isoformat(), term_end.isoformat(), 1, status, "none", created,
        )  # fmt: skip

    def _stated_match(self, tenant: _Tenant, item: str, user: int) -> tuple[str, str]:
        """What a caller who knows the account states, and its normalized form.

        The normalized text imitates the normalizers' output cheaply: running
        the real address parser on millions of rows would dominate the build,
        and the benchmarks never read it back.
        """
        key = (user if item == "user_id" else tenant.id, item)
        found = self._stated.get(key)
        if found is not None:
            return found
        fields: dict[str, str]
        if item == "user_id":
            email = self.user_ids[user]
            fields, normalized = {"value": email.upper()}, email
        elif item == "phone":
            fields, normalized = {"value": tenant.phone}, tenant.phone
        elif item == "contact_name":
            fields = {"first": tenant.first, "last": tenant.last}
            normalized = f"{tenant.first} {tenant.last}".casefold()
        elif item == "organization":
            fields, normalized = {"value": tenant.organization}, tenant.organization.casefold()
        elif item == "address":
            fields = tenant.address
            normalized = " ".join(v for v in tenant.address.values() if v).upper()
        else:
            fields, normalized = {"value": "[secret]"}, ""
        found = (json.dumps(fields, ensure_ascii=False), normalized)
        self._stated[key] = found
        return found

    def _calls(self, start: datetime) -> None:
        step = SPAN / max(self.scale.calls, 1)
        call_rows: list[tuple[Any, ...]] = []
        check_rows: list[tuple[Any, ...]] = []
        request_rows: list[tuple[Any, ...]] = []
        for call_id in range(1, self.scale.calls + 1):
            started = start + step * call_id
            self._call(call_id, started, call_rows, check_rows, request_rows)
            if call_id % CALL_BATCH == 0 or call_id == self.scale.calls:
                self.write(
                    [
                        ("call", CALL_COLUMNS, call_rows),
                        ("item_check", CHECK_COLUMNS, check_rows),
                        ("cancellation_request", REQUEST_COLUMNS, request_rows),
                    ]
                )
                self.counts.call += len(call_rows)
                self.counts.item_check += len(check_rows)
                self.counts.cancellation_request += len(request_rows)
                self._flush_events()
                call_rows, check_rows, request_rows = [], [], []
        self._flush_events()

    def _call(
        self,
        call_id: int,
        started: datetime,
        call_rows: list[tuple[Any, ...]],
        check_rows: list[tuple[Any, ...]],
        request_rows: list[tuple[Any, ...]],
    ) -> None:
        """One closed call following one of the desk's paths, with its events."""
        rng, events = self.rng, self.events
        agent_id = rng.randint(1, self.scale.agents)
        actor = self.agent_names[agent_id - 1]
        tenant = self.tenants[rng.randrange(len(self.tenants))]
        roll = rng.random()
        if roll < 0.05 and len(tenant.users) > tenant.admins:
            path, user = "not_admin", tenant.users[-1]
        else:
            path = "verified" if roll < 0.72 else "failed" if roll < 0.85 else "abandoned"
            user = tenant.users[0]
        events.append((started, actor, "call.started", {"agent_id": agent_id, "call_id": call_id}))
        at = started
        found = True
        misses = 0
        items = [i for i in ITEMS if i != "pin" or tenant.has_pin]
        if path == "abandoned":
            items = items[: rng.randint(1, 3)]
        for position, item in enumerate(items):
            results = ["match"]
            if path == "failed" and position == 1:
                results = ["mismatch"] * 4
            elif path in ("verified", "not_admin") and rng.random() < 0.04:
                results = ["mismatch", "match"]
            for result in results:
                at += timedelta(seconds=rng.randint(15, 70))
                if result == "match":
                    stated, normalized = self._stated_match(tenant, item, user)
                else:
                    misses += 1
                    stated, normalized = WRONG[item]
                self.last_check_id += 1
                check_rows.append(
                    (
                        self.last_check_id,
                        call_id,
                        item,
                        stated,
                        normalized,
                        result,
                        RULES_VERSION,
                        _db_time(at),
                    )
                )
                payload = {
                    "call_id": call_id,
                    "item": item,
                    "result": result,
                    "rules_version": RULES_VERSION,
                }
                events.append((at, actor, "item.checked", payload))
            if misses > MAX_MISSES:
                events.append((at, actor, "call.locked", {"call_id": call_id, "misses": misses}))
                break
        verified_at = None
        outcome: str
        if path == "failed":
            outcome = "verification_failed"
        elif path == "abandoned":
            outcome = "abandoned"
            found = rng.random() < 0.7
        else:
            verified_at = at
            verified: dict[str, object] = {"call_id": call_id, "tenant_id": tenant.id}
            events.append((at, actor, "call.verified", verified))
            outcome = "denied_not_admin" if path == "not_admin" else self._action(
                call_id, tenant, actor, at, request_rows
            )  # fmt: skip
        ended = at + timedelta(seconds=rng.randint(30, 300))
        events.append((ended, actor, "call.ended", {"call_id": call_id, "outcome": outcome}))
        reviewed_at = reviewer = None
        if outcome in REVIEWED_OUTCOMES and ended < ANCHOR - REVIEW_BACKLOG:
            reviewed_at = ended + timedelta(minutes=rng.randint(10, 1440))
            # Agents 1..supervisors are the supervisors; never one's own call.
            reviewer = rng.randint(1, self.supervisors)
            if reviewer == agent_id:
                reviewer = reviewer % self.supervisors + 1
            reviewer_name = self.agent_names[reviewer - 1]
            events.append((reviewed_at, reviewer_name, "call.reviewed", {"call_id": call_id}))
        call_rows.append(
            (
                call_id, agent_id, _db_time(started), _db_time(ended),
                tenant.id if found else None, user if found else None, "closed", outcome, "",
                None if verified_at is None else _db_time(verified_at),
                None if reviewed_at is None else _db_time(reviewed_at), reviewer,
            )
        )  # fmt: skip

    def _action(
        self,
        call_id: int,
        tenant: _Tenant,
        actor: str,
        at: datetime,
        request_rows: list[tuple[Any, ...]],
    ) -> str:
        """The outcome of a verified admin's call, with its cancellation request if any."""
        roll = self.rng.random()
        if roll < 0.45:
            return "informed" if roll < 0.42 else "escalated"
        action = "auto_renew_off" if roll < 0.7 else "cancel_now"
        subscription = self.rng.choice(tenant.subscriptions)
        before = {"auto_renew": True, "status": "active"}
        after = (
            {"auto_renew": False, "status": "expiring"}
            if action == "auto_renew_off"
            else {"auto_renew": False, "status": "canceled"}
        )
        self.last_request_id += 1
        request_id = self.last_request_id
        request_rows.append(
            (
                request_id, call_id, subscription, action, "[]", canonical_payload(before),
                canonical_payload(after), 0,
                request_hash(call_id, subscription, action, before, after), _db_time(at),
                _reference(request_id),
            )
        )  # fmt: skip
        self.events.append(
            (
            at,
            actor,
            f"subscription.{action}",
            {"action": action, "call_id": call_id, "request_id": request_id,
             "subscription_id": subscription},
            )
        )  # fmt: skip
        return "auto_renew_off" if action == "auto_renew_off" else "canceled"


# --- building and caching -----------------------------------------------------


def generate(url: str, scale: Scale) -> Generated:
    """Migrate the empty database at ``url`` and fill it; SQLite or PostgreSQL.

    Two processes share the work: this one makes the table rows, a second
    one hashes and stores the audit chain (the one part that must run in order).
    """
    started = time.perf_counter()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    context = multiprocessing.get_context("spawn")
    jobs = context.Queue(maxsize=2)
    results = context.Queue()
    chain = context.Process(target=_chain_worker, args=(url, jobs, results), name="bench-chain")
    chain.start()
    writer = BackgroundWriter(open_sink(url))
    try:
        counts = Generator(scale, writer.write, jobs.put).run()
    finally:
        jobs.put(None)
        writer.close()
    outcome = results.get()
    chain.join()
    if isinstance(outcome, BaseException):
        raise RuntimeError("the audit chain's process failed") from outcome
    seq, head_hash = outcome
    if seq != counts.audit_event:
        raise RuntimeError(f"{counts.audit_event} events generated, {seq} stored")
    _finish(url)
    return Generated(url, scale, counts, time.perf_counter() - started, head_hash=head_hash)


def cache_path(scale: Scale, cache_dir: Path = CACHE_DIR) -> Path:
    """The cached SQLite file for ``scale`` at the current schema and generator."""
    return cache_dir / f"callgate-{scale.key}-g{GENERATOR_VERSION}-r{head()}.db"


def ensure_sqlite(scale: Scale, cache_dir: Path = CACHE_DIR, force: bool = False) -> Generated:
    """The cached database for ``scale``, generated first if it is not there yet.

    Built under a temporary name and renamed when complete, with its counts
    and build time in a ``.json`` beside it, so a half-built file is never reused.
    """
    path = cache_path(scale, cache_dir)
    manifest = path.with_suffix(".json")
    if path.exists() and manifest.exists() and not force:
        info = json.loads(manifest.read_text())
        return Generated(
            f"sqlite:///{path}",
            scale,
            Counts(**info["counts"]),
            info["seconds"],
            cached=True,
            head_hash=info["head_hash"],
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    for stale in (building, path, manifest):
        stale.unlink(missing_ok=True)
    with _removed_on_error(building):
        made = generate(f"sqlite:///{building}", scale)
        manifest.write_text(
            json.dumps(
                {
                    "scale": asdict(scale),
                    "counts": asdict(made.counts),
                    "seconds": made.seconds,
                    "head_hash": made.head_hash,
                },
                indent=2,
            )
        )
        os.replace(building, path)
    return Generated(f"sqlite:///{path}", scale, made.counts, made.seconds, False, made.head_hash)


@contextmanager
def _removed_on_error(path: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build (or reuse) a database and print what it holds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=Scale.tenants)
    parser.add_argument("--users", type=int, help="account users (default: 2 per tenant)")
    parser.add_argument("--calls", type=int, default=Scale.calls)
    parser.add_argument("--agents", type=int, default=Scale.agents)
    parser.add_argument("--url", help="an empty database to fill instead of the SQLite cache")
    parser.add_argument("--force", action="store_true", help="rebuild a cached file")
    args = parser.parse_args(argv)
    scale = Scale(
        tenants=args.tenants,
        users=args.users if args.users is not None else 2 * args.tenants,
        calls=args.calls,
        agents=args.agents,
    )
    made = generate(args.url, scale) if args.url else ensure_sqlite(scale, force=args.force)
    state = "reused (built earlier in" if made.cached else "built in"
    print(f"{made.url}: {state} {made.seconds:.1f} s{')' if made.cached else ''}")
    for table, rows in asdict(made.counts).items():
        print(f"  {table:<22}{rows:>12,}")
    print(f"  audit chain head: {made.head_hash}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
