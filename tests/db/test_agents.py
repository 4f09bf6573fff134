"""Agent accounts: add, list, disable, reset, sign-in with lockout."""

from __future__ import annotations

import getpass
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_sessionmaker
from db.models import Agent, AgentReset, AuditEvent
from db.staff.agents import AgentError, add_agent, disable_agent, list_agents, reset_agent
from db.staff.signin import SIGNIN_FAILED_MESSAGE, SignInResult, authenticate, delay_after
from tests.helpers.policy import DEFAULTS
from tui.cli import main
from verification.kinds import Role

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
PASS = "correct horse battery"
LOCK_AFTER = DEFAULTS.signin_lock_after

Factory = sessionmaker[Session]


def events(factory: Factory) -> list[tuple[str, str, dict[str, object]]]:
    with factory() as session:
        rows = session.execute(
            select(AuditEvent.actor, AuditEvent.type, AuditEvent.payload).order_by(AuditEvent.seq)
        )
        return [(actor, type_, json.loads(payload)) for actor, type_, payload in rows]


def sign_in(factory: Factory, username: str, passphrase: str) -> SignInResult:
    return authenticate(factory, username, passphrase, NOW)


@pytest.fixture
def ana(factory: Factory) -> str:
    add_agent(factory, "ana", "Ana Agent", Role.AGENT, PASS)
    return "ana"


@pytest.fixture
def any_ana(any_factory: Factory) -> str:
    add_agent(any_factory, "ana", "Ana Agent", Role.AGENT, PASS)
    return "ana"


def test_add_then_list(factory: Factory) -> None:
    add_agent(factory, "Zed.Super", "Zed", Role.SUPERVISOR, PASS)
    add_agent(factory, "ana", "", Role.AGENT, PASS)
    listed = list_agents(factory)
    assert [(a.username, a.display_name, a.role, a.active) for a in listed] == [
        ("ana", "ana", Role.AGENT, True),
        ("zed.super", "Zed", Role.SUPERVISOR, True),
    ]
    assert [(t, p["username"]) for _, t, p in events(factory)] == [
        ("agent.added", "zed.super"),
        ("agent.added", "ana"),
    ]


def test_duplicate_username_refused(factory: Factory, ana: str) -> None:
    with pytest.raises(AgentError, match="already exists"):
        add_agent(factory, "ANA", "Other", Role.AGENT, PASS)
    assert len(list_agents(factory)) == 1


@pytest.mark.parametrize("bad", ["", "ana perez", "ana@desk", "é"])
def test_bad_username_refused(factory: Factory, bad: str) -> None:
    with pytest.raises(AgentError, match="username"):
        add_agent(factory, bad, "X", Role.AGENT, PASS)


def test_short_passphrase_refused(factory: Factory) -> None:
    with pytest.raises(AgentError, match="at least 10"):
        add_agent(factory, "ana", "Ana", Role.AGENT, "123456789")


def test_passphrase_never_stored_in_clear(factory: Factory, ana: str) -> None:
    with factory() as session:
        stored = session.scalar(select(Agent.passphrase_hash))
        log = " ".join(session.scalars(select(AuditEvent.payload)))
    assert stored is not None and PASS not in stored and stored.startswith("scrypt$")
    assert PASS not in log


def test_right_passphrase_signs_in(factory: Factory, ana: str) -> None:
    result = sign_in(factory, "Ana ", PASS)
    assert result.ok and result.agent is not None and result.agent.username == "ana"
    assert result.delay_seconds == 0
    assert events(factory)[-1][:2] == ("ana", "agent.signed_in")
    assert list_agents(factory)[0].last_signin_at == NOW


def test_wrong_passphrase_counts_and_locks_after_five(any_factory: Factory, any_ana: str) -> None:
    results = [sign_in(any_factory, "ana", "wrong passphrase") for _ in range(LOCK_AFTER)]
    assert [r.failures for r in results] == [1, 2, 3, 4, 5]
    assert [r.locked for r in results] == [False] * 4 + [True]
    assert [r.delay_seconds for r in results] == [delay_after(n) for n in range(1, 6)]
    assert results[1].delay_seconds < results[4].delay_seconds
    assert all(not r.ok and r.agent is None for r in results)
    assert results[0].message == SIGNIN_FAILED_MESSAGE
    assert results[-1].message == SIGNIN_FAILED_MESSAGE  # locked, but saying so would tell
    info = list_agents(any_factory)[0]
    assert info.locked and info.failed_signins == LOCK_AFTER
    types = [t for _, t, _ in events(any_factory)]
    assert types.count("agent.signin_failed") == LOCK_AFTER
    assert types[-1] == "agent.locked"


def test_success_resets_the_count(factory: Factory, ana: str) -> None:
    now = NOW
    for _ in range(LOCK_AFTER - 1):
        failed = authenticate(factory, "ana", "wrong passphrase", now)
        now += timedelta(seconds=failed.delay_seconds)  # the database's wait, waited out
    assert authenticate(factory, "ana", PASS, now).ok
    assert list_agents(factory)[0].failed_signins == 0
    again = authenticate(factory, "ana", "wrong passphrase", now)
    assert (again.failures, again.locked) == (1, False)


def test_locked_account_refused_with_right_passphrase(factory: Factory, ana: str) -> None:
    for _ in range(LOCK_AFTER):
        sign_in(factory, "ana", "wrong passphrase")
    result = sign_in(factory, "ana", PASS)
    assert not result.ok and result.locked and result.message == SIGNIN_FAILED_MESSAGE
    assert events(factory)[-1][2]["reason"] == "locked"


def test_reset_unlocks(factory: Factory, ana: str) -> None:
    for _ in range(LOCK_AFTER):
        sign_in(factory, "ana", "wrong passphrase")
    info = reset_agent(factory, "ana", reason="forgot it", actor="supervisor")
    assert not info.locked and info.failed_signins == 0
    assert sign_in(factory, "ana", PASS).ok
    assert ("supervisor", "agent.reset") in [(a, t) for a, t, _ in events(factory)]


def test_reset_with_new_passphrase(factory: Factory, ana: str) -> None:
    reset_agent(factory, "ana", "a brand new passphrase", reason="new phone")
    assert not sign_in(factory, "ana", PASS).ok
    assert sign_in(factory, "ana", "a brand new passphrase").ok
    assert "a brand new passphrase" not in json.dumps(events(factory))


def test_disabled_refused(factory: Factory, ana: str) -> None:
    disable_agent(factory, "ana")
    result = sign_in(factory, "ana", PASS)
    assert not result.ok and result.agent is None
    assert list_agents(factory)[0].active is False
    assert [t for _, t, _ in events(factory)][-2:] == ["agent.disabled", "agent.signin_failed"]


def test_unknown_user_gets_the_wrong_passphrase_message(factory: Factory, ana: str) -> None:
    unknown = sign_in(factory, "nobody", PASS)
    wrong = sign_in(factory, "ana", "wrong passphrase")
    assert not unknown.ok and unknown.message == wrong.message == SIGNIN_FAILED_MESSAGE
    actor, type_, payload = events(factory)[-2]
    assert type_ == "agent.signin_failed" and "nobody" not in json.dumps([actor, payload])


def test_commands_on_unknown_agent_refused(factory: Factory) -> None:
    with pytest.raises(AgentError, match="no agent"):
        disable_agent(factory, "ghost")
    with pytest.raises(AgentError, match="no agent"):
        reset_agent(factory, "ghost", reason="x")


def test_cli_add_list_disable_reset(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASS + "\n"))
    assert (
        main(["--db", db_url, "agents", "add", "Lee", "--role", "supervisor", "--passphrase-stdin"])
        == 0
    )
    assert main(["--db", db_url, "agents", "disable", "lee"]) == 0
    assert main(["--db", db_url, "agents", "list"]) == 0
    out = capsys.readouterr().out
    assert "added supervisor lee" in out
    assert re.search(r"^lee\s+lee\s+supervisor\s+disabled\s+0", out, re.MULTILINE)
    assert main(["--db", db_url, "agents", "reset", "ghost", "--reason", "x"]) == 1
    assert "no agent named 'ghost'" in capsys.readouterr().err
    # Changes made from a shell are the operator's, named by OS user.
    with make_sessionmaker(make_engine(db_url))() as session:
        actors = {e.type: e.actor for e in session.scalars(select(AuditEvent))}
    assert actors["agent.added"] == actors["agent.disabled"] == f"operator:{getpass.getuser()}"


def test_cli_reset_asks_a_reason_kept_out_of_the_chain(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASS + "\n"))
    assert (
        main(["--db", db_url, "agents", "add", "lee", "--role", "agent", "--passphrase-stdin"]) == 0
    )
    with pytest.raises(SystemExit):  # argparse: the reason is required
        main(["--db", db_url, "agents", "reset", "lee"])
    assert "--reason" in capsys.readouterr().err
    assert main(["--db", db_url, "agents", "reset", "lee", "--reason", " "]) == 1
    assert "give a reason" in capsys.readouterr().err
    assert main(["--db", db_url, "agents", "reset", "lee", "--reason", "locked out at 9"]) == 0
    with make_sessionmaker(make_engine(db_url))() as session:
        [reset] = session.scalars(select(AgentReset)).all()
        [payload] = [
            e.payload for e in session.scalars(select(AuditEvent)) if e.type == "agent.reset"
        ]
    assert reset.reason == "locked out at 9" and reset.actor == f"operator:{getpass.getuser()}"
    assert "locked out" not in payload


def test_cli_passphrases_must_match(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typed = iter([PASS, PASS + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert main(["--db", db_url, "agents", "add", "ana", "--role", "agent"]) == 1
    assert "differ" in capsys.readouterr().err
    assert main(["--db", db_url, "agents", "list"]) == 0
    assert "no agent accounts yet" in capsys.readouterr().out
