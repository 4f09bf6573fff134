"""Input errors are judged without the record (PRODUCT.md section 4, issue 11 item 2).

Whether a statement is an input error (never a miss) must not depend on what
is on file: otherwise the desk's answer tells a caller the country on file, or
whether the tenant has a PIN, for free. Control characters and lone
surrogates are input errors too, before anything downstream trips on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import phonenumbers
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat

from verification.address import Address
from verification.checks import OnFile, check_item
from verification.errors import InputError
from verification.items import ITEM_SPECS
from verification.kinds import CheckResult, Item
from verification.limits import MAX_FIELD_LENGTHS, MIN_PIN_LENGTH
from verification.pin import hash_pin

US = OnFile(
    user_id="ana.perez@contoso.com",
    phone_e164="+14255550100",
    contact_first="José",
    contact_last="Pérez",
    organization="Contoso, Ltd.",
    address=Address("123 N Main St", "Ste 400", "Springfield", "IL", "62704", "US"),
    pin_hash=hash_pin("2468"),
)
RECORDS = (
    US,
    replace(US, pin_hash=None),
    replace(
        US,
        phone_e164="+442079460000",
        address=Address("45 King Street", "", "Manchester", "", "M2 4LQ", "GB"),
        pin_hash=hash_pin("987654"),
    ),
    replace(
        US,
        phone_e164="+49305550103",
        contact_first="Jürgen",
        contact_last="Müller",
        organization="Müller & Söhne GmbH",
        address=Address("Unter den Linden 5", "", "Berlin", "", "10117", "DE"),
        pin_hash=None,
    ),
    replace(US, phone_e164="+81355550106", address=Address("1-2-3 Marunouchi", country="JP")),
    replace(US, phone_e164="+80012345678", user_id=""),
    OnFile("", "", "", "", "", Address(), None),
)
ITEMS = list(Item)
SAMPLE_REGIONS = ["US", "GB", "DE", "FR", "JP", "AU", "IN", "BR", "CH", "IE"]


def _number_formats() -> list[str]:
    found = []
    for region in SAMPLE_REGIONS:
        number = phonenumbers.example_number(region)
        assert number is not None
        for fmt in (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL):
            found.append(phonenumbers.format_number(number, fmt))
    return found


NUMBERS = st.sampled_from(_number_formats())
PINS = st.text(alphabet="0123456789 -", max_size=8)
TEXT = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from([*"ab 1-", "\x00", "\ud800", "\x1b", "ü"]), max_size=12),
    st.integers(90, 400).map(lambda n: "x" * n),
    NUMBERS,
    PINS,
)
STATED = st.sampled_from(ITEMS).flatmap(
    lambda item: st.tuples(
        st.just(item),
        st.fixed_dictionaries({name: TEXT for name in ITEM_SPECS[item].fields}),
    )
)


def judged(item: Item, stated: Mapping[str, str], on_file: OnFile) -> str:
    """'input error' or the check's result."""
    try:
        return check_item(item, stated, on_file, "US").result.value
    except InputError:
        return "input error"


def input_error_or_not(item: Item, stated: Mapping[str, str]) -> set[bool]:
    """Over the records the statement does not match: a match reveals only
    what the caller stated."""
    answers = {judged(item, stated, record) for record in RECORDS} - {"match"}
    return {answer == "input error" for answer in answers}


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(STATED)
@example((Item.PHONE, {"value": "020 7946 0000"}))
@example((Item.PIN, {"value": "12"}))
@example((Item.PIN, {"value": "2468"}))
@example((Item.CONTACT_NAME, {"first": "x" * 5000, "last": "Pérez"}))
@example((Item.ORGANIZATION, {"value": "C" * 5000}))
def test_input_error_or_not_is_the_same_whatever_the_record(
    case: tuple[Item, dict[str, str]],
) -> None:
    item, stated = case
    assert len(input_error_or_not(item, stated)) <= 1


def test_a_uk_national_number_is_a_miss_against_a_us_account() -> None:
    assert judged(Item.PHONE, {"value": "020 7946 0000"}, US) == "mismatch"


def test_a_number_of_no_region_is_still_an_input_error() -> None:
    for record in RECORDS:
        assert judged(Item.PHONE, {"value": "12"}, record) == "input error"


@pytest.mark.parametrize("pin", ["1", "12", "1 2 3", "1-2-3"])
def test_a_pin_shorter_than_any_stored_pin_is_an_input_error(pin: str) -> None:
    assert len(pin.replace(" ", "").replace("-", "")) < MIN_PIN_LENGTH
    with pytest.raises(InputError, match=f"at least {MIN_PIN_LENGTH}"):
        check_item(Item.PIN, {"value": pin}, US, "US")


def test_a_pin_against_a_tenant_without_one_is_a_miss_not_a_tell() -> None:
    assert judged(Item.PIN, {"value": "2468"}, replace(US, pin_hash=None)) == "mismatch"


@pytest.mark.parametrize(
    ("item", "field"),
    [(item, field) for item, fields in MAX_FIELD_LENGTHS.items() for field in fields],
)
def test_a_value_longer_than_any_stored_one_is_an_input_error(item: Item, field: str) -> None:
    limit = MAX_FIELD_LENGTHS[item][field]
    stated = {name: "a" for name in ITEM_SPECS[item].fields} | {field: "7" * (limit + 1)}
    with pytest.raises(InputError, match="longer than"):
        check_item(item, stated, US, "US")


@pytest.mark.parametrize("bad", ["\x00", "\ud800", "\udfff", "\x1b[2J", "\x7f", "\x85"])
@pytest.mark.parametrize(
    ("item", "field"), [(item, field) for item in ITEMS for field in ITEM_SPECS[item].fields]
)
def test_control_characters_and_lone_surrogates_are_clean_input_errors(
    item: Item, field: str, bad: str
) -> None:
    stated = {name: "a" for name in ITEM_SPECS[item].fields} | {field: f"Ana{bad}Perez"}
    with pytest.raises(InputError) as info:
        check_item(item, stated, US, "US")
    # The message reaches a terminal and the database: it must encode.
    str(info.value).encode("utf-8")


def test_the_limits_are_the_stored_column_sizes() -> None:
    # Until db.models takes its sizes from verification.limits, hold them equal.
    from db.models import AccountUser, Tenant

    columns = {
        (Item.USER_ID, "value"): AccountUser.__table__.c.user_id,
        (Item.CONTACT_NAME, "first"): Tenant.__table__.c.contact_first_name,
        (Item.CONTACT_NAME, "last"): Tenant.__table__.c.contact_last_name,
        (Item.ORGANIZATION, "value"): Tenant.__table__.c.organization,
        (Item.ADDRESS, "line1"): Tenant.__table__.c.address_line1,
        (Item.ADDRESS, "line2"): Tenant.__table__.c.address_line2,
        (Item.ADDRESS, "city"): Tenant.__table__.c.city,
        (Item.ADDRESS, "region"): Tenant.__table__.c.region,
        (Item.ADDRESS, "postal_code"): Tenant.__table__.c.postal_code,
    }
    for (item, field), column in columns.items():
        assert MAX_FIELD_LENGTHS[item][field] == column.type.length, (item, field)


def test_tabs_and_newlines_are_white_space_not_errors() -> None:
    verdict = check_item(Item.CONTACT_NAME, {"first": "José\t", "last": "\nPérez\r\n"}, US, "US")
    assert verdict.result is CheckResult.MATCH
