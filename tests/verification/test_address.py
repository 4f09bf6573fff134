"""Addresses: every component on file stated; US per Pub 28; countries by ISO code."""

from __future__ import annotations

from dataclasses import replace

import pytest

from verification.address import (
    Address,
    canonical_address,
    check_address,
    country_code,
    match_address,
    normalize_address,
)
from verification.errors import InputError

SPRINGFIELD = Address("123 N Main St", "Ste 400", "Springfield", "IL", "62704", "US")
LONDON = Address("10 Downing Street", "", "London", "", "SW1A 2AA", "GB")
TORONTO = Address("1 Main St", "", "Toronto", "ON", "M5V 2T6", "CA")


def test_product_example_matches() -> None:
    on_file = Address("123 North Main Street Suite 400", "", "Springfield", "Illinois", "62704")
    stated = Address("123 N Main St Ste 400", "", "Springfield", "IL", "62704-1234")
    assert match_address(stated, on_file, "US")


@pytest.mark.parametrize(
    "stated",
    [
        Address("123 North Main Street", "Suite 400", "Springfield", "Illinois", "62704", "USA"),
        Address("123 N. Main St., Suite 400", "", "SPRINGFIELD", "il", "62704-1234", ""),
        Address("Suite 400", "123 N Main St", "Springfield", "IL", "62704", "US"),
        Address("123 n main st ste 400", "", "springfield", "IL", "62704", "United States"),
    ],
)
def test_us_variants_match(stated: Address) -> None:
    assert match_address(stated, SPRINGFIELD, "US")


@pytest.mark.parametrize(
    "stated",
    [
        Address("124 N Main St", "Ste 400", "Springfield", "IL", "62704", "US"),
        Address("123 N Main St", "Ste 401", "Springfield", "IL", "62704", "US"),
        Address("123 S Main St", "Ste 400", "Springfield", "IL", "62704", "US"),
        Address("123 N Main Ave", "Ste 400", "Springfield", "IL", "62704", "US"),
        Address("123 N Main St", "Ste 400", "Springfield", "MO", "62704", "US"),
        Address("123 N Main St", "Ste 400", "Springfield", "IL", "62705", "US"),
        Address("123 N Main St", "Ste 400", "Springfield", "IL", "62704", "CA"),
        Address("400 N Main St", "Ste 123", "Springfield", "IL", "62704", "US"),
    ],
)
def test_us_differences_do_not_match(stated: Address) -> None:
    assert not match_address(stated, SPRINGFIELD, "US")


@pytest.mark.parametrize(
    "stated",
    [
        Address("123 N Main St", "", "Springfield", "IL", "62704", "US"),  # no suite
        Address("123 N Main St", "Ste 400", "", "IL", "62704", "US"),  # no city
        Address("123 N Main St", "Ste 400", "Springfield", "", "62704", "US"),  # no state
        Address("123 N Main St", "Ste 400", "Springfield", "IL", "", "US"),  # no ZIP
    ],
)
def test_every_component_on_file_must_be_stated(stated: Address) -> None:
    assert not match_address(stated, SPRINGFIELD, "US")


def test_numbered_street_is_reconciled_by_the_parser() -> None:
    on_file = Address("1 12th Ave", "", "New York", "NY", "10001", "US")
    assert match_address(Address("1 12 Avenue", "", "New York", "New York", "10001"), on_file, "US")


def test_unparseable_us_address_falls_back_to_folding() -> None:
    on_file = Address("PO Box 12", "", "Springfield", "IL", "62704", "US")
    assert match_address(
        Address("P.O. Box 12", "", "springfield", "Illinois", "62704"), on_file, "US"
    )
    assert not match_address(Address("PO Box 13", "", "Springfield", "IL", "62704"), on_file, "US")


@pytest.mark.parametrize("country", ["United Kingdom", "UK", "GB", "gb", "GBR", "Great Britain"])
def test_uk_names_are_one_country(country: str) -> None:
    stated = Address("10 downing street", "", "LONDON", "", "sw1a2aa", country)
    assert match_address(stated, LONDON, "US")


def test_other_countries_fold_postal_codes_and_regions() -> None:
    stated = Address("1 Main St.", "", "toronto", "Ontario", "m5v-2t6", "Canada")
    assert match_address(stated, TORONTO, "US")
    assert not match_address(
        Address("1 Main St", "", "Toronto", "QC", "M5V 2T6", "CA"), TORONTO, "US"
    )


def test_blank_country_means_the_default() -> None:
    stated = Address("10 Downing Street", "", "London", "", "SW1A 2AA", "")
    assert match_address(stated, LONDON, "GB")
    assert not match_address(stated, LONDON, "US")


def test_unit_on_either_line_matches_outside_the_us() -> None:
    on_file = Address("Hauptstraße 5", "3. OG", "Berlin", "", "10115", "DE")
    assert match_address(
        Address("Hauptstrasse 5 3. OG", "", "Berlin", "", "10115", "DE"), on_file, "US"
    )


def test_unknown_country_is_an_input_error_quoting_the_input() -> None:
    with pytest.raises(InputError, match="not a country: Narnia"):
        match_address(Address("1 Main St", "", "Toronto", "", "", "Narnia"), TORONTO, "US")


def test_blank_address_is_an_input_error() -> None:
    with pytest.raises(InputError, match="enter the caller's address"):
        check_address(Address(" ", "", "", "", "", ""), SPRINGFIELD, "US")


def test_bad_country_on_file_matches_nothing_and_raises_nothing() -> None:
    on_file = Address("1 Main St", "", "Toronto", "", "", "ZZ")
    assert not match_address(Address("1 Main St", "", "Toronto", "", "", "CA"), on_file, "US")


def test_normalized_form_is_usps_style() -> None:
    stated = Address("123 North Main Street", "Suite 400", "Springfield", "Illinois", "62704-1234")
    assert normalize_address(stated, "US") == "123 N MAIN ST STE 400, SPRINGFIELD, IL, 62704, US"


def test_canonical_form_is_idempotent_on_an_example() -> None:
    once = canonical_address(SPRINGFIELD, "US")
    assert canonical_address(once, "US") == once


def test_country_codes() -> None:
    assert country_code("United States of America", "GB") == "US"
    assert country_code("", "gb") == "GB"
    assert country_code("the Netherlands", "US") == "NL"


def test_a_region_the_record_lacks_is_ignored_but_one_on_file_is_required() -> None:
    assert match_address(
        Address("10 Downing Street", "", "London", "England", "SW1A 2AA", "GB"), LONDON, "US"
    )
    with_region = Address("1 Main St", "", "Toronto", "ON", "M5V 2T6", "CA")
    assert not match_address(
        Address("1 Main St", "", "Toronto", "", "M5V 2T6", "CA"), with_region, "US"
    )


# --- folds that spared legitimate callers a miss (issue 14) ---------------------------


MANCHESTER = Address("45 King Street", "", "Manchester", "", "M2 4LQ", "GB")
MUNICH = Address("Leopoldstraße 20", "", "München", "", "80802", "DE")
PARIS = Address("12 avenue de la Paix", "", "Paris", "", "75002", "FR")
MADRID = Address("Calle de Alcalá 42", "", "Madrid", "", "28014", "ES")
SYDNEY = Address("1 Harbour Street", "Level 12", "Sydney", "NSW", "2000", "AU")
AUSTIN = Address("9 West Elm Avenue", "Unit 12", "Austin", "TX", "78701", "US")


@pytest.mark.parametrize(
    ("stated", "on_file"),
    [
        (Address("45 King St", "", "Manchester", "", "M2 4LQ", "GB"), MANCHESTER),
        (Address("45 King St.", "", "manchester", "", "m24lq", "UK"), MANCHESTER),
        (
            Address("8 Vineyard Rd", "", "Melbourne", "VIC", "3000", "AU"),
            Address("8 Vineyard Road", "", "Melbourne", "VIC", "3000", "AU"),
        ),
        (Address("1 Harbour St", "Lvl 12", "Sydney", "NSW", "2000", "AU"), SYDNEY),
        (Address("Leopoldstr. 20", "", "Muenchen", "", "80802", "DE"), MUNICH),
        (Address("Leopoldstrasse 20", "", "Munchen", "", "80802", "DE"), MUNICH),
        (Address("Leopold-Straße 20", "", "München", "", "80802", "DE"), MUNICH),
        (Address("Leopold Str 20", "", "München", "", "80802", "Germany"), MUNICH),
        (Address("12 av. de la Paix", "", "Paris", "", "75002", "FR"), PARIS),
        (Address("12 ave de la paix", "", "PARIS", "", "75 002", "France"), PARIS),
        (Address("C/ de Alcalá 42", "", "Madrid", "", "28014", "ES"), MADRID),
        (Address("Calle de Alcala 42", "", "Madrid", "", "28014", "ES"), MADRID),
    ],
)
def test_street_types_fold_outside_the_us(stated: Address, on_file: Address) -> None:
    assert match_address(stated, on_file, "US")


@pytest.mark.parametrize(
    ("stated", "on_file"),
    [
        (Address("45 King Road", "", "Manchester", "", "M2 4LQ", "GB"), MANCHESTER),
        (Address("46 King St", "", "Manchester", "", "M2 4LQ", "GB"), MANCHESTER),
        (Address("Leopoldplatz 20", "", "München", "", "80802", "DE"), MUNICH),
        (Address("12 rue de la Paix", "", "Paris", "", "75002", "FR"), PARIS),
    ],
)
def test_street_type_folding_keeps_different_streets_apart(
    stated: Address, on_file: Address
) -> None:
    assert not match_address(stated, on_file, "US")


@pytest.mark.parametrize("unit", ["#12", "# 12", "Unit 12", "Apt 12", "Apartment 12", "Suite 12"])
def test_a_us_unit_number_identifies_the_unit_whatever_its_designator(unit: str) -> None:
    stated = Address("9 W Elm Ave", unit, "Austin", "TX", "78701", "US")
    assert match_address(stated, AUSTIN, "US")
    assert match_address(
        AUSTIN, Address("9 West Elm Avenue", unit, "Austin", "TX", "78701", "US"), "US"
    )


@pytest.mark.parametrize("unit", ["#13", "Unit 13", "Fl 12", "Bldg 12", "12"])
def test_a_different_unit_or_a_floor_is_not_that_unit(unit: str) -> None:
    stated = Address("9 W Elm Ave", unit, "Austin", "TX", "78701", "US")
    assert not match_address(stated, AUSTIN, "US")


def test_a_unit_read_number_first_matches() -> None:
    stated = Address("123 North Main Street", "400 Suite", "Springfield", "IL", "62704", "US")
    on_file = Address("123 North Main Street", "Suite 400", "Springfield", "Illinois", "62704")
    assert match_address(stated, on_file, "US")
    assert not match_address(
        Address("400 North Main Street", "123 Suite", "Springfield", "IL", "62704", "US"),
        on_file,
        "US",
    )


@pytest.mark.parametrize(
    ("line1", "line2"),
    [
        ("123 North Main Street", "Ste. #400"),  # "#" after a designator repeats it
        ("Suite 400 123 North Main Street", ""),  # the unit said first, one line
        ("#400 123 N Main St", ""),
        ("123 N Main St 400 Suite", ""),
    ],
)
def test_unit_spellings_against_a_one_line_record(line1: str, line2: str) -> None:
    on_file = Address("123 North Main Street Suite 400", "", "Springfield", "Illinois", "62704")
    assert match_address(Address(line1, line2, "Springfield", "IL", "62704"), on_file, "US")


def test_a_lettered_unit_read_backwards_is_that_unit() -> None:
    on_file = Address("2 Lake Shore Drive", "Apt B", "Chicago", "IL", "60601", "US")
    stated = Address("2 Lake Shore Dr", "B Apt", "Chicago", "Illinois", "60601")
    assert match_address(stated, on_file, "US")
    assert not match_address(replace(stated, line2="C Apt"), on_file, "US")
