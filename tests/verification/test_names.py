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
    ],
)
def test_spelling_variants_match(stated: str, on_file: str) -> None:
    assert match_name(stated, on_file)


@pytest.mark.parametrize(
    ("stated", "on_file"),
    [("Jon", "John"), ("Bob", "Robert"), ("Smithjones", "Smith Jones"), ("Ana", "Ana Maria")],
)
def test_different_names_do_not_match(stated: str, on_file: str) -> None:
    assert not match_name(stated, on_file)


def test_hyphen_is_a_word_break_and_apostrophe_is_dropped() -> None:
    assert fold_name("Smith-Jones") == "smith jones"
    assert fold_name("O’Brien") == "obrien"


@pytest.mark.parametrize("text", ["", "   ", "...", "’-"])
def test_nothing_to_compare_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError, match="enter the caller's answer"):
        fold_name(text)


def test_blank_on_file_matches_nothing() -> None:
    assert not match_name("Ana", "")
