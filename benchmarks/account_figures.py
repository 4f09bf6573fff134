"""``make bench``'s account figures: import and sync of 100,000 accounts.

Both against the same baseline: the file's rows read with ``csv`` and stored
with plain ``sqlite3`` executemany in one transaction, no validation
(PRODUCT.md section 9: within 2×).
"""

from __future__ import annotations

import csv
import sqlite3
import statistics
import time
from datetime import timedelta
from pathlib import Path

from benchmarks.figures import Figure
from benchmarks.generate import ANCHOR
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from db.types import utcnow

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
    """An empty migrated database at ``path``, whatever was there before."""
    for old in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        old.unlink(missing_ok=True)
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


def account_import(workdir: Path, rows: int, repeats: int = 3) -> Figure:
    """``db.accounts.importer.import_accounts`` of a CSV against plain sqlite3 executemany.

    Each of ``repeats`` rounds times both, alternating, so that a busy
    neighbour weighs on both alike; the figure is the median of each.
    """
    from db.accounts.importer import import_accounts

    source = workdir / "accounts.csv"
    write_import_file(source, rows)
    measured, baseline = [], []
    for _ in range(repeats):
        factory = make_sessionmaker(make_engine(_fresh_database(workdir / "import.db")))
        started = time.perf_counter()
        report = import_accounts(factory, source)
        measured.append(time.perf_counter() - started)
        if not report.written or report.users != rows:
            raise RuntimeError(f"the import failed: {report.bad_rows[:3]}")
        baseline.append(_plain_seconds(workdir / "plain.db", source))
    return _against_plain(
        f"import {rows:,} accounts (CSV)",
        measured,
        baseline,
        "db.accounts.importer.import_accounts",
    )


def account_sync(workdir: Path, rows: int, repeats: int = 3) -> Figure:
    """``db.accounts.sync.sync_accounts`` of the import's file with one tenant in ten changed
    (phone and organization) and one user in ten made an admin, against the
    same baseline as the import (the sync compares every row on file); rounds
    as for the import, each sync on a freshly imported database."""
    from db.accounts.importer import import_accounts
    from db.accounts.sync import sync_accounts

    source = workdir / "sync-base.csv"
    write_import_file(source, rows)
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
    measured, baseline = [], []
    for _ in range(repeats):
        factory = make_sessionmaker(make_engine(_fresh_database(workdir / "sync.db")))
        if not import_accounts(factory, source).written:
            raise RuntimeError("the import before the sync failed")
        started = time.perf_counter()
        report = sync_accounts(factory, changed)
        measured.append(time.perf_counter() - started)
        if not report.written or report.counts is None or not report.counts["tenants_changed"]:
            raise RuntimeError(f"the sync failed: {report.bad_rows[:3]}")
        baseline.append(_plain_seconds(workdir / "sync-plain.db", changed))
    return _against_plain(
        f"sync {rows:,} accounts (CSV, 10% changed)",
        measured,
        baseline,
        "db.accounts.sync.sync_accounts",
    )


def _plain_seconds(path: Path, source: Path) -> float:
    """Wall time of ``plain_executemany`` of ``source`` into a fresh database at ``path``."""
    _fresh_database(path)
    started = time.perf_counter()
    plain_executemany(path, source)
    return time.perf_counter() - started


def _against_plain(name: str, measured: list[float], baseline: list[float], what: str) -> Figure:
    return Figure(
        name,
        statistics.median(measured),
        statistics.median(baseline),
        "s",
        bar=2.0,
        bar_on="ratio",
        note=f"{what}, median of {len(measured)}; baseline: csv + sqlite3 executemany,"
        " no validation",
    )
