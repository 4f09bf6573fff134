"""check_item: the desk's one entry point, per item kind."""

from __future__ import annotations

import pytest

from verification.address import Address
from verification.checks import RULES_VERSION, OnFile, Verdict, check_item
from verification.errors import InputError
from verification.items import ITEM_ORDER, ITEM_SPECS
from verification.kinds import CheckResult, Item
from verification.pin import hash_pin

ON_FILE = OnFile(
    user_id="ana.perez@contoso.com",
    phone_e164="+14255550100",
    contact_first="José",
    contact_last="Pérez",
    organization="Contoso, Ltd.",
    address=Address("123 N Main St", "Ste 400", "Springfield", "IL", "62704", "US"),
    pin_hash=hash_pin("2468"),
)

MATCHING: dict[Item, dict[str, str]] = {
    Item.USER_ID: {"value": "Ana.Perez@Contoso.COM "},
    Item.PHONE: {"value": "(425) 555-0100"},
    Item.CONTACT_NAME: {"first": "jose", "last": "PEREZ"},
    Item.ORGANIZATION: {"value": "CONTOSO LIMITED"},
    Item.ADDRESS: {
        "line1": "123 North Main Street Suite 400",
        "city": "Springfield",
        "region": "Illinois",
        "postal_code": "62704-1234",
    },
    Item.PIN: {"value": "24 68"},
}

WRONG: dict[Item, dict[str, str]] = {
    Item.USER_ID: {"value": "ana.perez@fabrikam.com"},
    Item.PHONE: {"value": "(425) 555-0199"},
    Item.CONTACT_NAME: {"first": "Jose", "last": "Pereira"},
    Item.ORGANIZATION: {"value": "Contoso Pharma"},
    Item.ADDRESS: {
        "line1": "123 N Main St",
        "city": "Springfield",
        "region": "IL",
        "postal_code": "62704",
    },
    Item.PIN: {"value": "2469"},
}


@pytest.mark.parametrize("item", ITEM_ORDER)
def test_matching_statement(item: Item) -> None:
    verdict = check_item(item, MATCHING[item], ON_FILE, "US")
    assert verdict.result is CheckResult.MATCH
    assert verdict.item is item
    assert verdict.rules_version == RULES_VERSION


@pytest.mark.parametrize("item", ITEM_ORDER)
def test_wrong_statement(item: Item) -> None:
    assert check_item(item, WRONG[item], ON_FILE, "US").result is CheckResult.MISMATCH


@pytest.mark.parametrize("item", ITEM_ORDER)
def test_blank_statement_is_an_input_error(item: Item) -> None:
    blank = dict.fromkeys(ITEM_SPECS[item].fields, "  ")
    with pytest.raises(InputError):
        check_item(item, blank, ON_FILE, "US")


def test_normalized_forms_are_recorded() -> None:
    assert check_item(Item.PHONE, MATCHING[Item.PHONE], ON_FILE, "US").normalized == "+14255550100"
    assert check_item(Item.CONTACT_NAME, MATCHING[Item.CONTACT_NAME], ON_FILE, "US") == Verdict(
        Item.CONTACT_NAME, CheckResult.MATCH, "jose perez"
    )


def test_pin_is_never_recorded() -> None:
    assert check_item(Item.PIN, MATCHING[Item.PIN], ON_FILE, "US").normalized == ""


def test_pin_without_a_pin_on_file_is_a_mismatch() -> None:
    # An input error here would tell the caller whether the tenant has a PIN.
    no_pin = OnFile(**{**ON_FILE.__dict__, "pin_hash": None})
    assert check_item(Item.PIN, {"value": "2468"}, no_pin, "US").result is CheckResult.MISMATCH


def test_user_id_that_names_no_account_is_a_mismatch() -> None:
    nobody = OnFile(**{**ON_FILE.__dict__, "user_id": ""})
    verdict = check_item(Item.USER_ID, {"value": "ghost@contoso.com"}, nobody, "US")
    assert verdict == Verdict(Item.USER_ID, CheckResult.MISMATCH, "ghost@contoso.com")


def test_contact_name_needs_both_fields() -> None:
    with pytest.raises(InputError):
        check_item(Item.CONTACT_NAME, {"first": "José", "last": ""}, ON_FILE, "US")


def test_input_errors_never_show_on_file_values() -> None:
    with pytest.raises(InputError) as info:
        check_item(Item.PHONE, {"value": "12"}, ON_FILE, "US")
    assert "0100" not in str(info.value)


def test_phone_national_format_uses_region_on_file_not_the_desk_default() -> None:
    uk = OnFile(**{**ON_FILE.__dict__, "phone_e164": "+442079460000"})
    verdict = check_item(Item.PHONE, {"value": "020 7946 0000"}, uk, "US")
    assert verdict.result is CheckResult.MATCH
