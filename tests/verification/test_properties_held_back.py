"""Hypothesis properties of the folds of the held-back cases: the kept slash,
ordinal words, Pub 28 routes and boxes, the non-US street line (units,
Canada Post's unit-civic and French types, German house numbers), ICAO 9303
letters and legal forms.

On any text nothing but InputError escapes and canonical forms are fixed
points; and what "never a stranger" forbids never happens on generated
cases: a slash or a hyphen between two numbers never reads as the joined
digits, another unit never matches, two legal forms never match.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verification.address import Address, canonical_address, match_address
from verification.errors import InputError
from verification.intl_street import street_line
from verification.legal_forms import _FORMS
from verification.names import match_name
from verification.organization import match_organization, normalize_organization
from verification.street_words import box_words, fold_line, ordinal_words

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The words the new folds act on, mixed so that they meet each other.
TOKENS = st.sampled_from(
    [
        *"#/-.,a5",
        "unit",
        "Flat",
        "apt",
        "Ste",
        "St",
        "Saint",
        "rue",
        "boul.",
        "Ouest",
        "O",
        "nord",
        "est",
        "3/12",
        "12-345",
        "2/1",
        "12",
        "345",
        "Hauptstr.",
        "Straße",
        "OG",
        "3.",
        "Fifth",
        "twenty",
        "first",
        "PO",
        "P",
        "O",
        "Box",
        "Rural",
        "Route",
        "R",
        "Smith",
        "Søren",
        "Ærø",
    ]
)
LINES = st.one_of(st.text(max_size=30), st.lists(TOKENS, max_size=8).map(" ".join))
COUNTRIES = st.sampled_from(["US", "GB", "AU", "NZ", "CA", "DE", "CH", "FR", "DK"])


@SETTINGS
@given(LINES, st.booleans())
def test_fold_line_is_total_and_idempotent(text: str, expand: bool) -> None:
    once = fold_line(text, expand_umlauts=expand)
    assert fold_line(once, expand_umlauts=expand) == once


@SETTINGS
@given(LINES)
def test_ordinal_and_box_words_are_idempotent(text: str) -> None:
    words = fold_line(text).split()
    once = box_words(ordinal_words(words))
    assert box_words(ordinal_words(once)) == once


@SETTINGS
@given(COUNTRIES, LINES, LINES, st.booleans())
def test_the_street_line_is_a_fixed_point(country: str, a: str, b: str, expand: bool) -> None:
    once = street_line(country, a, b, expand_umlauts=expand)
    assert street_line(country, once, "", expand_umlauts=expand) == once


@SETTINGS
@given(COUNTRIES, LINES, LINES)
def test_an_address_is_total_idempotent_and_matches_itself(country: str, a: str, b: str) -> None:
    addr = Address(a, b, "Town", "", "1000", country)
    try:
        once = canonical_address(addr, "US")
    except InputError:
        return
    assert canonical_address(once, "US") == once
    assert match_address(addr, addr, "US")


NUMBERS = st.integers(1, 999).map(str)


@SETTINGS
@given(st.sampled_from(["AU", "NZ", "GB", "US", "CA"]), NUMBERS, NUMBERS)
def test_a_slash_between_numbers_is_never_the_joined_digits(
    country: str, unit: str, number: str
) -> None:
    slashed = Address(f"{unit}/{number} Smith St", "", "Town", "", "1000", country)
    joined = Address(f"{unit}{number} Smith St", "", "Town", "", "1000", country)
    assert not match_address(slashed, joined, "US")
    assert not match_address(joined, slashed, "US")


@SETTINGS
@given(NUMBERS, NUMBERS, NUMBERS)
def test_a_unit_civic_number_is_its_unit_and_never_another(
    unit: str, civic: str, other: str
) -> None:
    on_file = Address(f"{unit}-{civic} Main St", "", "Toronto", "ON", "M5V 2T6", "CA")

    def stated(line1: str, line2: str = "") -> Address:
        return Address(line1, line2, "Toronto", "ON", "M5V 2T6", "CA")

    assert match_address(stated(f"{civic} Main St", f"Unit {unit}"), on_file, "US")
    assert match_address(stated(f"Unit {unit}, {civic} Main Street"), on_file, "US")
    assert not match_address(stated(f"{unit}{civic} Main St"), on_file, "US")
    assert not match_address(stated(f"{civic} Main St"), on_file, "US")
    if other != unit:
        assert not match_address(stated(f"{other}-{civic} Main St"), on_file, "US")
        assert not match_address(stated(f"{civic} Main St Unit {other}"), on_file, "US")


@SETTINGS
@given(NUMBERS, st.sampled_from("abcd"), st.sampled_from(["", " ", "  "]))
def test_a_german_house_number_letter_said_apart_is_that_house(
    number: str, letter: str, gap: str
) -> None:
    on_file = Address(f"Hauptstraße {number}{letter}", "", "Berlin", "", "10115", "DE")
    stated = Address(f"Hauptstr. {number}{gap}{letter.upper()}", "", "Berlin", "", "10115", "DE")
    assert match_address(stated, on_file, "US")
    assert not match_address(
        Address(f"Hauptstraße {number}", "", "Berlin", "", "10115", "DE"), on_file, "US"
    )


ICAO = {"ø": ("oe", "o"), "æ": ("ae",), "þ": ("th",), "đ": ("d",), "ł": ("l",), "å": ("aa", "a")}
NAME_LETTERS = st.text(alphabet="bdgklmnrstvøæþđłå", min_size=1, max_size=10)


@SETTINGS
@given(NAME_LETTERS, st.integers(0, 1))
def test_a_name_matches_its_icao_transliteration(name: str, choice: int) -> None:
    written = "".join(ICAO.get(ch, (ch,))[min(choice, len(ICAO.get(ch, (ch,))) - 1)] for ch in name)
    assert match_name(written, name)
    assert match_name(name.upper(), written)


LEGAL = sorted(_FORMS)


@SETTINGS
@given(st.sampled_from(LEGAL), st.sampled_from(LEGAL), st.sampled_from(["The ", ""]))
def test_two_legal_forms_never_match_and_one_always_does(a: str, b: str, the: str) -> None:
    long_a = (_FORMS[a] or (a,))[0]
    assert match_organization(f"{the}Contoso {long_a}", f"Contoso {a}")
    assert match_organization("Contoso", f"Contoso {a}")
    if a != b:
        assert not match_organization(f"Contoso {a}", f"Contoso {b}")
    normalized = normalize_organization(f"{the}Contoso {long_a}")
    assert normalize_organization(normalized) == normalized
