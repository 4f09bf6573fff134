"""Organization names: folded as names, ``&`` read as ``and``, legal form ignored.

``Contoso, Ltd.`` = ``CONTOSO LIMITED`` = ``Contoso``; ``Contoso Pharma`` ≠
``Contoso``. Legal-form suffixes are stripped only at the end, repeatedly
(``Contoso Pty Ltd`` = ``Contoso``), and never so far that nothing is left.
Compared as names are (``names.name_keys``): spaces inside the name do not
count (``O Brien Plumbing`` = ``O’Brien Plumbing``) and German umlauts match
their transliteration (``Mueller & Soehne`` = ``Müller & Söhne``).
"""

from __future__ import annotations

import unicodedata

from verification.errors import InputError
from verification.names import fold, may_have_umlauts

# Legal forms as folded tokens (folding drops the dots, so "L.L.C." is "llc").
_LEGAL_FORMS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        (
            tuple(form.split())
            for form in (
                "inc",
                "incorporated",
                "ltd",
                "limited",
                "llc",
                "llp",
                "lp",
                "pllc",
                "pc",
                "limited liability company",
                "corp",
                "corporation",
                "co",
                "company",
                "and co",
                "and company",
                "gmbh",
                "gmbh and co kg",
                "kg",
                "ag",
                "se",
                "sa",
                "sas",
                "sarl",
                "sl",
                "sa de cv",
                "bv",
                "bvba",
                "nv",
                "plc",
                "pty",
                "pte",
                "pvt",
                "sdn bhd",
                "bhd",
                "kk",
                "srl",
                "spa",
                "sro",
                "oy",
                "oyj",
                "ab",
                "publ",
                "as",
                "asa",
                "aps",
                "ltda",
            )
        ),
        key=len,
        reverse=True,
    )
)


def normalize_organization(text: str) -> str:
    """The canonical form of an organization name. Raises InputError when blank."""
    canonical = _canonical(text)
    if not canonical:
        raise InputError("enter the caller's answer")
    return canonical


def match_organization(stated: str, on_file: str) -> bool:
    """Whether a stated organization name is the one on file.

    Raises InputError for a blank statement; a blank name on file matches
    nothing.
    """
    normalize_organization(stated)
    return bool(_keys(stated) & _keys(on_file))


def _keys(text: str) -> frozenset[str]:
    """The canonical forms, umlauts bare and written out, spaces dropped."""
    forms = {_canonical(text)}
    if may_have_umlauts(text):
        forms.add(_canonical(text, expand_umlauts=True))
    return frozenset(form.replace(" ", "") for form in forms) - {""}


def _canonical(text: str, *, expand_umlauts: bool = False) -> str:
    # NFKC first so that full-width and small ampersands are read as "and" too.
    text = unicodedata.normalize("NFKC", text).replace("&", " and ")
    tokens = fold(text, expand_umlauts=expand_umlauts).split()
    stripped = True
    while stripped:
        stripped = False
        for form in _LEGAL_FORMS:
            if len(tokens) > len(form) and tuple(tokens[-len(form) :]) == form:
                del tokens[-len(form) :]
                stripped = True
                break
    return " ".join(tokens)
