"""Staff sign-in's second factor on both backends: codes, replays, the lockout, the log.

The same sequences run on SQLite (``db.staff.signin`` with ``verification.totp``)
and on PostgreSQL (revision 0020's ``agent_sign_in`` with pgcrypto), so both
accept and refuse the same codes.
"""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from db.models import AuditEvent
from db.staff.agents import add_agent, get_agent, list_agents, reset_agent
from db.staff.signin import (
    CODE_NEEDED_MESSAGE,
    NO_SECOND_FACTOR_MESSAGE,
    SIGNIN_FAILED_MESSAGE,
    SignInResult,
    authenticate,
    delay_after,
)
from tests.helpers.policy import DEFAULTS
from tests.helpers.totp import TOTP_SECRET
from tests.verification.test_totp import RFC_SECRET, RFC_VECTORS
from tui.cli import main
from verification.kinds import Role
from verification.totp import code_at, new_secret, time_step

NOW = datetime(2026, 11, 26, 12, 0, 5, tzinfo=UTC)
PASS = "correct horse battery"
STEP = time_step(NOW)

Factory = sessionmaker[Session]


def answer(result: SignInResult) -> tuple[object, ...]:
    """What a refused attempt tells the one who made it."""
    return (result.ok, result.message, result.failures, result.locked, result.delay_seconds)


def payloads(factory: Factory) -> str:
    with factory() as session:
        rows = session.execute(select(AuditEvent.actor, AuditEvent.type, AuditEvent.payload))
        return "\n".join(" ".join(row) for row in rows)


@pytest.mark.postgres
def test_python_and_the_database_compute_the_same_codes(pg_engine: Engine) -> None:
    code = text("SELECT totp_code(totp_base32(:secret), :step, :digits)")
    rng = random.Random(6238)
    with pg_engine.connect() as connection:
        for unix, expected in RFC_VECTORS:
            got = connection.execute(code, {"secret": RFC_SECRET, "step": unix // 30, "digits": 8})
            assert got.scalar_one() == expected
        for _ in range(200):
            secret, step = new_secret(), rng.randrange(0, 2**40)
            got = connection.execute(code, {"secret": secret, "step": step, "digits": 6})
            assert got.scalar_one() == code_at(secret, step)


def test_codes_accepted_and_refused_alike_on_both_backends(any_factory: Factory) -> None:
    add_agent(any_factory, "ana", "Ana", Role.AGENT, PASS, totp_secret=TOTP_SECRET)
    add_agent(any_factory, "bo", "Bo", Role.AGENT, PASS)

    def attempt(code: str | None, name: str = "ana", passphrase: str = PASS) -> SignInResult:
        return authenticate(any_factory, name, passphrase, NOW, code)

    asked = attempt(None)  # the right passphrase: the code is asked, nothing counted
    assert asked.code_needed and not asked.ok and asked.message == CODE_NEEDED_MESSAGE
    assert asked.failures == 0 and get_agent(any_factory, "ana").failed_signins == 0
    # A wrong passphrase answers exactly as for an account without a second factor.
    assert not attempt(None, passphrase="wrong passphrase").code_needed
    assert not attempt(None, name="bo", passphrase="wrong passphrase").code_needed
    reset_agent(any_factory, "ana", reason="test")

    used = [code_at(TOTP_SECRET, STEP + offset) for offset in (2, 0, 0, -1, 1)]
    results = [attempt(code) for code in used]
    assert [(r.ok, r.failures) for r in results] == [
        (False, 1),  # two steps ahead: wrong
        (True, 0),
        (False, 1),  # the same code again: a replay
        (False, 2),  # the step before the one used
        (True, 0),  # the next step (a clock a little ahead)
    ]
    assert all(r.message == SIGNIN_FAILED_MESSAGE for r in results if not r.ok)
    # Never in the audit log: neither a code typed nor the secret.
    log = payloads(any_factory)
    assert "wrong_code" in log
    assert not any(code in log for code in used) and TOTP_SECRET not in log


def test_a_wrong_code_counts_toward_the_lockout_like_a_wrong_passphrase(
    any_factory: Factory,
) -> None:
    add_agent(any_factory, "ana", "Ana", Role.AGENT, PASS, totp_secret=TOTP_SECRET)
    add_agent(any_factory, "bo", "Bo", Role.AGENT, PASS)
    by_code, by_passphrase = [], []
    at = NOW
    for n in range(1, DEFAULTS.signin_lock_after + 1):
        wrong = code_at(TOTP_SECRET, time_step(at) + 5)
        by_code.append(authenticate(any_factory, "ana", PASS, at, wrong))
        by_passphrase.append(authenticate(any_factory, "bo", "wrong passphrase", at))
        at += timedelta(seconds=delay_after(n) + 60)
    assert [answer(r) for r in by_code] == [answer(r) for r in by_passphrase]
    assert by_code[-1].locked
    right = code_at(TOTP_SECRET, time_step(at))
    assert answer(authenticate(any_factory, "ana", PASS, at, right))[:4] == (
        False, SIGNIN_FAILED_MESSAGE, DEFAULTS.signin_lock_after + 1, True,
    )  # fmt: skip


def test_a_supervisor_signs_in_only_with_a_second_factor(any_factory: Factory) -> None:
    add_agent(any_factory, "sue", "Sue", Role.SUPERVISOR, PASS)
    refused = authenticate(any_factory, "sue", PASS, NOW)
    assert not refused.ok and refused.message == NO_SECOND_FACTOR_MESSAGE
    assert refused.failures == 0  # only the right passphrase gets here: not a guess
    assert not authenticate(any_factory, "sue", PASS, NOW, "123456").ok
    assert "second_factor_missing" in payloads(any_factory)

    secret = new_secret()
    reset_agent(any_factory, "sue", reason="enrolled", totp_secret=secret)
    assert authenticate(any_factory, "sue", PASS, NOW, code_at(secret, STEP)).ok
    assert secret not in payloads(any_factory)
    assert [a.second_factor for a in list_agents(any_factory)] == [True]


def test_a_new_second_factor_replaces_the_old_one(factory: Factory) -> None:
    add_agent(factory, "ana", "Ana", Role.AGENT, PASS, totp_secret=TOTP_SECRET)
    assert authenticate(factory, "ana", PASS, NOW, code_at(TOTP_SECRET, STEP)).ok
    secret = new_secret()
    reset_agent(factory, "ana", reason="lost the phone", totp_secret=secret)
    later = NOW + timedelta(seconds=30)
    assert not authenticate(factory, "ana", PASS, later, code_at(TOTP_SECRET, STEP + 1)).ok
    # The step used under the old secret does not count against the new one.
    assert authenticate(factory, "ana", PASS, later, code_at(secret, STEP)).ok


def test_agents_add_and_reset_print_the_uri_and_a_qr_code(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*argv: str) -> str:
        monkeypatch.setattr("sys.stdin", io.StringIO(PASS + "\n"))
        assert main(["--db", db_url, "agents", *argv]) == 0
        return capsys.readouterr().out

    def qr_rows(out: str) -> int:
        return sum(1 for line in out.splitlines() if line.startswith("██") and len(line) > 20)

    # A supervisor is enrolled without being asked; an agent only with --totp.
    sue = run("add", "sue", "--role", "supervisor", "--passphrase-stdin")
    assert "otpauth://totp/callgate%3Asue?secret=" in sue and qr_rows(sue) > 10
    ana = run("add", "ana", "--role", "agent", "--passphrase-stdin")
    assert "otpauth" not in ana
    again = run("reset", "ana", "--reason", "phone", "--totp")
    assert "otpauth://totp/callgate%3Aana?secret=" in again and qr_rows(again) > 10
    listing = run("list")
    assert all(" totp" in line for line in listing.splitlines()[1:])

    secret = again.split("secret=")[1].split("&")[0]
    from db.engine import make_engine, make_sessionmaker

    factory = make_sessionmaker(make_engine(db_url))
    assert authenticate(factory, "ana", PASS, NOW, code_at(secret, STEP)).ok
    with factory() as session:
        events = [json.loads(p) for p in session.scalars(select(AuditEvent.payload))]
    assert [e.get("second_factor") for e in events if "role" in e] == [True, False]
    assert secret not in json.dumps(events)
