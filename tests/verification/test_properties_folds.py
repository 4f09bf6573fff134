"""Hypothesis properties of the folds of issue 14: umlauts, spaces inside a
name, street types outside the US, US unit designators; and the ASCII fast
path of ``fold``."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verification.address import Address, canonical_address, match_address
from verification.names import _fold_char, fold, fold_name, match_name
from verification.organization import match_organization
from verification.street_types import _TABLES

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DIN = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
LETTERS = st.text(alphabet="abcdefghijklmnoprstvwxyzäöüÄÖÜß", min_size=1, max_size=12)
NAMES = st.lists(LETTERS, min_size=1, max_size=3).map(" ".join)


def slow_fold(text: str) -> str:
    """fold without its ASCII table: the per-character rule alone."""
    text = unicodedata.normalize("NFKC", text).casefold()
    out = "".join(_fold_char(ch) for ch in unicodedata.normalize("NFKD", text))
    return " ".join(unicodedata.normalize("NFC", out.casefold()).split())


@SETTINGS
@given(st.text(alphabet=st.characters(max_codepoint=127)), st.booleans())
def test_the_ascii_fast_path_folds_as_the_rule_does(text: str, expand: bool) -> None:
    assert fold(text, expand_umlauts=expand) == slow_fold(text)


@SETTINGS
@given(st.text(), st.booleans())
def test_fold_is_idempotent_either_way(text: str, expand: bool) -> None:
    once = fold(text, expand_umlauts=expand)
    assert fold(once, expand_umlauts=expand) == once


@SETTINGS
@given(NAMES)
def test_a_name_matches_its_din_transliteration_and_its_bare_letters(name: str) -> None:
    written = "".join(DIN.get(ch, ch) for ch in name)
    bare = "".join(DIN.get(ch, ch)[0] for ch in name)
    decomposed = unicodedata.normalize("NFD", name)
    for variant in (written, bare, decomposed, name.upper(), name.replace(" ", "")):
        assert match_name(variant, name)
        assert match_name(name, variant)


@SETTINGS
@given(st.text(alphabet="abcdefghijklmnoprstvwxyz", min_size=1, max_size=12))
def test_two_ascii_spellings_never_match_through_umlauts(name: str) -> None:
    # Only a real umlaut reads "ue" as "u": ASCII names keep every letter.
    for vowel in "aou":
        if f"{vowel}e" in name:
            assert not match_name(name.replace(f"{vowel}e", vowel, 1), name)


@SETTINGS
@given(NAMES, st.sampled_from(["", "'", "’", " ", "-"]))
def test_a_space_an_apostrophe_and_nothing_are_alike_inside_a_name(name: str, joint: str) -> None:
    stated = f"O{joint}{name}"
    assert match_name(stated, f"O{name}")
    assert fold_name(stated)


@SETTINGS
@given(NAMES, st.sampled_from(["GmbH", "AG", "Ltd", ""]))
def test_an_organization_matches_its_din_transliteration(name: str, form: str) -> None:
    written = "".join(DIN.get(ch, ch) for ch in name)
    assert match_organization(f"{written} {form}", f"{name} {form}")


STREET_WORDS = {country: sorted(table) for country, table in _TABLES.items()}
COUNTRIES = sorted(_TABLES)


@SETTINGS
@given(
    st.sampled_from(COUNTRIES).flatmap(
        lambda country: st.tuples(
            st.just(country),
            st.integers(1, 999),
            LETTERS,
            st.sampled_from(STREET_WORDS[country]),
        )
    )
)
def test_a_street_type_matches_written_out_and_canonical_form_is_stable(
    case: tuple[str, int, str, str],
) -> None:
    country, number, name, short = case
    full = _TABLES[country][short]
    abbreviated = Address(f"{number} {name} {short}.", "", "Town", "", "AB1", country)
    written = Address(f"{number} {name} {full}", "", "Town", "", "AB1", country)
    assert match_address(abbreviated, written, "US")
    assert match_address(written, abbreviated, "US")
    once = canonical_address(abbreviated, "US")
    assert canonical_address(once, "US") == once


UNITS = ["#", "# ", "Unit ", "Apt ", "Apartment ", "Suite ", "Ste "]


@SETTINGS
@given(
    st.integers(1, 9999),
    st.sampled_from(UNITS),
    st.sampled_from(UNITS),
    st.sampled_from(["line1", "line2"]),
)
def test_a_us_unit_is_its_number_whatever_the_designator(
    number: int, stated_unit: str, on_file_unit: str, where: str
) -> None:
    on_file = Address("9 West Elm Avenue", f"{on_file_unit}{number}", "Austin", "TX", "78701")
    unit = f"{stated_unit}{number}"
    if where == "line1":
        stated = Address(f"9 W Elm Ave {unit}", "", "Austin", "TX", "78701")
    else:
        stated = Address("9 W Elm Ave", unit, "Austin", "TX", "78701")
    assert match_address(stated, on_file, "US")
    other = Address("9 W Elm Ave", f"{stated_unit}{number + 1}", "Austin", "TX", "78701")
    assert not match_address(other, on_file, "US")
    once = canonical_address(stated, "US")
    assert canonical_address(once, "US") == once
