"""User ID: email-validator syntax, whole value compared case-insensitively."""

from __future__ import annotations

import pytest

from verification.errors import InputError
from verification.userid import mask_user_id, match_user_id, normalize_user_id


def test_product_example_matches() -> None:
    assert match_user_id("Ana.Perez@Contoso.COM ", "ana.perez@contoso.com")


def test_local_part_is_compared_case_insensitively() -> None:
    assert normalize_user_id("ANA.PEREZ@contoso.com") == "ana.perez@contoso.com"


def test_different_user_does_not_match() -> None:
    assert not match_user_id("ana.perez@contoso.com", "ana.perez@fabrikam.com")


def test_blank_on_file_matches_nothing() -> None:
    assert not match_user_id("ana@contoso.com", "")


@pytest.mark.parametrize("text", ["ana", "ana@", "@contoso.com", "ana@contoso", "a@@b.com"])
def test_not_a_user_id_is_an_input_error_quoting_the_input(text: str) -> None:
    with pytest.raises(InputError, match="not a user ID") as info:
        normalize_user_id(text)
    assert text.strip() in str(info.value)


def test_blank_is_an_input_error() -> None:
    with pytest.raises(InputError, match="enter"):
        normalize_user_id("   ")


def test_no_dns_lookup_is_needed() -> None:
    # A syntactically fine domain that cannot exist still normalizes.
    assert normalize_user_id("x@no-such-domain-callgate.example") == (
        "x@no-such-domain-callgate.example"
    )


def test_one_user_id_mask_keeps_the_first_letter_and_the_domain() -> None:
    assert mask_user_id("ana.perez@contoso.com") == "a•••@contoso.com"
    assert mask_user_id("a@b@contoso.com") == "a•••@contoso.com"
    assert mask_user_id("no-at-sign") == "•••"
    assert mask_user_id("") == ""
