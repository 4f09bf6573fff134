"""``make bench``: every performance bar of PRODUCT.md section 9, in one table.

    python -m benchmarks.run                     # full size (cached database)
    python -m benchmarks.run --tenants 2000 --calls 20000 --import-rows 5000

Each figure is measured against a baseline taken in the same run on the same
machine, so the ratio means something on any hardware; a bar limits either
the ratio (desk start, import) or the value itself (milliseconds, MiB). The
table is printed and written, with the machine and the sizes, to
``benchmarks/results/<UTC timestamp>.json``.

The write benchmark records real calls (as a benchmark agent) into the cached
database, so it grows by a few hundred rows per run; its audit chain stays valid.
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import json
import os
import platform
import pty
import random
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.generate import ANCHOR, CACHE_DIR, Generated, Scale, ensure_sqlite
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from db.models import AccountUser, Agent, Call, Tenant
from db.settings import Settings
from db.types import utcnow
from verification.kinds import Channel, Item, Outcome, Role, SubscriptionKind
from verification.phone import normalize_phone
from verification.userid import normalize_user_id

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Figure:
    """One row of the table.

    ``bar_on`` says what the bar limits: ``"ratio"`` (measured / baseline) or
    ``"value"`` (the measured figure itself, in ``unit``). No bar: informative.
    """

    name: str
    measured: float
    baseline: float | None
    unit: str
    bar: float | None = None
    bar_on: str = "value"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """measured / baseline, when there is a baseline."""
        if self.baseline is None or self.baseline <= 0:
            return None
        return self.measured / self.baseline

    @property
    def passed(self) -> bool | None:
        """Whether the bar holds; None when the figure has no bar."""
        if self.bar is None:
            return None
        value = self.ratio if self.bar_on == "ratio" else self.measured
        return value is not None and value <= self.bar

    def as_json(self) -> dict[str, Any]:
        """The figure with its ratio and verdict, for the results file."""
        return {**asdict(self), "ratio": self.ratio, "passed": self.passed}


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in milliseconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


# --- desk start -------------------------------------------------------------------


def _process_seconds(command: Sequence[str]) -> tuple[float, bytes]:
    """Wall time of one whole process on an 80x24 pseudo-terminal, and what it drew."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", CALLGATE_EXIT_ON_READY="1")
    drawn = bytearray()

    def drain() -> None:
        # The app blocks once the terminal's buffer is full, so read as it draws.
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            drawn.extend(data)

    reader = threading.Thread(target=drain, daemon=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True
    )
    os.close(slave)
    reader.start()
    code = process.wait(timeout=120)
    seconds = time.perf_counter() - started
    reader.join(timeout=5)
    os.close(master)
    if code != 0:
        tail = bytes(drawn[-500:]).decode(errors="replace")
        raise RuntimeError(f"{' '.join(command)} exited {code}: {tail}")
    return seconds, bytes(drawn)


def desk_command(url: str) -> list[str]:
    """The desk as an agent starts it (``callgate --db URL``)."""
    return [sys.executable, "-m", "tui.cli", "--db", url]


BARE_COMMAND = [sys.executable, "-m", "benchmarks.bare_app"]


def desk_start(url: str, runs: int) -> Figure:
    """Desk start to first interactive screen against the bare app, alternating runs."""
    desk, bare = desk_command(url), BARE_COMMAND
    for command in (desk, bare):  # compile bytecode, warm the file cache
        _process_seconds(command)
    desk_times, bare_times = [], []
    for _ in range(runs):
        desk_times.append(_process_seconds(desk)[0])
        bare_times.append(_process_seconds(bare)[0])
    return Figure(
        "desk start to first screen",
        statistics.median(desk_times) * 1000,
        statistics.median(bare_times) * 1000,
        "ms",
        bar=1.3,
        bar_on="ratio",
        note=f"whole process, median of {runs}; baseline: bare Textual app, same widgets",
    )


# --- account lookup ---------------------------------------------------------------


def _sample(factory: sessionmaker[Session], column: Any, count: int, seed: int) -> list[Any]:
    """``count`` values of ``column`` from rows picked at random by primary key."""
    table = column.class_
    with factory() as session:
        top = session.scalar(select(table.id).order_by(table.id.desc()).limit(1)) or 0
        rng = random.Random(seed)
        ids = [rng.randint(1, top) for _ in range(count)]
        rows = session.execute(select(table.id, column).where(table.id.in_(ids))).all()
    found: dict[int, Any] = {row[0]: row[1] for row in rows}
    return [found[i] for i in ids if i in found]


def stated_phone(e164: str) -> str:
    """How a caller reads the number out: national format at home, else international."""
    if e164.startswith("+1") and len(e164) == 12:
        return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    return f"{e164[:3]} {e164[3:5]} {e164[5:9]} {e164[9:]}"


def find_by_user_id(factory: sessionmaker[Session], stated: str) -> int | None:
    """The account lookup the desk runs for a stated user ID (``db.desk``)."""
    normalized = normalize_user_id(stated)
    with factory() as session:
        user = session.scalars(select(AccountUser).where(AccountUser.user_id == normalized)).first()
        return None if user is None else user.tenant_id


def find_by_phone(factory: sessionmaker[Session], stated: str, region: str = "US") -> list[int]:
    """Tenants whose account phone is the stated number."""
    e164 = normalize_phone(stated, region)
    with factory() as session:
        return [t.id for t in session.scalars(select(Tenant).where(Tenant.phone_e164 == e164))]


def lookups(factory: sessionmaker[Session], runs: int) -> list[Figure]:
    """Median lookup by stated user ID and by stated phone; baseline: by primary key."""
    emails = [email.upper() for email in _sample(factory, AccountUser.user_id, runs, seed=1)]
    phones = [stated_phone(p) for p in _sample(factory, Tenant.phone_e164, runs, seed=2)]
    user_pks = _sample(factory, AccountUser.id, runs, seed=3)

    def by_pk(pk: int) -> object:
        # The same ORM query shape as the lookups, on the primary key.
        with factory() as session:
            return session.scalars(select(AccountUser).where(AccountUser.id == pk)).first()

    by_user_id = partial(find_by_user_id, factory)
    by_phone = partial(find_by_phone, factory)
    for email, phone in zip(emails, phones, strict=False):  # each sample finds its account
        if not by_user_id(email) or not by_phone(phone):
            raise RuntimeError(f"a sampled account was not found: {email!r} or {phone!r}")
    # Interleaved, so that a cache warming up or a busy neighbour weighs on all three alike.
    functions: tuple[Callable[[Any], object], ...] = (by_pk, by_user_id, by_phone)
    samples: list[list[float]] = [[], [], []]
    for sample in zip(user_pks, emails, phones, strict=False):
        for kind, (fn, value) in enumerate(zip(functions, sample, strict=True)):
            started = time.perf_counter()
            fn(value)
            samples[kind].append(time.perf_counter() - started)
    baseline, user_id_ms, phone_ms = (statistics.median(s) * 1000 for s in samples)
    note = f"median of {len(samples[0])}; baseline: fetch an account user by primary key"
    return [
        Figure("account lookup by user ID", user_id_ms, baseline, "ms", bar=2.0, note=note),
        Figure("account lookup by phone", phone_ms, baseline, "ms", bar=2.0, note=note),
    ]


# --- recording an item check ------------------------------------------------------


def _stated_items(tenant: Tenant, user_id: str) -> list[tuple[Item, dict[str, str]]]:
    """What a caller who knows the account states for each required item."""
    return [
        (Item.USER_ID, {"value": user_id.upper()}),
        (Item.PHONE, {"value": stated_phone(tenant.phone_e164)}),
        (Item.CONTACT_NAME, {"first": tenant.contact_first_name, "last": tenant.contact_last_name}),
        (Item.ORGANIZATION, {"value": tenant.organization.upper()}),
        (
            Item.ADDRESS,
            {
                "line1": tenant.address_line1,
                "line2": tenant.address_line2,
                "city": tenant.city,
                "region": tenant.region,
                "postal_code": tenant.postal_code,
                "country": tenant.country,
            },
        ),
    ]


def _callers(factory: sessionmaker[Session], count: int) -> list[list[tuple[Item, dict[str, str]]]]:
    """The statements of ``count`` admins of tenants without a PIN, picked at random."""
    callers = []
    admin_ids = _sample(factory, AccountUser.id, count * 4, seed=4)
    with factory() as session:
        for admin_id in admin_ids:
            user = session.get(AccountUser, admin_id)
            if user is None or not user.is_admin or user.tenant.support_pin_hash:
                continue
            callers.append(_stated_items(user.tenant, user.user_id))
            if len(callers) == count:
                break
    return callers


def record_item_checks(factory: sessionmaker[Session], workdir: Path, calls: int) -> Figure:
    """``db.desk.submit_item`` median against a bare INSERT transaction on this disk.

    Each call states the five items of a tenant without a PIN (a PIN's check
    costs its deliberate scrypt work factor, not the database). The baseline
    inserts one item-check-sized row per durable transaction into a scratch
    SQLite file beside the database, with the desk's settings (WAL,
    ``synchronous=FULL``, ``BEGIN IMMEDIATE``).
    """
    from db.desk import abandon_call, start_call, submit_item

    settings = Settings()
    with factory() as session:
        agent = session.scalars(
            select(Agent).where(Agent.role == Role.AGENT).order_by(Agent.id.desc()).limit(1)
        ).one()
        agent_id, actor = agent.id, agent.username
    samples = []
    for statements in _callers(factory, calls):
        call = start_call(factory, agent_id, actor, settings, utcnow())
        for item, stated in statements:
            started = time.perf_counter()
            view = submit_item(factory, call.call_id, actor, item, stated, settings, utcnow())
            samples.append(time.perf_counter() - started)
        if not view.gate_open:
            raise RuntimeError(f"call {call.call_id}: the caller's own statements did not verify")
        abandon_call(factory, call.call_id, actor, "benchmark", utcnow())
    measured = statistics.median(samples) * 1000
    baseline = _bare_insert_ms(workdir, len(samples))
    return Figure(
        "record an item check + audit event",
        measured,
        baseline,
        "ms",
        bar=10.0,
        note=f"db.desk.submit_item, median of {len(samples)}; baseline: bare INSERT transaction",
    )


def _bare_insert_ms(workdir: Path, runs: int) -> float:
    path = workdir / "bare-insert.db"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute(
            "CREATE TABLE item_check (id INTEGER PRIMARY KEY, call_id INTEGER, item TEXT,"
            " stated TEXT, normalized TEXT, result TEXT, rules_version TEXT, checked_at TEXT)"
        )
        row = (1, "phone", '{"value": "(425) 555-0100"}', "+14255550100", "match", "2026.11-1")

        def insert() -> None:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(
                "INSERT INTO item_check (call_id, item, stated, normalized, result,"
                " rules_version, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*row, utcnow().isoformat()),
            )
            connection.execute("COMMIT")

        return median_ms(insert, runs)
    finally:
        connection.close()


# --- supervisor desk --------------------------------------------------------------


def _supervisor_id(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalars(
            select(Agent.id).where(Agent.role == Role.SUPERVISOR).order_by(Agent.id).limit(1)
        ).one()


def _an_organization(factory: sessionmaker[Session]) -> str:
    """The organization of the tenant of a recent call: what a supervisor searches for."""
    with factory() as session:
        return session.scalars(
            select(Tenant.organization)
            .join(Call, Call.tenant_id == Tenant.id)
            .order_by(Call.id.desc())
            .limit(1)
        ).one()


def supervisor_views(factory: sessionmaker[Session]) -> list[tuple[str, Callable[[], object]]]:
    """The supervisor desk's reads: the queue, the first page, a next page, each filter."""
    from db.review import Cursor, RequestFilter, call_detail, list_requests, queue

    actor = _supervisor_id(factory)
    week = RequestFilter(started_from=ANCHOR - timedelta(days=7), started_before=ANCHOR)
    first = list_requests(factory, actor, RequestFilter())
    cursor = first.next or Cursor(ANCHOR, 0)
    organization = _an_organization(factory)
    filters = {
        "last 7 days": week,
        "one agent": RequestFilter(agent_id=actor + 5),
        "outcome verification_failed": RequestFilter(outcome=Outcome.VERIFICATION_FAILED),
        "kind trial": RequestFilter(kind=SubscriptionKind.TRIAL),
        "channel fpp": RequestFilter(channel=Channel.FPP),
        f"organization {organization!r}": RequestFilter(organization=organization),
        "organization 'no such org'": RequestFilter(organization="no such org"),
        "7 days + agent + outcome": RequestFilter(
            started_from=week.started_from,
            started_before=week.started_before,
            agent_id=actor + 5,
            outcome=Outcome.CANCELED,
        ),
    }
    views: list[tuple[str, Callable[[], object]]] = [
        ("queue", partial(queue, factory, actor)),
        ("all requests, first page", partial(list_requests, factory, actor, RequestFilter())),
        (
            "all requests, next page",
            partial(list_requests, factory, actor, RequestFilter(), cursor),
        ),
    ]
    views += [
        (f"filter: {name}", partial(list_requests, factory, actor, filter_))
        for name, filter_ in filters.items()
    ]
    # A call's whole story: the oldest call's timeline reads the far end of the chain.
    newest = first.rows[0].call_id if first.rows else 1
    views += [
        ("timeline of the newest call", partial(call_detail, factory, actor, newest, ANCHOR)),
        ("timeline of the oldest call", partial(call_detail, factory, actor, 1, ANCHOR)),
    ]
    return views


def supervisor(factory: sessionmaker[Session], runs: int) -> list[Figure]:
    """Median of each supervisor read; baseline: a bare keyset page of calls."""

    def bare_page() -> object:
        with factory() as session:
            return session.execute(
                select(Call.id, Call.started_at)
                .order_by(Call.started_at.desc(), Call.id.desc())
                .limit(50)
            ).all()

    baseline = median_ms(bare_page, runs)
    return [
        Figure(
            f"supervisor {name}",
            median_ms(fn, runs),
            baseline,
            "ms",
            bar=100.0,
            note=f"db.review, median of {runs}; baseline: bare 50-row keyset page of calls",
        )
        for name, fn in supervisor_views(factory)
    ]


def _peak_rss_kib() -> int:
    """This process's peak resident set size (VmHWM).

    Not ``getrusage``'s ``ru_maxrss``: on Linux that keeps the high-water mark
    from before ``exec``, i.e. the parent's size at the fork.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _memory_probe(url: str) -> None:
    """Child process: peak RSS with the desk loaded, then after every supervisor read."""
    import tui.app
    import tui.screens.desk  # noqa: F401

    factory = make_sessionmaker(make_engine(url))
    loaded = _peak_rss_kib()
    for _name, fn in supervisor_views(factory):
        fn()
    print(json.dumps({"loaded_kib": loaded, "peak_kib": _peak_rss_kib()}))


def supervisor_memory(url: str) -> Figure:
    """Peak RSS of a desk process running every supervisor read on the database."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--memory-probe", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    return Figure(
        "supervisor reads: peak memory",
        probe["peak_kib"] / 1024,
        probe["loaded_kib"] / 1024,
        "MiB",
        bar=150.0,
        note="peak RSS of one process; baseline: the same process with the desk loaded, no reads",
    )


# --- account import ---------------------------------------------------------------

IMPORT_HEADER = (
    "tenant_ref", "organization", "contact_first_name", "contact_last_name", "phone",
    "address_line1", "address_line2", "city", "region", "postal_code", "country", "domains",
    "user_id", "display_name", "is_admin", "product_name", "kind", "channel", "term_start",
    "term_end", "auto_renew", "status",
)  # fmt: skip


def write_import_file(path: Path, rows: int) -> None:
    """An account file of ``rows`` rows: two users per tenant sharing one subscription.

    No support PINs: each would cost a deliberate scrypt hash, which is the
    PIN's security, not the import's speed.
    """
    with path.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(IMPORT_HEADER)
        for n in range(rows):
            t = n // 2
            org = f"Import Test {t} Ltd."
            # Both rows of a tenant must agree, so its fields derive from ``t`` alone.
            area = (206, 425, 312, 617)[t % 4]
            phone = f"({area}) {200 + t * 7 % 800}-{t % 10000:04d}"
            start = ANCHOR.date() - timedelta(days=t % 300)
            out.writerow(
                (
                    f"IMP{t:07d}", org, "Ana", "Pérez", phone, f"{t % 9000 + 1} Main Street",
                    "Suite 400" if t % 3 == 0 else "", "Springfield", "IL", "62704", "US",
                    f"imp{t}.example.com" if t % 4 == 0 else "",
                    f"user{n}@imp{t}.example.com", f"User {n}", "true" if n % 2 == 0 else "false",
                    "Business Premium", "paid", "direct", start.isoformat(),
                    (start + timedelta(days=365)).isoformat(), "true", "active",
                )
            )  # fmt: skip


def _fresh_database(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def plain_executemany(path: Path, source: Path) -> None:
    """The baseline: the file's tenants, domains, users and subscriptions, stored
    with sqlite3 executemany in one transaction, no validation."""
    with source.open(newline="", encoding="utf-8") as file:
        records = list(csv.DictReader(file))
    now = utcnow().isoformat(" ")
    tenant_ids: dict[str, int] = {}
    tenants, domains, users, subscriptions = [], [], [], {}
    for r in records:
        ref = r["tenant_ref"]
        if ref not in tenant_ids:
            tenant_ids[ref] = len(tenant_ids) + 1
            tenants.append(
                (tenant_ids[ref], ref, r["organization"], r["contact_first_name"],
                 r["contact_last_name"], r["phone"], r["address_line1"], r["address_line2"],
                 r["city"], r["region"], r["postal_code"], r["country"], now)
            )  # fmt: skip
            domains += [(tenant_ids[ref], d) for d in r["domains"].split(";") if d]
        users.append((r["user_id"], r["display_name"], tenant_ids[ref], r["is_admin"] == "true"))
        subscriptions[(ref, r["product_name"])] = (
            tenant_ids[ref], r["product_name"], r["kind"], r["channel"], r["term_start"],
            r["term_end"], r["auto_renew"] == "true", r["status"], "none", now,
        )  # fmt: skip
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO tenant (id, ref, organization, contact_first_name, contact_last_name,"
            " phone_e164, address_line1, address_line2, city, region, postal_code, country,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tenants,
        )
        connection.executemany(
            "INSERT INTO tenant_domain (tenant_id, domain) VALUES (?, ?)", domains
        )
        connection.executemany(
            "INSERT INTO account_user (user_id, display_name, tenant_id, is_admin)"
            " VALUES (?, ?, ?, ?)",
            users,
        )
        connection.executemany(
            "INSERT INTO subscription (tenant_id, product_name, kind, channel, term_start,"
            " term_end, auto_renew, status, expedited, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            list(subscriptions.values()),
        )
        connection.execute("COMMIT")
    finally:
        connection.close()


def account_import(workdir: Path, rows: int) -> Figure:
    """``db.importer.import_accounts`` of a CSV against plain sqlite3 executemany."""
    from db.importer import import_accounts

    source = workdir / "accounts.csv"
    write_import_file(source, rows)
    url = _fresh_database(workdir / "import.db")
    factory = make_sessionmaker(make_engine(url))
    started = time.perf_counter()
    report = import_accounts(factory, source)
    measured = time.perf_counter() - started
    if not report.written or report.users != rows:
        raise RuntimeError(f"the import failed: {report.bad_rows[:3]}")
    baseline_db = workdir / "plain.db"
    _fresh_database(baseline_db)
    started = time.perf_counter()
    plain_executemany(baseline_db, source)
    baseline = time.perf_counter() - started
    return Figure(
        f"import {rows:,} accounts (CSV)",
        measured,
        baseline,
        "s",
        bar=3.0,
        bar_on="ratio",
        note="db.importer.import_accounts; baseline: csv + sqlite3 executemany, no validation",
    )


def account_sync(workdir: Path, rows: int) -> Figure:
    """``db.sync.sync_accounts`` of the import's file with one tenant in ten changed
    (phone and organization) and one user in ten made an admin, against the
    same baseline as the import (the sync compares every row on file)."""
    from db.importer import import_accounts
    from db.sync import sync_accounts

    source = workdir / "sync-base.csv"
    write_import_file(source, rows)
    url = _fresh_database(workdir / "sync.db")
    factory = make_sessionmaker(make_engine(url))
    if not import_accounts(factory, source).written:
        raise RuntimeError("the import before the sync failed")
    with source.open(newline="", encoding="utf-8") as file:
        records = list(csv.DictReader(file))
    for n, r in enumerate(records):
        if (n // 2) % 10 == 0:
            r["phone"] = r["phone"][:-4] + "9999"
            r["organization"] += " (renamed)"
        if n % 20 == 1:
            r["is_admin"] = "true"
    changed = workdir / "sync.csv"
    with changed.open("w", newline="", encoding="utf-8") as file:
        out = csv.DictWriter(file, fieldnames=IMPORT_HEADER)
        out.writeheader()
        out.writerows(records)
    started = time.perf_counter()
    report = sync_accounts(factory, changed)
    measured = time.perf_counter() - started
    if not report.written or report.counts is None or not report.counts["tenants_changed"]:
        raise RuntimeError(f"the sync failed: {report.bad_rows[:3]}")
    baseline_db = workdir / "sync-plain.db"
    _fresh_database(baseline_db)
    started = time.perf_counter()
    plain_executemany(baseline_db, changed)
    baseline = time.perf_counter() - started
    return Figure(
        f"sync {rows:,} accounts (CSV, 10% changed)",
        measured,
        baseline,
        "s",
        bar=2.0,
        bar_on="ratio",
        note="db.sync.sync_accounts; baseline: csv + sqlite3 executemany, no validation",
    )


# --- identity checks (the domain's own benchmark) -----------------------------------


def check_costs(runs: int) -> list[Figure]:
    """Median cost of one identity check per item kind (``benchmarks/bench_checks.py``)."""
    from benchmarks.bench_checks import CASES, ON_FILE, median_us

    figures = []
    for label, item, stated, on_file in CASES:
        cost, result = median_us(item, stated, on_file, runs)
        # The bar is the domain's own target (bench_checks.py), not a section 9 bar.
        note = f"{result}; domain target"
        figures.append(Figure(f"check: {label}", cost, None, "µs", bar=200.0, note=note))
    pin, result = median_us(Item.PIN, {"value": "2468"}, ON_FILE, max(3, runs // 200))
    note = f"{result}; the scrypt work factor, deliberately slow"
    figures.append(Figure("check: support PIN", pin, None, "µs", note=note))
    return figures


# --- the table --------------------------------------------------------------------


def table(figures: Sequence[Figure]) -> str:
    """The figures as a plain-text table."""
    lines = [
        f"{'figure':<52} {'measured':>12} {'baseline':>12} {'ratio':>7} {'bar':>10}  result",
    ]
    for f in figures:
        baseline = "—" if f.baseline is None else f"{f.baseline:,.2f} {f.unit}"
        ratio = "—" if f.ratio is None else f"{f.ratio:.2f}"
        if f.bar is None:
            bar = "—"
        elif f.bar_on == "ratio":
            bar = f"≤ {f.bar:g}×"
        else:
            bar = f"< {f.bar:g} {f.unit}"
        verdict = {True: "pass", False: "FAIL", None: ""}[f.passed]
        lines.append(
            f"{f.name[:52]:<52} {f.measured:>9,.2f} {f.unit:<2} {baseline:>12} {ratio:>7}"
            f" {bar:>10}  {verdict}"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "sqlite": sqlite3.sqlite_version,
    }


def run_all(
    made: Generated, runs: int, import_rows: int, workdir: Path, pg: dict[str, Any]
) -> tuple[list[Figure], dict[str, Any]]:
    """Every figure, on the generated database at ``made.url``, and the run's details.

    ``pg``: ``url`` (None: a throwaway cluster), ``desks``, ``seconds``, or
    ``skip`` to leave the PostgreSQL load out. A measurement that raises is
    named in ``details["failed_measurements"]`` and the others still run, so
    one broken figure does not cost the whole table.
    """
    from benchmarks.load_figures import pg_load
    from benchmarks.verify_figures import audit_verify
    from benchmarks.web_memory import web_tab_memory

    factory = make_sessionmaker(make_engine(made.url))
    details: dict[str, Any] = {"failed_measurements": {}}

    def load() -> list[Figure]:
        measured = pg_load(pg.get("url"), pg["desks"], pg["seconds"])
        details.update(pg_load_runs=measured.runs, pg_statements_per_step=measured.profile)
        return measured.figures

    sections: list[tuple[str, Callable[[], list[Figure]]]] = [
        ("desk start", lambda: [desk_start(made.url, max(3, runs // 10))]),
        ("lookups", lambda: lookups(factory, runs)),
        ("item checks", lambda: [record_item_checks(factory, workdir, max(2, runs // 5))]),
        ("supervisor", lambda: supervisor(factory, max(3, runs // 10))),
        ("supervisor memory", lambda: [supervisor_memory(made.url)]),
        ("import", lambda: [account_import(workdir, import_rows)]),
        ("sync", lambda: [account_sync(workdir, import_rows)]),
        ("web tab memory", lambda: [web_tab_memory(made.url)]),
        ("identity checks", lambda: check_costs(runs * 10)),
        ("audit verify", lambda: audit_verify(made.url)),
    ]
    if not pg.get("skip"):
        sections.append(("PostgreSQL load", load))
    figures: list[Figure] = []
    for name, measure in sections:
        try:
            figures += measure()
        except Exception as exc:  # reported with the table, and in the results file
            details["failed_measurements"][name] = f"{type(exc).__name__}: {exc}"
            print(f"{name}: the measurement failed: {type(exc).__name__}: {exc}", flush=True)
    return figures, details


def main(argv: Sequence[str] | None = None) -> int:
    """Generate (or reuse) the database, measure everything, print and save the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\\n\\n")[0])
    parser.add_argument("--tenants", type=int, default=Scale.tenants)
    parser.add_argument("--users", type=int, help="account users (default: 2 per tenant)")
    parser.add_argument("--calls", type=int, default=Scale.calls)
    parser.add_argument("--runs", type=int, default=200, help="samples per latency figure")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--pg-url", help="an empty PostgreSQL database for the load benchmark")
    parser.add_argument("--pg-desks", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--pg-seconds", type=float, default=10.0, help="per load run")
    parser.add_argument("--no-pg", action="store_true", help="leave the PostgreSQL load out")
    parser.add_argument("--memory-probe", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        _memory_probe(args.memory_probe)
        return 0
    scale = Scale(
        tenants=args.tenants,
        users=args.users if args.users is not None else 2 * args.tenants,
        calls=args.calls,
    )
    began = time.perf_counter()
    made = ensure_sqlite(scale)
    how = "reused, built earlier in" if made.cached else "built in"
    print(f"database: {made.url} ({how} {made.seconds:.0f} s)", flush=True)
    with tempfile.TemporaryDirectory(dir=CACHE_DIR, prefix="run-") as tmp:
        pg = {
            "url": args.pg_url,
            "desks": args.pg_desks,
            "seconds": args.pg_seconds,
            "skip": args.no_pg,
        }
        figures, details = run_all(made, args.runs, args.import_rows, Path(tmp), pg)
    print(table(figures))
    failed = [f.name for f in figures if f.passed is False]
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "at": stamp,
                "machine": machine(),
                "scale": asdict(scale),
                "database": {
                    "counts": asdict(made.counts),
                    "generation_seconds": made.seconds,
                    "reused": made.cached,
                },
                "figures": [f.as_json() for f in figures],
                **details,
                "seconds": time.perf_counter() - began,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(
        f"{len(figures) - len(failed)} of {len(figures)} figures within their bars"
        f" ({sum(f.bar is not None for f in figures)} with bars); results: {out}"
    )
    if failed:
        print("over the bar: " + "; ".join(failed))
    broken = details["failed_measurements"]
    if broken:
        print("measurements that failed (no figures): " + "; ".join(broken))
    print(f"total {time.perf_counter() - began:.0f} s")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
