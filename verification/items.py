"""The identity items of PRODUCT.md section 4: what the agent asks, in order."""

from __future__ import annotations

from dataclasses import dataclass

from verification.kinds import Item


@dataclass(frozen=True)
class ItemSpec:
    """One item: its label, the question read out, and its input fields.

    ``fields`` are the keys of the ``stated`` mapping given to
    ``checks.check_item``; ``field_labels`` label them on screen, in the same
    order. ``secret`` items (the PIN) are typed without echo and never shown.
    """

    item: Item
    label: str
    question: str
    fields: tuple[str, ...]
    field_labels: tuple[str, ...]
    secret: bool = False


ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")
NAME_FIELDS = ("first", "last")
VALUE_FIELDS = ("value",)

ITEM_SPECS: dict[Item, ItemSpec] = {
    Item.USER_ID: ItemSpec(
        Item.USER_ID,
        "User ID",
        "What is the user ID you use to sign in?",
        VALUE_FIELDS,
        ("User ID",),
    ),
    Item.PHONE: ItemSpec(
        Item.PHONE,
        "Phone number",
        "What is the phone number associated with your account?",
        VALUE_FIELDS,
        ("Phone",),
    ),
    Item.CONTACT_NAME: ItemSpec(
        Item.CONTACT_NAME,
        "Primary contact",
        "What are the first and last name of your organization's primary contact?",
        NAME_FIELDS,
        ("First name", "Last name"),
    ),
    Item.ORGANIZATION: ItemSpec(
        Item.ORGANIZATION,
        "Organization",
        "What is the name of your organization as it shows on your subscription?",
        VALUE_FIELDS,
        ("Organization",),
    ),
    Item.ADDRESS: ItemSpec(
        Item.ADDRESS,
        "Street address",
        "What is the complete street address of your organization?",
        ADDRESS_FIELDS,
        ("Line 1", "Line 2", "City", "State or region", "Postal code", "Country"),
    ),
    Item.PIN: ItemSpec(
        Item.PIN,
        "Support PIN",
        "What is your support PIN?",
        VALUE_FIELDS,
        ("PIN",),
        secret=True,
    ),
}

# The order the agent asks in: the seed's order, then the PIN where there is one.
ITEM_ORDER: tuple[Item, ...] = (
    Item.USER_ID,
    Item.PHONE,
    Item.CONTACT_NAME,
    Item.ORGANIZATION,
    Item.ADDRESS,
    Item.PIN,
)


def required_items(has_pin: bool) -> tuple[Item, ...]:
    """The items a caller must match: all of them, the PIN only if the tenant has one."""
    return tuple(item for item in ITEM_ORDER if has_pin or item is not Item.PIN)
