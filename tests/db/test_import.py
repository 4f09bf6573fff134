"""Account import: round trip, every bad row with its line, all or nothing."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.accounts.file import AccountRecords
from db.accounts.importer import (
    COLUMNS,
    ImportFileError,
    ImportReport,
    import_accounts,
)
from db.models import AccountUser, AuditEvent, Subscription, Tenant
from tui.cli import main
from verification.kinds import Channel, Item, SubscriptionKind, SubscriptionStatus
from verification.pin import match_pin

Factory = sessionmaker[Session]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

GOOD = {
    "tenant_ref": "T-1",
    "organization": "Contoso, Ltd.",
    "contact_first_name": "José",
    "contact_last_name": "Pérez",
    "phone": "(425) 555-0100",
    "address_line1": "123 North Main Street",
    "address_line2": "Suite 400",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62704",
    "country": "us",
    "domains": "Contoso.example.com; mail.contoso.example.com",
    "support_pin": "",
    "user_id": " Ana.Perez@Contoso.COM ",
    "display_name": "Ana Pérez",
    "is_admin": "true",
    "product_name": "Business Premium",
    "kind": "paid",
    "channel": "direct",
    "term_start": "2026-01-15",
    "term_end": "2027-01-14",
    "auto_renew": "yes",
    "status": "active",
    "canceled_at": "",
    "data_deletion_on": "",
}


def row(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


def stated_as_imported(user_id: str, organization: str, phone: str) -> dict[Item, dict[str, str]]:
    """What the caller of a tenant imported from ``GOOD`` states: these three, GOOD's name
    and address."""
    return {
        Item.USER_ID: {"value": user_id},
        Item.PHONE: {"value": phone},
        Item.CONTACT_NAME: {"first": "José", "last": "Pérez"},
        Item.ORGANIZATION: {"value": organization},
        Item.ADDRESS: {
            "line1": "123 North Main Street",
            "line2": "Suite 400",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62704",
            "country": "US",
        },
    }


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return path


def count(factory: Factory, model: type[object]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def written_nothing(factory: Factory) -> bool:
    return all(count(factory, m) == 0 for m in (Tenant, AccountUser, Subscription, AuditEvent))


def lines(report: ImportReport) -> dict[int, str]:
    return {bad.line: bad.reason for bad in report.bad_rows}


def test_round_trip_normalizes(any_factory: Factory, tmp_path: Path) -> None:
    second_user = row(user_id="ben@contoso.com", display_name="Ben", is_admin="false")
    trial = row(
        product_name="Project",
        kind="trial",
        term_start="2026-11-01",
        term_end="2026-12-01",
        auto_renew="",
        status="active",
    )
    gb = row(
        tenant_ref="T-2",
        organization="Fabrikam",
        contact_first_name="Siobhán",
        contact_last_name="O’Brien",
        phone="020 7946 0321",
        address_line2="",
        city="London",
        region="",
        postal_code="sw1a 2aa",
        country="GB",
        domains="",
        support_pin="48 29",
        user_id="siobhan@fabrikam.example",
        is_admin="false",
        channel="product_key",
        auto_renew="false",
    )
    report = import_accounts(
        any_factory, write_csv(tmp_path / "a.csv", [row(), second_user, trial, gb])
    )
    assert report.ok and report.written
    assert (report.tenants, report.users, report.subscriptions, report.domains, report.pins) == (
        2,
        3,
        3,
        2,
        1,
    )
    with any_factory() as session:
        t1, t2 = session.scalars(select(Tenant).order_by(Tenant.ref)).all()
        assert (t1.phone_e164, t1.country, t1.contact_first_name) == ("+14255550100", "US", "José")
        assert [d.domain for d in t1.domains] == ["contoso.example.com", "mail.contoso.example.com"]
        assert t1.support_pin_hash is None
        assert (t2.phone_e164, t2.postal_code, t2.domains) == ("+442079460321", "SW1A 2AA", [])
        assert t2.support_pin_hash is not None and "4829" not in t2.support_pin_hash
        # Stored as the desk compares it: the grouping read out is not the secret.
        assert match_pin("4829", t2.support_pin_hash)
        users = {
            u.user_id: (u.tenant.ref, u.is_admin) for u in session.scalars(select(AccountUser))
        }
        assert users == {
            "ana.perez@contoso.com": ("T-1", True),
            "ben@contoso.com": ("T-1", False),
            "siobhan@fabrikam.example": ("T-2", False),
        }
        subs = {
            (s.tenant.ref, s.product_name): (s.kind, s.channel, s.term_end, s.auto_renew, s.status)
            for s in session.scalars(select(Subscription))
        }
        assert subs == {
            ("T-1", "Business Premium"): (
                SubscriptionKind.PAID,
                Channel.DIRECT,
                date(2027, 1, 14),
                True,
                SubscriptionStatus.ACTIVE,
            ),
            ("T-1", "Project"): (
                SubscriptionKind.TRIAL,
                Channel.DIRECT,
                date(2026, 12, 1),
                False,
                SubscriptionStatus.ACTIVE,
            ),
            ("T-2", "Business Premium"): (
                SubscriptionKind.PAID,
                Channel.PRODUCT_KEY,
                date(2027, 1, 14),
                False,
                SubscriptionStatus.ACTIVE,
            ),
        }
        event = session.scalars(select(AuditEvent)).one()
    assert event.type == "accounts.imported"
    assert json.loads(event.payload)["tenants"] == 2
    assert "4829" not in event.payload and "contoso" not in event.payload.lower()


def test_canceled_dates_round_trip(any_factory: Factory, tmp_path: Path) -> None:
    canceled = row(
        status="canceled", canceled_at="2026-11-01T10:30:00Z", data_deletion_on="2027-01-30"
    )
    assert import_accounts(any_factory, write_csv(tmp_path / "a.csv", [canceled])).written
    with any_factory() as session:
        sub = session.scalars(select(Subscription)).one()
    assert (
        sub.canceled_at is not None and sub.canceled_at.isoformat() == "2026-11-01T10:30:00+00:00"
    )
    assert sub.data_deletion_on == date(2027, 1, 30)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"phone": "12"}, "not a phone number"),
        ({"user_id": "ana.perez"}, "not a user ID"),
        ({"channel": "retail"}, "unknown channel 'retail'"),
        ({"kind": "free"}, "unknown kind 'free'"),
        ({"status": "paused"}, "unknown status 'paused'"),
        ({"address_line1": ""}, "missing address_line1"),
        ({"city": " "}, "missing city"),
        ({"country": ""}, "missing country"),
        ({"postal_code": ""}, "missing postal_code"),
        ({"term_start": "15/01/2026"}, "bad date in term_start"),
        ({"term_end": "2025-01-01"}, "term_end is before term_start"),
        ({"country": "XX"}, "unknown country 'XX'"),
        ({"is_admin": "maybe"}, "is_admin must be true or false"),
        ({"domains": "not a domain"}, "not a domain name"),
        ({"status": "canceled"}, "needs canceled_at and data_deletion_on"),
        ({"organization": "x" * 201}, "organization is longer than 200 characters"),
    ],
)
def test_each_kind_of_bad_row_reported_with_its_line(
    factory: Factory, tmp_path: Path, changes: dict[str, str], reason: str
) -> None:
    good_two = row(tenant_ref="T-2", user_id="x@fabrikam.example")
    path = write_csv(
        tmp_path / "a.csv",
        [row(), good_two, row(**{"tenant_ref": "T-3", "user_id": "y@z.example", **changes})],
    )
    report = import_accounts(factory, path)
    assert list(lines(report)) == [4]
    assert reason in lines(report)[4]
    assert not report.written and written_nothing(factory)


def test_every_bad_row_is_reported(factory: Factory, tmp_path: Path) -> None:
    rows = [
        row(),
        row(tenant_ref="T-2", user_id="b@x.example", phone="12"),
        row(tenant_ref="T-3", user_id="c@x.example"),
        row(tenant_ref="T-4", user_id="bad", channel="nope"),
    ]
    report = import_accounts(factory, write_csv(tmp_path / "a.csv", rows))
    assert sorted(lines(report)) == [3, 5]
    assert "not a user ID" in lines(report)[5] and "unknown channel" in lines(report)[5]


def test_a_bad_tenant_field_is_reported_on_every_row_that_repeats_it(
    factory: Factory, tmp_path: Path
) -> None:
    rows = [
        row(phone="12", kind="weekly"),
        row(phone="12", kind="weekly", user_id="ben@contoso.com"),
        row(user_id="cy@contoso.com", tenant_ref="T-2", phone="(425) 555-0199"),
    ]
    report = import_accounts(factory, write_csv(tmp_path / "a.csv", rows))
    assert sorted(lines(report)) == [2, 3]
    for line in (2, 3):
        assert "not a phone number" in lines(report)[line]
        assert "unknown kind" in lines(report)[line]


def test_line_numbers_count_quoted_newlines(factory: Factory, tmp_path: Path) -> None:
    rows = [
        row(address_line2="Building 7\nFloor 2"),
        row(
            tenant_ref="T-2",
            user_id="q",
        ),
    ]
    report = import_accounts(factory, write_csv(tmp_path / "a.csv", rows))
    assert list(lines(report)) == [4]


def test_duplicate_user_id_within_the_file(factory: Factory, tmp_path: Path) -> None:
    rows = [row(), row(tenant_ref="T-2", user_id="ANA.PEREZ@contoso.com")]
    report = import_accounts(factory, write_csv(tmp_path / "a.csv", rows))
    assert lines(report) == {3: "duplicate user ID ana.perez@contoso.com: already on line 2"}
    assert written_nothing(factory)


def test_same_user_same_product_twice_is_a_duplicate(factory: Factory, tmp_path: Path) -> None:
    report = import_accounts(factory, write_csv(tmp_path / "a.csv", [row(), row()]))
    assert "duplicate of line 2" in lines(report)[3]


def test_duplicate_user_id_against_the_database(any_factory: Factory, tmp_path: Path) -> None:
    assert import_accounts(any_factory, write_csv(tmp_path / "a.csv", [row()])).written
    again = write_csv(tmp_path / "b.csv", [row(tenant_ref="T-9")])
    report = import_accounts(any_factory, again)
    assert "already in the database" in lines(report)[2]
    assert count(any_factory, Tenant) == 1


def test_reasons_found_in_different_passes_share_one_line(factory: Factory, tmp_path: Path) -> None:
    assert import_accounts(factory, write_csv(tmp_path / "a.csv", [row()])).written
    again = [row(tenant_ref="T-2", user_id="b@x.example"), row(user_id="b@x.example")]
    report = import_accounts(factory, write_csv(tmp_path / "b.csv", again))
    assert [b.line for b in report.bad_rows] == [3]
    assert "already on line 2" in lines(report)[3] and "already exists" in lines(report)[3]


def test_reimport_updates_nothing(factory: Factory, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [row()])
    assert import_accounts(factory, path).written
    report = import_accounts(
        factory, write_csv(tmp_path / "b.csv", [row(organization="Changed", user_id="n@x.example")])
    )
    assert "tenant 'T-1' already exists" in lines(report)[2]
    with factory() as session:
        assert session.scalars(select(Tenant.organization)).one() == "Contoso, Ltd."
    assert count(factory, AuditEvent) == 1


def test_tenant_rows_must_agree(factory: Factory, tmp_path: Path) -> None:
    rows = [
        row(),
        row(user_id="b@contoso.com", organization="Contoso Pharma", phone="+1 425 555 0199"),
    ]
    report = import_accounts(factory, write_csv(tmp_path / "a.csv", rows))
    assert lines(report) == {3: "tenant 'T-1' differs from line 2 in organization, phone"}


def test_subscription_rows_must_agree(factory: Factory, tmp_path: Path) -> None:
    rows = [row(), row(user_id="b@contoso.com", term_end="2027-06-30")]
    report = import_accounts(factory, write_csv(tmp_path / "a.csv", rows))
    assert lines(report) == {3: "subscription 'Business Premium' differs from line 2 in term_end"}


def test_one_bad_row_writes_nothing(factory: Factory, tmp_path: Path) -> None:
    rows = [row(tenant_ref=f"T-{i}", user_id=f"u{i}@x.example") for i in range(50)]
    rows[37]["phone"] = "not a phone"
    report = import_accounts(factory, write_csv(tmp_path / "a.csv", rows))
    assert list(lines(report)) == [39]
    assert not report.written and written_nothing(factory)


def test_dry_run_writes_nothing(factory: Factory, tmp_path: Path) -> None:
    report = import_accounts(factory, write_csv(tmp_path / "a.csv", [row()]), dry_run=True)
    assert report.ok and not report.written and report.tenants == 1
    assert written_nothing(factory)


def test_header_problems_reported_on_line_one(factory: Factory, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("tenant_ref,organisation\nT-1,Contoso\n", encoding="utf-8")
    reason = lines(import_accounts(factory, path))[1]
    assert (
        "missing column(s): organization" in reason and "unknown column(s): organisation" in reason
    )


def test_json_lines_are_the_objects_source_lines(factory: Factory, tmp_path: Path) -> None:
    objects = [row(), row(tenant_ref="T-2", user_id="b@x.example", kind="free")]
    text = "[\n" + ",\n".join(json.dumps(o, indent=2) for o in objects) + "\n]\n"
    path = tmp_path / "a.json"
    path.write_text(text, encoding="utf-8")
    second_object_line = text.splitlines().index("{", 2) + 1
    report = import_accounts(factory, path)
    assert list(lines(report)) == [second_object_line]


def test_json_syntax_error_has_its_line(factory: Factory, tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('[\n{"tenant_ref": "T-1",\n "organization": }\n]', encoding="utf-8")
    report = import_accounts(factory, path)
    assert list(lines(report)) == [3] and "invalid JSON" in lines(report)[3]


def test_examples_import(factory: Factory) -> None:
    for name in ("accounts.csv", "accounts.json"):
        report = import_accounts(factory, EXAMPLES / name, dry_run=True)
        assert report.ok, report.bad_rows
    assert import_accounts(factory, EXAMPLES / "accounts.json").written


def test_unknown_extension_refused(factory: Factory, tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"csv or \.json"):
        import_accounts(factory, path)


def test_empty_file_is_refused(factory: Factory, tmp_path: Path) -> None:
    report = import_accounts(factory, write_csv(tmp_path / "a.csv", []))
    assert not report.written and "no account rows" in lines(report)[1]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(COLUMNS),
    value=st.one_of(st.text(), st.integers(), st.booleans(), st.none(), st.lists(st.text())),
)
def test_any_value_in_any_field_is_a_bad_row_or_good(
    factory: Factory, field: str, value: object
) -> None:
    record = {**GOOD, field: value}
    report = import_accounts(factory, AccountRecords([(7, record)]), dry_run=True)
    assert report.ok or [b.line for b in report.bad_rows] == [7]
    assert written_nothing(factory)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(), suffix=st.sampled_from([".csv", ".json"]))
def test_any_file_content_is_reported_not_raised(
    factory: Factory, tmp_path: Path, text: str, suffix: str
) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        report = import_accounts(factory, path)
    except ImportFileError:
        return  # not UTF-8 (a lone surrogate): refused as a file, which is the contract
    assert not report.written and report.bad_rows


def test_cli_prints_each_bad_line_and_exits_1(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "a.csv", [row(), row(tenant_ref="T-2", user_id="x", phone="1")])
    assert main(["--db", db_url, "accounts", "import", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("line 3: ") and "not a user ID" in err[0]
    assert err[-1] == "a.csv: 1 bad row; nothing imported"


def test_cli_dry_run_then_import(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "a.csv", [row()])
    assert main(["--db", db_url, "accounts", "import", str(path), "--dry-run"]) == 0
    assert "would import 1 tenant, 1 user, " in capsys.readouterr().out
    assert main(["--db", db_url, "accounts", "import", str(path)]) == 0
    assert "imported 1 tenant, 1 user, 1 subscription" in capsys.readouterr().out
