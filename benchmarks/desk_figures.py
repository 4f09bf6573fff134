"""``make bench``'s desk figures: desk start, account lookups, recording an item check.

Desk start is a whole ``callgate`` process on a pseudo-terminal against a
bare Textual app with the same widgets; the lookups and the item check run
the desk's own ``db`` functions on the generated database. ``stated_callers`` (what
a caller who knows the account states) also feeds the PostgreSQL load.
"""

from __future__ import annotations

import fcntl
import os
import pty
import random
import sqlite3
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.figures import ROOT, Figure, median_ms
from db.calls import address_of
from db.models import AccountUser, Agent, Tenant
from db.settings import Settings
from db.types import utcnow
from verification.kinds import Item, Role
from verification.phone import normalize_phone
from verification.userid import normalize_user_id

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
    # A blocking wait, not ``wait(timeout=)``: that one polls in sleeps of up to
    # 50 ms, which rounded both starts to 50 ms steps (416 or 466 ms, nothing
    # between). The timer stands in for the timeout.
    watchdog = threading.Timer(120, process.kill)
    watchdog.start()
    try:
        code = process.wait()
    finally:
        watchdog.cancel()
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
        bar=1.1,  # PRODUCT.md section 9
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
        # The address fields are the stated item's fields, as on file.
        (Item.ADDRESS, asdict(address_of(tenant))),
    ]


def stated_callers(
    factory: sessionmaker[Session], count: int
) -> list[list[tuple[Item, dict[str, str]]]]:
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
    for statements in stated_callers(factory, calls):
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
        bar=5.0,  # PRODUCT.md section 9, on SQLite
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
