"""Demo data: covers the policy table, tops up without duplicating."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.accounts.file import AccountRecords
from db.accounts.importer import import_accounts
from db.demo import DEMO_PIN, demo_records, load_demo
from db.models import AccountUser, AuditEvent, Subscription, Tenant, TenantDomain
from db.staff.agents import list_agents
from db.staff.signin import authenticate
from tui.cli import main
from verification.hashing import verify_secret
from verification.kinds import Channel, Role, SubscriptionKind, SubscriptionStatus
from verification.totp import code_at, time_step

Factory = sessionmaker[Session]
TODAY = date(2030, 3, 15)
NOW = datetime(2030, 3, 15, 12, tzinfo=UTC)


def counts(factory: Factory) -> tuple[int, ...]:
    with factory() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(m)) or 0
            for m in (Tenant, AccountUser, Subscription, TenantDomain)
        )


def subscriptions(factory: Factory) -> list[Subscription]:
    with factory() as session:
        return list(session.scalars(select(Subscription)))


def test_demo_covers_every_policy_row(any_factory: Factory) -> None:
    report = load_demo(any_factory, TODAY)
    assert report.tenants_added >= 12 and report.tenants_present == 0
    subs = subscriptions(any_factory)
    rows = {(s.kind, s.channel, s.status, s.auto_renew) for s in subs}
    paid, direct = SubscriptionKind.PAID, Channel.DIRECT
    assert any(kind is SubscriptionKind.TRIAL for kind, *_ in rows)
    assert (paid, direct, SubscriptionStatus.ACTIVE, True) in rows
    assert (paid, direct, SubscriptionStatus.EXPIRING, False) in rows
    assert any(r[:3] == (paid, Channel.PRODUCT_KEY, SubscriptionStatus.ACTIVE) for r in rows)
    assert any(channel is Channel.OPEN for _, channel, *_ in rows)
    assert any(channel is Channel.FPP for _, channel, *_ in rows)
    assert any(s.status is SubscriptionStatus.EXPIRED for s in subs)
    canceled = [s for s in subs if s.status is SubscriptionStatus.CANCELED]
    assert all(s.canceled_at is not None and s.canceled_at < NOW for s in canceled)
    assert any(s.data_deletion_on and s.data_deletion_on > TODAY for s in canceled)
    assert any(s.data_deletion_on and s.data_deletion_on < TODAY for s in canceled)


def test_demo_dates_follow_today(factory: Factory) -> None:
    load_demo(factory, TODAY)
    current = [
        s
        for s in subscriptions(factory)
        if s.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.EXPIRING)
    ]
    assert current and all(s.term_start <= TODAY <= s.term_end for s in current)


def test_demo_people_places_and_secrets(factory: Factory) -> None:
    report = load_demo(factory, TODAY)
    with factory() as session:
        tenants = list(session.scalars(select(Tenant)))
        users = list(session.scalars(select(AccountUser)))
        countries = {t.country for t in tenants}
        with_pin = [t for t in tenants if t.support_pin_hash]
        names = " ".join(f"{t.contact_first_name} {t.contact_last_name}" for t in tenants)
        with_domains = [t for t in tenants if t.domains]
    assert "US" in countries and len(countries - {"US"}) >= 3
    assert "José Pérez" in names and "O’Brien" in names and "Müller" in names
    assert 0 < len(with_domains) < len(tenants)
    assert {u.is_admin for u in users} == {True, False}
    assert len(with_pin) == 1 and verify_secret(DEMO_PIN, with_pin[0].support_pin_hash or "")
    assert [c.pin for c in report.callers if c.pin] == [DEMO_PIN]
    assert {c.user_id for c in report.callers} == {u.user_id for u in users}
    # Fictitious numbers only: 555 in the US, Ofcom's drama range in the UK.
    fictitious = {"US": "+1425555", "GB": "+4420794"}
    assert all(t.phone_e164.startswith(fictitious.get(t.country, "+")) for t in tenants)


def test_demo_staff_can_sign_in(factory: Factory) -> None:
    report = load_demo(factory, TODAY)
    roles = {a.username: a.role for a in list_agents(factory)}
    assert roles == {
        "agent": Role.AGENT,
        "agent2": Role.AGENT,
        "supervisor": Role.SUPERVISOR,
        # Four eyes: the call one supervisor took, the other decides.
        "supervisor2": Role.SUPERVISOR,
    }
    for agent in report.agents:
        assert agent.passphrase is not None
        # Supervisors with the second factor the demo printed; agents without one.
        assert (agent.totp_secret is not None) == (agent.role is Role.SUPERVISOR)
        code = code_at(agent.totp_secret, time_step(NOW)) if agent.totp_secret else None
        assert authenticate(factory, agent.username, agent.passphrase, NOW, code).ok


def test_demo_twice_duplicates_nothing(factory: Factory) -> None:
    first = load_demo(factory, TODAY)
    before = counts(factory)
    second = load_demo(factory, TODAY)
    assert counts(factory) == before
    assert second.tenants_added == 0 and second.tenants_present == first.tenants_added
    assert all(agent.passphrase is None for agent in second.agents)
    assert len(list_agents(factory)) == 4


def test_demo_tops_up_missing_tenants(factory: Factory) -> None:
    records = demo_records(TODAY)
    one = [r for r in records if r["tenant_ref"] == records[0]["tenant_ref"]]
    assert import_accounts(factory, AccountRecords(enumerate(one, start=1))).written
    report = load_demo(factory, TODAY)
    assert report.tenants_present == 1
    assert counts(factory)[0] == report.tenants_added + 1
    with factory() as session:
        payloads = session.scalars(
            select(AuditEvent.payload).where(AuditEvent.type == "accounts.imported")
        ).all()
    assert json.loads(payloads[-1])["source"] == "demo"


def test_cli_demo_prints_staff_and_callers(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db_url, "demo"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^supervisor\s+supervisor\s+\S{10,}$", out, re.MULTILINE)
    assert re.search(r"^supervisor2\s+supervisor\s+\S{10,}$", out, re.MULTILINE)
    assert f"PIN {DEMO_PIN}" in out and "jose.perez@contoso.example.com" in out
    assert main(["--db", db_url, "demo"]) == 0
    assert "0 added, " in capsys.readouterr().out


@pytest.mark.parametrize("width", [80, 120])
def test_demo_tables_fit_the_terminal_and_wrap_at_words(factory: Factory, width: int) -> None:
    from tui.commands.demo_cmd import render

    report = load_demo(factory, TODAY, actor="test")
    out = render(report, "sqlite:///demo.db", width=width)
    assert max(len(line) for line in out.splitlines()) <= width
    words = set(out.split())
    for caller in report.callers:
        # Every word of an address is whole on some line ("Seattle,", never "Seat" + "tle,").
        for word in caller.address.split():
            assert word in words, (word, caller.address)
        assert caller.user_id in words


@pytest.mark.parametrize("width", [80, 120])
def test_the_passphrases_are_the_last_lines_printed(factory: Factory, width: int) -> None:
    # `make run` asks to "note a username and passphrase above" under this output:
    # on a 24-line terminal they must still be on screen, so the staff come last.
    from tui.commands.demo_cmd import render

    report = load_demo(factory, TODAY, actor="test")
    last = render(report, "sqlite:///demo.db", width=width).splitlines()[-(24 - 2) :]
    for agent in report.agents:
        assert agent.passphrase is not None
        assert any(agent.username in line and agent.passphrase in line for line in last)
    assert "Staff (sign in to the desk with these):" in last
    assert not any("Callers to play" in line for line in last[-8:])
