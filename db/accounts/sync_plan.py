"""What a sync would change: the file's rows against the records on file.

The one home of the sync's comparison rules: tenants by ``tenant_ref``,
users by user ID, subscriptions by tenant and product name. A tenant or user
not in the file is removed (marked inactive) only when asked to; one in the
file that was inactive is active again. A user whose row names another tenant
moves to it. Every change names its fields, with phones and user IDs masked,
PINs never shown. The plan also holds the values the sync writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from operator import attrgetter
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.accounts.rows import TENANT_TEXT, AccountRow, SubscriptionFields, TenantFields, UserFields
from db.accounts.writes import table
from db.models import (
    AccountUser,
    CancellationRequest,
    OutboxChannel,
    OutboxEvent,
    OutboxState,
    Subscription,
    Tenant,
    TenantDomain,
)
from verification.phone import mask_phone
from verification.pin import hash_pin, match_pin
from verification.userid import mask_user_id

_SUBSCRIPTION_FIELDS = tuple(f.name for f in fields(SubscriptionFields))
# A tenant's stored fields, compared in one C-level tuple comparison.
_COMPARED = attrgetter(*TENANT_TEXT, "domains")


@dataclass(frozen=True)
class FieldChange:
    """One field of a record that changes, with its shown values."""

    name: str
    before: str
    after: str


@dataclass(frozen=True)
class Change:
    """One record added, changed or removed: how it is named, and what changes."""

    what: str
    fields: tuple[FieldChange, ...] = ()


class PinJudge:
    """Slow PIN work done once per sync: comparing a PIN with a hash, hashing one.

    A sync plans outside the write lock first when the file holds PINs, so
    the scrypt work is done before other desks must wait for it.
    """

    def __init__(self) -> None:
        self._same: dict[tuple[str, str], bool] = {}
        self._hashes: dict[tuple[str, str], str] = {}

    def same(self, pin: str | None, stored: str | None) -> bool:
        """Whether the file's PIN is the one whose hash is stored."""
        if pin is None or stored is None:
            return pin is None and stored is None
        key = (pin, stored)
        if key not in self._same:
            self._same[key] = match_pin(pin, stored)
        return self._same[key]

    def hash(self, ref: str, pin: str | None) -> str | None:
        """The hash to store for ``ref``'s new PIN (one salt per tenant and PIN)."""
        if pin is None:
            return None
        key = (ref, pin)
        if key not in self._hashes:
            self._hashes[key] = hash_pin(pin)
        return self._hashes[key]


@dataclass(frozen=True, slots=True)
class _OnFileTenant:
    id: int
    # The fields ``_COMPARED`` reads from a TenantFields, in that order.
    fields: tuple[object, ...]
    pin_hash: str | None
    active: bool


@dataclass
class Plan:
    """The changes, grouped as the command prints them, and the values to write.

    Tenant and user values refer to tenants by ``ref`` (``tenant_ref`` key):
    an added tenant has no id until it is inserted.
    """

    tenants_added: list[Change] = field(default_factory=list)
    tenants_changed: list[Change] = field(default_factory=list)
    tenants_removed: list[Change] = field(default_factory=list)
    users_added: list[Change] = field(default_factory=list)
    users_changed: list[Change] = field(default_factory=list)
    users_removed: list[Change] = field(default_factory=list)
    subscriptions_added: list[Change] = field(default_factory=list)
    subscriptions_changed: list[Change] = field(default_factory=list)
    # Changes not applied: a decision on the subscription has not reached the
    # billing system yet, so the file cannot know of it (``_undelivered``).
    subscriptions_held: list[Change] = field(default_factory=list)
    # Kept as they are because --remove-missing was not given.
    tenants_missing: int = 0
    users_missing: int = 0
    new_tenants: dict[str, TenantFields] = field(default_factory=dict)
    # (id, ref, fields, the stored PIN hash, whether the file's PIN is that one)
    tenant_updates: list[tuple[int, str, TenantFields, str | None, bool]] = field(
        default_factory=list
    )
    tenant_ids: dict[str, int] = field(default_factory=dict)
    removed_tenant_ids: list[int] = field(default_factory=list)
    domains_added: list[tuple[str, str]] = field(default_factory=list)
    domains_removed: list[tuple[int, str]] = field(default_factory=list)
    new_users: list[tuple[str, UserFields, str]] = field(default_factory=list)
    user_updates: list[tuple[int, str, UserFields, str]] = field(default_factory=list)
    removed_user_ids: list[int] = field(default_factory=list)
    new_subscriptions: list[tuple[str, str, SubscriptionFields]] = field(default_factory=list)
    subscription_updates: list[tuple[int, SubscriptionFields]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many records each group holds (the audit payload)."""
        return {
            "tenants_added": len(self.tenants_added),
            "tenants_changed": len(self.tenants_changed),
            "tenants_removed": len(self.tenants_removed),
            "users_added": len(self.users_added),
            "users_changed": len(self.users_changed),
            "users_removed": len(self.users_removed),
            "subscriptions_added": len(self.subscriptions_added),
            "subscriptions_changed": len(self.subscriptions_changed),
        }

    @property
    def empty(self) -> bool:
        """Whether the records on file already say what the file says."""
        return not any(self.counts().values())


def new_pins(plan: Plan) -> list[tuple[str, str | None]]:
    """The tenants whose PIN a sync must hash, with the PIN from the file."""
    found = [(ref, t.support_pin) for ref, t in plan.new_tenants.items()]
    found += [(ref, t.support_pin) for _, ref, t, _, same in plan.tenant_updates if not same]
    return [(ref, pin) for ref, pin in found if pin]


def plan_sync(
    session: Session, rows: list[AccountRow], remove_missing: bool, judge: PinJudge
) -> Plan:
    """Compare the file's rows with every record on file."""
    plan = Plan()
    tenants = _tenants_on_file(session)
    refs = {t.id: ref for ref, t in tenants.items()}
    plan.tenant_ids = {ref: t.id for ref, t in tenants.items()}
    file_tenants = {row.tenant_ref: row.tenant for row in rows}
    for ref, new in file_tenants.items():
        old = tenants.get(ref)
        if old is None:
            plan.new_tenants[ref] = new
            plan.domains_added += [(ref, domain) for domain in new.domains]
            plan.tenants_added.append(Change(ref))
        else:
            _compare_tenant(plan, ref, old, new, judge)
    for ref, old in tenants.items():
        if old.active and ref not in file_tenants:
            if remove_missing:
                plan.removed_tenant_ids.append(old.id)
                plan.tenants_removed.append(Change(ref))
            else:
                plan.tenants_missing += 1
    _compare_users(plan, session, rows, refs, remove_missing)
    _compare_subscriptions(plan, session, rows, refs)
    return plan


def _tenants_on_file(session: Session) -> dict[str, _OnFileTenant]:
    t = table(Tenant)
    domains: defaultdict[int, list[str]] = defaultdict(list)
    d = table(TenantDomain)
    for tenant_id, domain in session.execute(select(d.c.tenant_id, d.c.domain)).all():
        domains[tenant_id].append(domain)
    found = {}
    query = select(
        t.c.id, t.c.ref, *(t.c[_column(name)] for name in TENANT_TEXT), t.c.support_pin_hash,
        t.c.active,
    )  # fmt: skip
    for row in session.execute(query).all():
        known = (*row[2:12], tuple(sorted(domains.get(row[0], ()))))
        found[row[1]] = _OnFileTenant(row[0], known, row[12], row[13])
    return found


def _column(name: str) -> str:
    return "phone_e164" if name == "phone" else name


def _compare_tenant(
    plan: Plan, ref: str, old: _OnFileTenant, new: TenantFields, judge: PinJudge
) -> None:
    same_pin = judge.same(new.support_pin, old.pin_hash)
    now = _COMPARED(new)
    if now == old.fields and same_pin and old.active:
        return
    names = (*TENANT_TEXT, "domains")
    changed = [
        FieldChange(name, _shown(name, before), _shown(name, after))
        for name, before, after in zip(names, old.fields, now, strict=True)
        if before != after and name != "domains"
    ]
    old_domains, new_domains = cast(tuple[str, ...], old.fields[-1]), new.domains
    if old_domains != new_domains:
        before, after = set(old_domains), set(new_domains)
        changed.append(FieldChange("domains", "; ".join(old_domains), "; ".join(new_domains)))
        plan.domains_added += [(ref, domain) for domain in sorted(after - before)]
        plan.domains_removed += [(old.id, domain) for domain in sorted(before - after)]
    if not same_pin:
        changed.append(FieldChange("support_pin", _pin(old.pin_hash), _pin(new.support_pin)))
    if not old.active:
        changed.append(FieldChange("active", "false", "true"))
    plan.tenants_changed.append(Change(ref, tuple(changed)))
    plan.tenant_updates.append((old.id, ref, new, old.pin_hash if same_pin else None, same_pin))


def _compare_users(
    plan: Plan,
    session: Session,
    rows: list[AccountRow],
    refs: dict[int, str],
    remove_missing: bool,
) -> None:
    u = table(AccountUser)
    # user ID -> (id, tenant id, display name, admin, active)
    users: dict[str, tuple[int, int, str, bool, bool]] = {
        user_id: (id_, tenant_id, name, admin, active)
        for id_, user_id, tenant_id, name, admin, active in session.execute(
            select(u.c.id, u.c.user_id, u.c.tenant_id, u.c.display_name, u.c.is_admin, u.c.active)
        ).all()
    }
    in_file: dict[str, AccountRow] = {}
    for row in rows:
        if row.user_id in in_file:
            continue
        in_file[row.user_id] = row
        old = users.get(row.user_id)
        if old is None:
            plan.new_users.append((row.user_id, row.user, row.tenant_ref))
            plan.users_added.append(Change(f"{mask_user_id(row.user_id)} ({row.tenant_ref})"))
            continue
        id_, tenant_id, name, admin, active = old
        old_ref = refs[tenant_id]
        new = row.user
        same = name == new.display_name and admin == new.is_admin and old_ref == row.tenant_ref
        if same and active:
            continue
        changed = []
        if name != new.display_name:
            changed.append(FieldChange("display_name", repr(name), repr(new.display_name)))
        if admin != new.is_admin:
            changed.append(FieldChange("is_admin", _shown("", admin), _shown("", new.is_admin)))
        if old_ref != row.tenant_ref:
            changed.append(FieldChange("tenant", old_ref, row.tenant_ref))
        if not active:
            changed.append(FieldChange("active", "false", "true"))
        shown = f"{mask_user_id(row.user_id)} ({row.tenant_ref})"
        plan.users_changed.append(Change(shown, tuple(changed)))
        plan.user_updates.append((id_, row.user_id, new, row.tenant_ref))
    for user_id, (id_, tenant_id, _, _, active) in users.items():
        if active and user_id not in in_file:
            if remove_missing:
                plan.removed_user_ids.append(id_)
                plan.users_removed.append(Change(f"{mask_user_id(user_id)} ({refs[tenant_id]})"))
            else:
                plan.users_missing += 1


def _compare_subscriptions(
    plan: Plan, session: Session, rows: list[AccountRow], refs: dict[int, str]
) -> None:
    s = table(Subscription)
    on_file: dict[tuple[str, str], tuple[int, SubscriptionFields]] = {}
    query = select(s.c.id, s.c.tenant_id, s.c.product_name, *(s.c[n] for n in _SUBSCRIPTION_FIELDS))
    for r in session.execute(query.order_by(s.c.id)).all():
        values = dict(zip(_SUBSCRIPTION_FIELDS, r[3:], strict=True))
        on_file.setdefault(
            (refs[r.tenant_id], r.product_name), (r.id, SubscriptionFields(**values))
        )
    held = _undelivered(session)
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = (row.tenant_ref, row.product_name)
        if key in seen:
            continue
        seen.add(key)
        what = f"{row.tenant_ref}: {row.product_name}"
        old = on_file.get(key)
        if old is None:
            plan.new_subscriptions.append((*key, row.subscription))
            plan.subscriptions_added.append(Change(what))
        elif old[1] != row.subscription:
            changed = tuple(
                FieldChange(name, _shown(name, getattr(old[1], name)), _shown(name, new))
                for name in _SUBSCRIPTION_FIELDS
                if getattr(old[1], name) != (new := getattr(row.subscription, name))
            )
            if old[0] in held:
                plan.subscriptions_held.append(Change(what, changed))
                continue
            plan.subscriptions_changed.append(Change(what, changed))
            plan.subscription_updates.append((old[0], row.subscription))


def _undelivered(session: Session) -> set[int]:
    """Subscriptions with a decision whose webhook event is not delivered yet.

    The system of record learns of a decision only from that event; until it
    has it, its file still shows the subscription as before the call, and
    applying it would undo what the agent did (turn auto-renew back on,
    reactivate a cancelled subscription). A parked delivery stays held too: it
    is in the supervisor queue, where it is retried.
    """
    o, r = table(OutboxEvent), table(CancellationRequest)
    query = (
        select(r.c.subscription_id)
        .join(o, o.c.request_id == r.c.id)
        .where(o.c.channel == OutboxChannel.WEBHOOK, o.c.state != OutboxState.DELIVERED)
    )
    return set(session.scalars(query))


def _shown(name: str, value: object) -> str:
    """A field's value as the sync's listing shows it: phones masked, text quoted."""
    if name == "phone" and isinstance(value, str):
        return mask_phone(value)
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return repr(value)


def _pin(value: str | None) -> str:
    return "(set)" if value else "(none)"
