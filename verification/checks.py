"""The one entry point the desk uses to check a stated item against the file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import assert_never

from verification.address import Address, check_address
from verification.kinds import CheckResult, Item
from verification.limits import screen_stated
from verification.names import fold_name, match_name
from verification.organization import match_organization, normalize_organization
from verification.phone import check_phone
from verification.pin import match_pin
from verification.userid import match_user_id, normalize_user_id

# The version of the matching rules; recorded with every check so that a
# result can be explained later even after the rules change. Bump it whenever
# a normalizer changes what it accepts or matches.
RULES_VERSION = "2026.12-2"


@dataclass(frozen=True)
class OnFile:
    """A tenant's on-file values, as plain strings (the PIN only as its hash).

    ``user_id`` is the normalized user ID of the account the caller named,
    or blank when it named none.
    """

    user_id: str
    phone_e164: str
    contact_first: str
    contact_last: str
    organization: str
    address: Address
    pin_hash: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The result of one check and the normalized statement it judged.

    ``normalized`` is blank for the PIN: a secret is never stored.
    """

    item: Item
    result: CheckResult
    normalized: str
    rules_version: str = RULES_VERSION


def check_item(
    item: Item, stated: Mapping[str, str], on_file: OnFile, default_region: str
) -> Verdict:
    """Check what the caller stated for ``item`` against the file.

    ``stated`` holds the item's fields (``items.ITEM_SPECS[item].fields``);
    missing fields are blank. Raises InputError for input that cannot be a
    value of the item (never a miss), judged without looking at ``on_file``
    (PRODUCT.md section 4); its message never shows on-file values.
    """
    screen_stated(item, stated)
    value = stated.get("value", "")
    match item:
        case Item.USER_ID:
            normalized = normalize_user_id(value)
            matched = match_user_id(value, on_file.user_id)
        case Item.PHONE:
            normalized, matched = check_phone(value, on_file.phone_e164, default_region)
        case Item.CONTACT_NAME:
            first, last = stated.get("first", ""), stated.get("last", "")
            normalized = f"{fold_name(first)} {fold_name(last)}"
            # Each field on its own: a word moved from one to the other is a miss.
            matched = match_name(first, on_file.contact_first) and match_name(
                last, on_file.contact_last
            )
        case Item.ORGANIZATION:
            normalized = normalize_organization(value)
            matched = match_organization(value, on_file.organization)
        case Item.ADDRESS:
            normalized, matched = check_address(
                Address.from_fields(stated), on_file.address, default_region
            )
        case Item.PIN:
            # A tenant without a PIN never asks for one (required_items); were
            # one stated anyway, it is a miss like any value matching nothing.
            normalized = ""
            matched = match_pin(value, on_file.pin_hash)
        case _:
            assert_never(item)
    result = CheckResult.MATCH if matched else CheckResult.MISMATCH
    return Verdict(item, result, normalized)
