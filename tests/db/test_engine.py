"""The SQLite engine settings that let several desks share one file."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from db.engine import SQLITE_BUSY_TIMEOUT_MS

INSERT_AGENT = text(
    "INSERT INTO agent (username, display_name, role, passphrase_hash, active,"
    " failed_signins, created_at) VALUES (:name, :name, 'agent', 'h', 1, 0, :now)"
)
NOW = "2026-01-01T00:00:00+00:00"


def test_pragmas_are_in_force(engine: Engine) -> None:
    with engine.connect() as connection:

        def pragma(name: str) -> object:
            return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == SQLITE_BUSY_TIMEOUT_MS
        assert pragma("synchronous") == 2  # FULL


def test_every_transaction_takes_the_write_lock_at_begin(engine: Engine, db_url: str) -> None:
    # Even a transaction that has only read holds the write lock, so a writer
    # that does not wait is refused: that is BEGIN IMMEDIATE, not DEFERRED.
    path = db_url.removeprefix("sqlite:///")
    with engine.begin() as connection:
        connection.execute(text("SELECT count(*) FROM agent"))
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


def test_two_connections_writing_at_once_both_succeed(engine: Engine) -> None:
    # Each writer reads, holds its transaction a while, then writes: with
    # deferred transactions the second writer would fail with "database is
    # locked" instead of waiting its turn.
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait()
            with engine.begin() as connection:
                connection.execute(text("SELECT count(*) FROM agent")).scalar()
                time.sleep(0.3)
                connection.execute(INSERT_AGENT, {"name": name, "now": NOW})
        except BaseException as exc:  # re-raised in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("ana", "ben")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with engine.connect() as connection:
        names = connection.execute(text("SELECT username FROM agent ORDER BY username"))
        assert names.scalars().all() == ["ana", "ben"]


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    orphan = text(
        "INSERT INTO account_user (user_id, display_name, tenant_id, is_admin)"
        " VALUES ('a@example.com', 'A', 999, 0)"
    )
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), engine.begin() as connection:
        connection.execute(orphan)
