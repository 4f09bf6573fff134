"""The items: order, fields and questions."""

from __future__ import annotations

from verification.items import ITEM_ORDER, ITEM_SPECS, required_items
from verification.kinds import Item


def test_every_item_has_a_spec_with_a_question_and_labelled_fields() -> None:
    assert set(ITEM_SPECS) == set(Item)
    for item, spec in ITEM_SPECS.items():
        assert spec.item is item
        assert spec.question.endswith("?")
        assert len(spec.fields) == len(spec.field_labels) > 0


def test_order_follows_the_seed_then_the_pin() -> None:
    assert ITEM_ORDER == (
        Item.USER_ID,
        Item.PHONE,
        Item.CONTACT_NAME,
        Item.ORGANIZATION,
        Item.ADDRESS,
        Item.PIN,
    )


def test_pin_is_required_only_when_the_tenant_has_one() -> None:
    assert Item.PIN not in required_items(has_pin=False)
    assert required_items(has_pin=True) == ITEM_ORDER
    assert ITEM_SPECS[Item.PIN].secret
