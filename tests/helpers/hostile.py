"""Hostile text and the records that carry it, made the way real ones arrive.

Tenants come in through the account importer (``db.accounts.importer.import_accounts``)
as rows of the demo file with some fields replaced; calls, checks, notes and
requests go through ``db.desk``, as the agent desk writes them. ``shown`` is
the test's own statement of how the desk must show a value (PRODUCT.md §4
"Untrusted text"): every character literally, except the ones a terminal would
act on, which appear as visible symbols.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import date, datetime

from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import desk
from db.accounts.file import AccountRecords
from db.accounts.importer import import_accounts
from db.demo import demo_records
from db.models import AccountUser
from db.staff.agents import AgentInfo
from tests.helpers.policy import DEFAULTS
from tests.helpers.possession import answered_callback
from tests.helpers.review_data import SETTINGS
from tests.tui.drive import on_file
from verification.errors import InputError
from verification.kinds import Item, Outcome
from verification.policy import Action

# Markup of both parsers the desk could meet (Rich's and Textual's), and what
# a terminal acts on: an escape sequence, carriage return, NUL, bell, DEL, CSI.
MARKUP = (
    "[/]",
    "[b]",
    "[/b]",
    "[/x]",
    "[link=x]",
    "[link=https://evil.example/]",
    "[@click=app.quit]",
    "[on red]",
    "[$accent]",
    "$accent",
    "[",
    "]",
    "[[",
    "]]",
    "[b",
    "\\[b]",
    "\\",
    "\x1b[31m",
    "\x1b[2J",
    "\r",
    "\x00",
    "\x07",
    "\x08",
    "\x7f",
    "\x9b",
    "\t",
    "\u202e",
)
# Letters, digits, punctuation, symbols, separators and control characters;
# no lone surrogates (the database cannot store them: a separate finding).
_ANY_CHAR = st.characters(exclude_categories=("Cs",))


def _join(parts: list[str]) -> str:
    return "".join(parts)


def _usable(text: str) -> bool:
    # What survives the import (whitespace collapsed) and a paste (first line).
    lines = text.splitlines()
    return bool(lines and lines[0].strip() and " ".join(text.split()))


# At most 90 characters: the shortest imported column (a contact name) holds 100.
_core = st.builds(
    lambda first, rest: (first + rest)[:40],
    st.sampled_from(MARKUP),
    st.lists(st.one_of(st.sampled_from(MARKUP), st.text(_ANY_CHAR, max_size=4)), max_size=5).map(
        _join
    ),
)
# Long text: the markup first, so it is in the part a column or a line shows.
_long = _core.map(lambda core: core + " lorem ipsum dolor" * 2)
# Imported fields never hold a NUL: the import refuses it with the row's line
# (issue 11 item 14), so it reaches the desks only as typed text below.
HOSTILE = st.one_of(_core, _long).filter(_usable).filter(lambda text: "\x00" not in text)
# Free text (notes, reasons, stated values) has no column limit: up to ~300 characters.
_longer = st.builds(lambda core, n: core + " lorem ipsum dolor" * n, _core, st.integers(3, 14))
HOSTILE_TEXT = st.one_of(_core, _longer).filter(_usable)

_C0 = {code: chr(0x2400 + code) for code in range(0x20)}
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def shown(text: str) -> str:
    """How the desk must show ``text``: C0 controls and DEL as their control
    pictures (␛ ␀ ␍ …), C1 controls, bidi controls and line/paragraph
    separators as �, everything else as it is (markup included)."""
    out = []
    for char in text:
        code = ord(char)
        if code in _C0:
            out.append(_C0[code])
        elif code == 0x7F:
            out.append("\u2421")
        elif 0x80 <= code <= 0x9F or char in _BIDI or char in "\u2028\u2029":
            out.append("\ufffd")
        else:
            out.append(char)
    return "".join(out)


def probe(text: str, length: int = 12) -> str:
    """The start of ``text`` as shown: what a column or a line has room for.

    A no-break space reads as a space in the screen text (``screen_text``).
    """
    return shown(text)[:length].replace("\xa0", " ").strip()


def import_tenant(
    factory: sessionmaker[Session],
    today: date,
    template: str,
    ref: str,
    user_id: str,
    **fields: str,
) -> None:
    """Import the demo tenant ``template`` again as ``ref`` with ``fields`` replaced.

    The template must have one user and one subscription (e.g. DEMO-07, DEMO-11).
    """
    [row] = [r for r in demo_records(today) if r["tenant_ref"] == template]
    record: Mapping[str, object] = {**row, "tenant_ref": ref, "user_id": user_id, **fields}
    report = import_accounts(factory, AccountRecords([(1, record)]), actor="test")
    assert report.ok, report.bad_rows


def stored_user_fields(factory: sessionmaker[Session], user_id: str) -> dict[str, str]:
    """The tenant fields of ``user_id`` and its first product, as the import stored them."""
    with factory() as session:
        user = session.scalars(select(AccountUser).where(AccountUser.user_id == user_id)).one()
        tenant = user.tenant
        return {
            "organization": tenant.organization,
            "contact_first_name": tenant.contact_first_name,
            "contact_last_name": tenant.contact_last_name,
            "address_line1": tenant.address_line1,
            "product_name": tenant.subscriptions[0].product_name,
        }


WRONG_PHONE = {"value": "+14255550199"}


def locked_call(
    factory: sessionmaker[Session],
    agent: AgentInfo,
    user_id: str,
    stated: list[tuple[Item, dict[str, str]]],
    note: str,
    now: datetime,
) -> int:
    """A call that states ``stated`` (input errors allowed), then wrong phones
    until it locks, ended as verification failed with ``note``."""
    view = desk.start_call(factory, agent.id, agent.username, SETTINGS, now)
    for item, fields in [(Item.USER_ID, {"value": user_id}), *stated]:
        with contextlib.suppress(InputError):  # an input error is not a miss: go on
            view = desk.submit_item(
                factory, view.call_id, agent.username, item, fields, SETTINGS, now
            )
    for n in range(DEFAULTS.max_misses + 1):
        if view.locked or view.tenant_locked:
            break
        wrong = {"value": WRONG_PHONE["value"][:-1] + str(n)}  # the same twice counts once
        view = desk.submit_item(
            factory, view.call_id, agent.username, Item.PHONE, wrong, SETTINGS, now
        )
    assert view.locked or view.tenant_locked
    outcome = Outcome.VERIFICATION_FAILED if view.locked else Outcome.ESCALATED
    desk.end_call(factory, view.call_id, agent.username, outcome, note, now)
    return view.call_id


def verified_call(
    factory: sessionmaker[Session], agent: AgentInfo, user_id: str, now: datetime
) -> desk.CallView:
    """An open call of ``agent`` in which ``user_id``'s caller passed every item."""
    view = desk.start_call(factory, agent.id, agent.username, SETTINGS, now)
    for item, fields in on_file(factory, user_id).items():
        view = desk.submit_item(factory, view.call_id, agent.username, item, fields, SETTINGS, now)
    assert view.gate_open, view.gate_reasons
    return view


def expedited_call(
    factory: sessionmaker[Session], agent: AgentInfo, user_id: str, note: str, now: datetime
) -> int:
    """A verified call asking expedited deprovisioning, ended as expedited with ``note``."""
    view = verified_call(factory, agent, user_id, now)
    view = answered_callback(factory, view.call_id, agent.username, SETTINGS, now)
    [sub] = view.subscriptions
    [option] = [o for o in sub.decision.options if o.action is Action.EXPEDITED_DEPROVISIONING]
    desk.take_action(
        factory,
        view.call_id,
        agent.username,
        sub.id,
        Action.EXPEDITED_DEPROVISIONING,
        option.checklist,
        SETTINGS,
        now,
    )
    desk.end_call(factory, view.call_id, agent.username, Outcome.EXPEDITED, note, now)
    return view.call_id
