"""Phone: parsed in the region of the number on file, compared in E.164."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat

from verification import phone
from verification.errors import InputError
from verification.phone import (
    check_phone,
    last_four,
    mask_phone,
    match_phone,
    normalize_phone,
    region_of,
)

REGIONS = ["US", "GB", "DE", "FR", "IN", "JP", "BR", "AU"]


def test_product_examples() -> None:
    assert match_phone("(425) 555-0100", "+14255550100")
    assert match_phone("020 7946 0000", "+442079460000")


def test_national_format_is_read_in_the_region_on_file() -> None:
    # Read as a US number the UK national format is no number, but it is one
    # in the UK: a miss, never an input error that would tell the country.
    assert not match_phone("020 7946 0000", "+14255550100")
    assert not match_phone("020 7946 0001", "+442079460000")


@pytest.mark.parametrize("text", ["12", "0000", "hello", "+999 12345"])
def test_a_valid_number_of_no_region_is_an_input_error(text: str) -> None:
    for on_file in ("+14255550100", "+49305550103", "+80012345678"):
        with pytest.raises(InputError, match="not a phone number"):
            match_phone(text, on_file)


def test_a_number_of_another_region_is_recorded_as_its_digits() -> None:
    assert check_phone("020 7946 0000", "+14255550100", None) == ("02079460000", False)
    assert check_phone("(425) 555-0100", "+14255550100", None) == ("+14255550100", True)


def test_extension_is_ignored() -> None:
    assert match_phone("+1 425-555-0100 ext. 23", "+14255550100")


def test_other_number_does_not_match() -> None:
    assert not match_phone("(425) 555-0101", "+14255550100")


@pytest.mark.parametrize("region", REGIONS)
def test_example_number_matches_in_national_and_international_format(region: str) -> None:
    number = phonenumbers.example_number(region)
    assert number is not None
    on_file = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    assert match_phone(national, on_file)
    assert match_phone(international, on_file)
    assert match_phone(on_file, on_file)


@pytest.mark.parametrize("text", ["12", "hello", "+", "1-2"])
def test_not_a_phone_number_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError) as info:
        normalize_phone(text, "US")
    assert str(info.value) == f"not a phone number: {text}"


def test_input_error_does_not_reveal_the_number_on_file() -> None:
    with pytest.raises(InputError) as info:
        match_phone("12", "+14255550100")
    assert "0100" not in str(info.value)


def test_default_region_serves_a_number_on_file_without_region() -> None:
    # +800 numbers are non-geographic: national formats fall back to the default.
    assert region_of("+80012345678") is None
    assert match_phone("+800 1234 5678", "+80012345678", default_region="US")


def test_last_four() -> None:
    assert last_four("+14255550100") == "0100"


def test_masked_phone_shows_only_the_last_four_digits() -> None:
    assert mask_phone("+14255550123") == "•••0123"
    assert mask_phone("") == ""


_NANP_TEXT = st.builds(
    lambda area, exchange, line, style, sep: (
        f"({area}) {exchange}{sep}{line}"
        if style == "paren"
        else f"{area}{sep}{exchange}{sep}{line}"
    ),
    st.from_regex(r"[2-9][0-9]{2}", fullmatch=True),
    st.from_regex(r"[0-9]{3}", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.booleans(),
    st.sampled_from(["", " ", "-", "."]),
)


@given(
    text=st.one_of(_NANP_TEXT, st.from_regex(r"[0-9() .+-]{7,16}", fullmatch=True)),
    region=st.sampled_from(["US", "CA"]),
)
def test_plain_north_american_shape_reads_as_the_parser_reads_it(text: str, region: str) -> None:
    """The fast path for plain US/Canadian numbers gives the parser's answer, or defers to it."""
    expected = phone._e164(text.strip(), region) if text.strip() else None
    try:
        got: str | None = normalize_phone(text, region)
    except InputError:
        got = None
    assert got == expected
