"""Accounts sync: what differs is listed and applied whole, or nothing is.

History (the desk and the supervisor's call detail after a sync) is in
``test_sync_history.py``; hostile files in ``test_import_hardening.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.accounts.importer import import_accounts
from db.accounts.sync import SYNC_EVENT, SyncReport, sync_accounts
from db.models import AccountUser, AuditEvent, Subscription, Tenant, TenantDomain
from tests.db.test_import import row, write_csv
from tui.cli import main
from verification.kinds import SubscriptionStatus
from verification.pin import match_pin

Factory = sessionmaker[Session]

BEN = {"user_id": "ben@contoso.com", "display_name": "Ben", "is_admin": "false"}
FABRIKAM = {
    "tenant_ref": "T-2",
    "organization": "Fabrikam",
    "user_id": "cy@fabrikam.example",
    "phone": "(425) 555-0142",
    "domains": "",
}


def _base() -> list[dict[str, str]]:
    return [row(), row(**BEN), row(**FABRIKAM)]


@pytest.fixture
def on_file(any_factory: Factory, tmp_path: Path) -> Factory:
    """Two tenants and three users, imported."""
    assert import_accounts(any_factory, write_csv(tmp_path / "base.csv", _base())).written
    return any_factory


def _sync(factory: Factory, tmp_path: Path, rows: list[dict[str, str]], **kw: bool) -> SyncReport:
    return sync_accounts(factory, write_csv(tmp_path / "sync.csv", rows), **kw)


def _group(report: SyncReport, title: str) -> dict[str, dict[str, tuple[str, str]]]:
    changes = dict(report.groups)[title]
    return {c.what: {f.name: (f.before, f.after) for f in c.fields} for c in changes}


def _events(factory: Factory) -> list[AuditEvent]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def _snapshot(factory: Factory) -> list[object]:
    """Every account row as stored, to prove that nothing changed."""
    with factory() as session:
        return [
            [tuple(r) for r in session.execute(select(model.__table__).order_by("id"))]
            for model in (Tenant, TenantDomain, AccountUser, Subscription)
        ]


def test_unchanged_file_changes_nothing_and_says_so(on_file: Factory, tmp_path: Path) -> None:
    before, events = _snapshot(on_file), len(_events(on_file))
    report = _sync(on_file, tmp_path, _base())
    assert report.ok and report.unchanged and not report.written
    assert _snapshot(on_file) == before and len(_events(on_file)) == events


def test_changes_are_listed_by_group_and_field_masked(on_file: Factory, tmp_path: Path) -> None:
    t1 = {"phone": "(425) 555-0199", "organization": "Contoso Group"}
    ben = {**BEN, **t1, "is_admin": "true", "display_name": "Ben Ode"}
    rows = [
        row(**t1),
        row(**ben),
        row(**ben, product_name="Project"),
        row(**{**FABRIKAM, "term_end": "2027-06-30"}),
        row(tenant_ref="T-3", organization="Northwind", user_id="di@northwind.example"),
    ]
    before = _snapshot(on_file)
    dry = _sync(on_file, tmp_path, rows, dry_run=True)
    assert dry.ok and not dry.written and _snapshot(on_file) == before
    assert _group(dry, "tenants changed") == {
        "T-1": {
            "organization": ("'Contoso, Ltd.'", "'Contoso Group'"),
            "phone": ("•••0100", "•••0199"),
        }
    }
    assert _group(dry, "tenants added") == {"T-3": {}}
    assert _group(dry, "users changed") == {
        "b•••@contoso.com (T-1)": {
            "display_name": ("'Ben'", "'Ben Ode'"),
            "is_admin": ("false", "true"),
        }
    }
    assert _group(dry, "users added") == {"d•••@northwind.example (T-3)": {}}
    assert _group(dry, "subscriptions added") == {"T-1: Project": {}, "T-3: Business Premium": {}}
    assert _group(dry, "subscriptions changed") == {
        "T-2: Business Premium": {"term_end": ("2027-01-14", "2027-06-30")}
    }
    assert dry.tenants_missing == 0 and dry.users_missing == 0
    # Nothing is shown in clear that the masks hide.
    shown = repr(dry.groups)
    assert "ben@" not in shown and "5550199" not in shown and "555-0199" not in shown

    report = _sync(on_file, tmp_path, rows)
    assert report.written and report.groups == dry.groups
    with on_file() as session:
        t1 = session.scalars(select(Tenant).where(Tenant.ref == "T-1")).one()
        assert (t1.organization, t1.phone_e164, t1.active) == (
            "Contoso Group",
            "+14255550199",
            True,
        )
        ben = session.scalars(
            select(AccountUser).where(AccountUser.user_id == BEN["user_id"])
        ).one()
        assert (ben.display_name, ben.is_admin) == ("Ben Ode", True)
        assert session.scalar(select(func.count()).select_from(Subscription)) == 4
    event = _events(on_file)[-1]
    assert event.type == SYNC_EVENT
    assert json.loads(event.payload) == {
        "tenants_added": 1,
        "tenants_changed": 1,
        "tenants_removed": 0,
        "users_added": 1,
        "users_changed": 1,
        "users_removed": 0,
        "subscriptions_added": 2,
        "subscriptions_changed": 1,
    }
    # Applied once: the same file again is a no-op.
    assert _sync(on_file, tmp_path, rows).unchanged


def test_remove_missing_marks_inactive_and_a_return_reactivates(
    on_file: Factory, tmp_path: Path
) -> None:
    report = _sync(on_file, tmp_path, [row()], remove_missing=True)
    assert report.written
    assert _group(report, "tenants removed") == {"T-2": {}}
    assert _group(report, "users removed") == {
        "b•••@contoso.com (T-1)": {},
        "c•••@fabrikam.example (T-2)": {},
    }
    with on_file() as session:
        assert session.scalar(select(func.count()).select_from(Tenant)) == 2  # never deleted
        active = dict(session.execute(select(Tenant.ref, Tenant.active)).all())
        assert active == {"T-1": True, "T-2": False}
        users = dict(session.execute(select(AccountUser.user_id, AccountUser.active)).all())
        assert users == {
            "ana.perez@contoso.com": True,
            "ben@contoso.com": False,
            "cy@fabrikam.example": False,
        }
    back = _sync(on_file, tmp_path, _base())
    assert _group(back, "tenants changed") == {"T-2": {"active": ("false", "true")}}
    assert set(_group(back, "users changed")) == {
        "b•••@contoso.com (T-1)",
        "c•••@fabrikam.example (T-2)",
    }
    with on_file() as session:
        assert all(session.scalars(select(AccountUser.active)))


def test_a_user_moves_to_another_tenant(on_file: Factory, tmp_path: Path) -> None:
    fabrikam = {k: v for k, v in FABRIKAM.items() if k != "user_id"}
    report = _sync(on_file, tmp_path, [row(), row(**{**BEN, **fabrikam}), row(**FABRIKAM)])
    assert _group(report, "users changed")["b•••@contoso.com (T-2)"] == {"tenant": ("T-1", "T-2")}
    with on_file() as session:
        ben = session.scalars(
            select(AccountUser).where(AccountUser.user_id == BEN["user_id"])
        ).one()
        assert ben.tenant.ref == "T-2"


def test_pin_and_domains_change(on_file: Factory, tmp_path: Path) -> None:
    rows = _base()
    rows[0] = row(support_pin="9876", domains="contoso.example.com; new.contoso.example.com")
    rows[1] = row(**BEN, support_pin="9876", domains="contoso.example.com; new.contoso.example.com")
    report = _sync(on_file, tmp_path, rows)
    changed = _group(report, "tenants changed")["T-1"]
    assert changed["support_pin"] == ("(none)", "(set)")
    assert changed["domains"][1] == "contoso.example.com; new.contoso.example.com"
    assert "9876" not in repr(report.groups)
    with on_file() as session:
        t1 = session.scalars(select(Tenant).where(Tenant.ref == "T-1")).one()
        assert [d.domain for d in t1.domains] == ["contoso.example.com", "new.contoso.example.com"]
        assert t1.support_pin_hash is not None and match_pin("9876", t1.support_pin_hash)
    assert _sync(on_file, tmp_path, rows).unchanged  # the same PIN again is no change


def test_a_bad_row_writes_nothing(on_file: Factory, tmp_path: Path) -> None:
    before, events = _snapshot(on_file), len(_events(on_file))
    rows = [
        row(organization="Renamed"),
        row(**BEN, organization="Renamed"),
        row(**{**FABRIKAM, "phone": "12"}),
    ]
    report = _sync(on_file, tmp_path, rows, remove_missing=True)
    assert not report.ok and not report.written
    assert [b.line for b in report.bad_rows] == [4]
    assert "not a phone number" in report.bad_rows[0].reason
    assert _snapshot(on_file) == before and len(_events(on_file)) == events


def test_subscription_status_change(on_file: Factory, tmp_path: Path) -> None:
    rows = _base()
    rows[2] = row(
        **FABRIKAM,
        status="canceled",
        canceled_at="2026-11-01T10:30:00Z",
        data_deletion_on="2027-01-30",
        auto_renew="false",
    )
    report = _sync(on_file, tmp_path, rows)
    fields = _group(report, "subscriptions changed")["T-2: Business Premium"]
    assert fields["status"] == ("active", "canceled")
    assert fields["canceled_at"] == ("(none)", "2026-11-01T10:30:00+00:00")
    with on_file() as session:
        sub = session.scalars(select(Subscription).join(Tenant).where(Tenant.ref == "T-2")).one()
        assert sub.status is SubscriptionStatus.CANCELED and not sub.auto_renew


def test_cli_dry_run_lists_then_sync_applies(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_csv(tmp_path / "base.csv", _base())
    assert main(["--db", db_url, "accounts", "import", str(base)]) == 0
    new_phone = "(425) 555-0199"
    changed = write_csv(tmp_path / "new.csv", [row(phone=new_phone), row(**BEN, phone=new_phone)])
    capsys.readouterr()
    assert main(["--db", db_url, "accounts", "sync", str(changed), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["tenants changed (1):", "  T-1: phone •••0100 → •••0199"]
    assert "kept: 1 tenants and 1 users on file but not in the file" in out[2]
    assert out[-1] == "new.csv: dry run: nothing written"
    assert main(["--db", db_url, "accounts", "sync", str(changed), "--remove-missing"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "tenants removed (1):" in out and "  T-2" in out
    assert out[-1] == "new.csv: applied in one transaction"
    assert main(["--db", db_url, "accounts", "sync", str(changed)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "new.csv: the records on file already match; nothing to change"
    )


def test_cli_bad_row_exits_1(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "a.csv", [row(), row(tenant_ref="T-2", user_id="x", phone="1")])
    assert main(["--db", db_url, "accounts", "sync", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("line 3: ") and err[-1] == "a.csv: 1 bad row; nothing changed"
