"""The on-file value of an identity item, rendered as the supervisor sees it.

The one home of that rendering: the desk stores it with each check (the
value the check was judged against), so the supervisor's call detail shows
what was on file that day, whatever a later sync changed. Migration 0006
renders existing checks the same way in SQL.
"""

from __future__ import annotations

from typing import assert_never

from db.models import AccountUser, Tenant
from verification.kinds import Item


def on_file_text(item: Item, tenant: Tenant | None, caller: AccountUser | None) -> str | None:
    """What ``item`` is on file for the caller's tenant; None when nothing is."""
    if tenant is None:
        return None
    match item:
        case Item.USER_ID:
            return caller.user_id if caller is not None else None
        case Item.PHONE:
            return tenant.phone_e164
        case Item.CONTACT_NAME:
            return f"{tenant.contact_first_name} {tenant.contact_last_name}"
        case Item.ORGANIZATION:
            return tenant.organization
        case Item.ADDRESS:
            parts = (
                tenant.address_line1,
                tenant.address_line2,
                tenant.city,
                tenant.region,
                tenant.postal_code,
                tenant.country,
            )
            return ", ".join(part for part in parts if part)
        case Item.PIN:
            # A PIN is stored only as a slow hash: there is nothing to show.
            return "(set)" if tenant.support_pin_hash else "(none)"
        case _:
            assert_never(item)
