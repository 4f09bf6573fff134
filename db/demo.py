"""Demo data: fictitious tenants covering every row of the policy table, and staff.

Tenants go through the account importer, as an operator's file would, and
are keyed by ``tenant_ref``: running the demo again adds only what is
missing. Dates are relative to ``today`` so the demo stays meaningful.
Names, domains and numbers are fictitious (example domains, 555 numbers in
the US, Ofcom's drama range in the UK, ACMA's fiction range in Australia).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.accounts.file import AccountRecords
from db.accounts.importer import import_accounts
from db.models import Tenant
from db.staff.agents import add_agent, list_agents
from verification.kinds import Role
from verification.totp import new_secret

DEMO_PIN = "4826"
DEMO_STAFF = (
    ("agent", "Alex Agent", Role.AGENT),
    ("agent2", "Sam Second", Role.AGENT),
    ("supervisor", "Dana Supervisor", Role.SUPERVISOR),
    # Four eyes: an expedited request one supervisor took needs the other to decide it.
    ("supervisor2", "Robin Reviewer", Role.SUPERVISOR),
)


class DemoError(RuntimeError):
    """The demo data could not be loaded into this database."""


@dataclass(frozen=True)
class DemoCaller:
    """Someone to play on a demo call, and what the call shows."""

    user_id: str
    organization: str
    country: str
    admin: bool
    pin: str | None
    demonstrates: str
    contact: str
    phone: str
    address: str


@dataclass(frozen=True)
class DemoAgent:
    """A demo staff account; ``passphrase`` (and a supervisor's second factor,
    ``totp_secret``) None when it existed already."""

    username: str
    role: Role
    passphrase: str | None
    totp_secret: str | None = None


@dataclass(frozen=True)
class DemoReport:
    """What ``load_demo`` added and what a new user needs to try a call."""

    tenants_added: int
    tenants_present: int
    agents: tuple[DemoAgent, ...]
    callers: tuple[DemoCaller, ...]


@dataclass(frozen=True)
class _Tenant:
    ref: str
    organization: str
    first: str
    last: str
    phone: str
    address: tuple[str, str, str, str, str, str]  # line1, line2, city, region, postal, country
    domains: str
    pin: str
    users: tuple[tuple[str, str, bool], ...]  # user ID, display name, admin
    subscriptions: tuple[dict[str, str], ...]
    demonstrates: str


def _sub(
    product: str,
    today: date,
    start: int,
    end: int,
    *,
    kind: str = "paid",
    channel: str = "direct",
    status: str = "active",
    auto_renew: bool = False,
    canceled: int | None = None,
    deletion: int | None = None,
) -> dict[str, str]:
    """One subscription's columns; day offsets are relative to ``today``."""

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    canceled_at = ""
    if canceled is not None:
        canceled_at = datetime.combine(today + timedelta(days=canceled), time(15, 30)).isoformat()
    return {
        "product_name": product,
        "kind": kind,
        "channel": channel,
        "status": status,
        "term_start": day(start),
        "term_end": day(end),
        "auto_renew": "true" if auto_renew else "false",
        "canceled_at": canceled_at,
        "data_deletion_on": day(deletion) if deletion is not None else "",
    }


def _tenants(today: date) -> list[_Tenant]:
    t = today
    return [
        _Tenant(
            "DEMO-01",
            "Contoso, Ltd.",
            "José",
            "Pérez",
            "+1 425-555-0101",
            ("123 North Main Street", "Suite 400", "Springfield", "IL", "62704", "US"),
            "contoso.example.com;mail.contoso.example.com",
            "",
            (
                ("jose.perez@contoso.example.com", "José Pérez", True),
                ("kim.lee@contoso.example.com", "Kim Lee", False),
            ),
            (_sub("Business Premium", t, -200, 165, auto_renew=True),),
            "direct, auto-renew on: turn auto-renew off or cancel now (domains checklist)",
        ),
        _Tenant(
            "DEMO-02",
            "Fabrikam Ltd",
            "Siobhán",
            "O’Brien",
            "+44 20 7946 0102",
            ("10 Riverside Walk", "", "London", "", "SE1 7PB", "GB"),
            "fabrikam.example",
            "",
            (("siobhan.obrien@fabrikam.example", "Siobhán O’Brien", True),),
            (_sub("Business Standard", t, -300, 65, status="expiring"),),
            "direct, auto-renew already off (expiring): cancel now before term end",
        ),
        _Tenant(
            "DEMO-03",
            "Müller & Söhne GmbH",
            "Jürgen",
            "Müller",
            "+49 30 5550103",
            ("Unter den Linden 5", "", "Berlin", "", "10117", "DE"),
            "",
            DEMO_PIN,
            (("j.mueller@mueller-soehne.example", "Jürgen Müller", True),),
            (_sub("Business Premium", t, -100, 265, channel="product_key"),),
            "product key: cancel now, no refund; has a support PIN",
        ),
        _Tenant(
            "DEMO-04",
            "Zoë’s Bakery",
            "Zoë",
            "Lefèvre",
            "+33 1 99 00 01 04",
            ("12 rue de la Paix", "", "Paris", "", "75002", "FR"),
            "",
            "",
            (("zoe@zoes-bakery.example", "Zoë Lefèvre", True),),
            (_sub("Business Basic", t, -10, 20, kind="trial"),),
            "trial: nothing to cancel; its data is deleted the day the trial ends",
        ),
        _Tenant(
            "DEMO-05",
            "Northwind Traders Pty Ltd",
            "Olivia",
            "Nguyen",
            "+61 2 5550 0105",
            ("1 Harbour Street", "Level 12", "Sydney", "NSW", "2000", "AU"),
            "northwind.example",
            "",
            (("olivia.nguyen@northwind.example", "Olivia Nguyen", True),),
            (_sub("Office Enterprise", t, -35, 330, channel="open"),),
            "bought through Open: expires at term end, nothing to cancel",
        ),
        _Tenant(
            "DEMO-06",
            "Tailspin Toys KK",
            "Haruki",
            "Sato",
            "+81 3-5555-0106",
            ("1-2-3 Marunouchi", "", "Chiyoda-ku", "Tokyo", "100-0005", "JP"),
            "",
            "",
            (("haruki.sato@tailspin.example", "Haruki Sato", True),),
            (_sub("Office Home & Business", t, -180, 185, channel="fpp"),),
            "bought as FPP (retail): expires at term end, nothing to cancel",
        ),
        _Tenant(
            "DEMO-07",
            "Adventure Works Inc.",
            "Maria",
            "García",
            "+1 425-555-0107",
            ("500 Pine St", "", "Seattle", "WA", "98101", "US"),
            "",
            "",
            (("maria.garcia@adventure-works.example", "María García", True),),
            (_sub("Business Premium", t, -250, 115, status="canceled", canceled=-10, deletion=80),),
            "canceled, data kept: expedited deprovisioning (supervisor approves)",
        ),
        _Tenant(
            "DEMO-08",
            "Woodgrove Consulting LLC",
            "Ethan",
            "Brooks",
            "+1 425-555-0108",
            ("2 Lake Shore Drive", "Apt 5B", "Chicago", "Illinois", "60601", "US"),
            "",
            "",
            (("ethan.brooks@woodgrove.example", "Ethan Brooks", True),),
            (_sub("Business Standard", t, -425, -60, status="expired", deletion=30),),
            "expired: status and dates only",
        ),
        _Tenant(
            "DEMO-09",
            "Litware, Inc.",
            "Grace",
            "Kim",
            "+1 425-555-0109",
            ("77 Market Street", "Floor 3", "San Francisco", "CA", "94105", "US"),
            "",
            "",
            (("grace.kim@litware.example", "Grace Kim", True),),
            (_sub("Business Basic", t, -300, 65, status="canceled", canceled=-120, deletion=-30),),
            "canceled and data already deleted: status and dates only",
        ),
        _Tenant(
            "DEMO-10",
            "Proseware, LLC",
            "Priya",
            "Shah",
            "+1 425-555-0110",
            ("9 West Elm Avenue", "Unit 12", "Austin", "TX", "78701", "US"),
            "proseware.example;shop.proseware.example;proseware-mail.example",
            "",
            (
                ("priya.shah@proseware.example", "Priya Shah", True),
                ("tom.baker@proseware.example", "Tom Baker", False),
            ),
            (
                _sub("Business Premium", t, -30, 335, auto_renew=True),
                _sub("Project Plan 3", t, -5, 25, kind="trial"),
            ),
            "two subscriptions (direct and trial), three custom domains",
        ),
        _Tenant(
            "DEMO-11",
            "Wide World Importers plc",
            "Liam",
            "O’Connor",
            "+44 20 7946 0111",
            ("45 King Street", "", "Manchester", "", "M2 4LQ", "GB"),
            "",
            "",
            (("liam.oconnor@wideworld.example", "Liam O’Connor", True),),
            (_sub("Business Standard", t, -90, 275, auto_renew=True),),
            "direct, auto-renew on, no custom domains (shorter checklist)",
        ),
        _Tenant(
            "DEMO-12",
            "Coho Winery",
            "Chloé",
            "Martin",
            "+61 3 5550 0112",
            ("8 Vineyard Road", "", "Melbourne", "VIC", "3000", "AU"),
            "cohowinery.example",
            "",
            (
                ("chloe.martin@cohowinery.example", "Chloé Martin", True),
                ("sam.lee@cohowinery.example", "Sam Lee", False),
            ),
            (_sub("Business Basic", t, -200, 165, channel="product_key"),),
            "product key; a non-admin user to show the admin check",
        ),
        _Tenant(
            "DEMO-13",
            "Alpine Ski House AG",
            "Lukas",
            "Schröder",
            "+49 89 5550113",
            ("Leopoldstraße 20", "", "München", "", "80802", "DE"),
            "alpineskihouse.example",
            "",
            (("lukas.schroeder@alpineskihouse.example", "Lukas Schröder", True),),
            (_sub("Business Premium", t, -340, 25, auto_renew=True),),
            "direct, renews in under a month",
        ),
    ]


def demo_records(today: date) -> list[dict[str, str]]:
    """The demo tenants as rows of the account import format."""
    records = []
    for tenant in _tenants(today):
        line1, line2, city, region, postal_code, country = tenant.address
        base = {
            "tenant_ref": tenant.ref,
            "organization": tenant.organization,
            "contact_first_name": tenant.first,
            "contact_last_name": tenant.last,
            "phone": tenant.phone,
            "address_line1": line1,
            "address_line2": line2,
            "city": city,
            "region": region,
            "postal_code": postal_code,
            "country": country,
            "domains": tenant.domains,
            "support_pin": tenant.pin,
        }
        for user_id, name, admin in tenant.users:
            for subscription in tenant.subscriptions:
                records.append(
                    {
                        **base,
                        "user_id": user_id,
                        "display_name": name,
                        "is_admin": "true" if admin else "false",
                        **subscription,
                    }
                )
    return records


def demo_callers(today: date) -> list[DemoCaller]:
    """Every demo user, with what a call as that user demonstrates."""
    callers = []
    for tenant in _tenants(today):
        for user_id, _name, admin in tenant.users:
            shows = tenant.demonstrates if admin else "not an admin: call ends denied_not_admin"
            callers.append(
                DemoCaller(
                    user_id=user_id,
                    organization=tenant.organization,
                    country=tenant.address[5],
                    admin=admin,
                    pin=tenant.pin or None,
                    demonstrates=shows,
                    contact=f"{tenant.first} {tenant.last}",
                    phone=tenant.phone,
                    address=", ".join(part for part in tenant.address if part),
                )
            )
    return callers


def load_demo(
    factory: sessionmaker[Session], today: date, *, actor: str = "operator"
) -> DemoReport:
    """Add the demo tenants and staff that are missing; never duplicate any."""
    records = demo_records(today)
    with factory() as session:
        refs = {r["tenant_ref"] for r in records}
        present = set(session.scalars(select(Tenant.ref).where(Tenant.ref.in_(refs))))
    missing = [r for r in records if r["tenant_ref"] not in present]
    if missing:
        report = import_accounts(
            factory, AccountRecords(enumerate(missing, start=1), "demo"), actor=actor
        )
        if not report.written:
            reasons = "; ".join(f"record {b.line}: {b.reason}" for b in report.bad_rows[:3])
            raise DemoError(f"the demo data does not fit this database: {reasons}")
    existing = {a.username for a in list_agents(factory)}
    agents = []
    for username, name, role in DEMO_STAFF:
        passphrase = secret = None
        if username not in existing:
            passphrase = secrets.token_urlsafe(12)
            secret = new_secret() if role is Role.SUPERVISOR else None  # db.staff.signin
            add_agent(factory, username, name, role, passphrase, actor=actor, totp_secret=secret)
        agents.append(DemoAgent(username, role, passphrase, secret))
    tenants = len({r["tenant_ref"] for r in records})
    return DemoReport(
        tenants_added=tenants - len(present),
        tenants_present=len(present),
        agents=tuple(agents),
        callers=tuple(demo_callers(today)),
    )
