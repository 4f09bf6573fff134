"""Organizations: as names, & = and, legal-form suffixes ignored at the end."""

from __future__ import annotations

import pytest

from verification.errors import InputError
from verification.organization import match_organization, normalize_organization


@pytest.mark.parametrize(
    ("stated", "on_file"),
    [
        ("Contoso, Ltd.", "CONTOSO LIMITED"),
        ("Contoso, Ltd.", "Contoso"),
        ("CONTOSO LIMITED", "Contoso"),
        ("Contoso Pty Ltd", "Contoso"),
        ("Contoso L.L.C.", "contoso llc"),
        ("Contoso GmbH", "Contoso"),
        ("Contoso S.A. de C.V.", "Contoso"),
        ("Contoso Corp.", "Contoso Corporation"),
        ("Fabrikam & Sons", "Fabrikam and Sons"),
        ("Fabrikam ＆ Sons", "Fabrikam and Sons"),
        ("Smith & Co.", "Smith"),
        ("Société Générale S.A.", "societe generale"),
        ("Mueller & Soehne GmbH", "Müller & Söhne GmbH"),
        ("Muller and Sohne", "Müller & Söhne GmbH"),
        ("Strassenbau AG", "Straßenbau AG"),
        ("O Brien Plumbing Ltd", "O’Brien Plumbing"),
        ("Zoe s Bakery", "Zoë’s Bakery"),
    ],
)
def test_equivalent_names_match(stated: str, on_file: str) -> None:
    assert match_organization(stated, on_file)


@pytest.mark.parametrize(
    ("stated", "on_file"),
    [
        ("Contoso Pharma", "Contoso"),
        ("Contoso", "Fabrikam"),
        ("Ltd Contoso", "Contoso"),  # a legal form only counts at the end
        ("Mueller GmbH", "Muller GmbH"),  # neither side has an umlaut
    ],
)
def test_different_names_do_not_match(stated: str, on_file: str) -> None:
    assert not match_organization(stated, on_file)


def test_suffix_stripping_never_leaves_an_empty_name() -> None:
    assert normalize_organization("Limited") == "limited"
    assert normalize_organization("Co Ltd") == "co ltd"
    assert not match_organization("Inc", "Contoso Inc")


def test_the_normalized_form_keeps_the_legal_form_in_canonical_spelling() -> None:
    # Recorded with the check: the legal form now decides a match.
    assert (
        normalize_organization("The Contoso Group, Proprietary Limited") == "contoso group pty ltd"
    )
    assert normalize_organization("Contoso Private Limited") == "contoso private limited"


def test_blank_is_an_input_error() -> None:
    with pytest.raises(InputError, match="enter the caller's answer"):
        normalize_organization(" , ")
