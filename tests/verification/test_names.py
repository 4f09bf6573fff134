"""Names: NFKC, case-fold, accents folded, punctuation and repeated spaces dropped."""

from __future__ import annotations

import pytest

from verification.errors import InputError
from verification.names import fold_name, match_name


@pytest.mark.parametrize(
    ("stated", "on_file"),
    [
        ("José Pérez", "jose perez"),
        ("O’Brien", "OBrien"),
        ("O'Brien", "O’Brien"),
        ("  Ana   María ", "ana maria"),
        ("Smith-Jones", "Smith Jones"),
        ("Straße", "STRASSE"),
        ("Ｊｏｈｎ", "john"),  # full-width letters (NFKC)
        ("Zoë", "Zoe"),
        ("J.R.", "JR"),
        # DIN 5007-2 transliterations, and the umlaut simply dropped as before.
        ("Juergen", "Jürgen"),
        ("Mueller", "Müller"),
        ("MUELLER", "MÜLLER"),
        ("Muller", "Müller"),
        ("Schroeder", "Schröder"),
        ("Baer", "Bär"),
        ("Strasse", "Straße"),
        ("Mu\u0308ller", "Mueller"),  # decomposed umlaut
        # A space, an apostrophe and nothing are alike inside a name.
        ("O Brien", "O’Brien"),
        ("O Brien", "OBrien"),
        ("D Angelo", "D'Angelo"),
        ("Smithjones", "Smith Jones"),
        ("Mac Donald", "MacDonald"),
    ],
)
def test_spelling_variants_match(stated: str, on_file: str) -> None:
    assert match_name(stated, on_file)


@pytest.mark.parametrize(
    ("stated", "on_file"),
    [
        ("Jon", "John"),
        ("Bob", "Robert"),
        ("Ana", "Ana Maria"),
        # Only a real umlaut on one side reads "ue" as "ü": two ASCII spellings
        # stay apart, and no name loses its "e".
        ("Muller", "Mueller"),
        ("Michal", "Michael"),
        ("Samul", "Samuel"),
        ("Jol", "Joel"),
        ("Mülller", "Mueller"),
    ],
)
def test_different_names_do_not_match(stated: str, on_file: str) -> None:
    assert not match_name(stated, on_file)


def test_hyphen_is_a_word_break_and_apostrophe_is_dropped() -> None:
    assert fold_name("Smith-Jones") == "smith jones"
    assert fold_name("O’Brien") == "obrien"


def test_first_and_last_name_stay_distinct_fields() -> None:
    from verification.address import Address
    from verification.checks import OnFile, check_item
    from verification.kinds import CheckResult, Item

    on_file = OnFile("", "", "Mary Ann", "Smith", "", Address())
    moved = check_item(Item.CONTACT_NAME, {"first": "Mary", "last": "Ann Smith"}, on_file, "US")
    assert moved.result is CheckResult.MISMATCH
    joined = check_item(Item.CONTACT_NAME, {"first": "Maryann", "last": "Smith"}, on_file, "US")
    assert joined.result is CheckResult.MATCH


@pytest.mark.parametrize("text", ["", "   ", "...", "’-"])
def test_nothing_to_compare_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError, match="enter the caller's answer"):
        fold_name(text)


def test_blank_on_file_matches_nothing() -> None:
    assert not match_name("Ana", "")
