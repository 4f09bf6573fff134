"""Organization names: folded as names, ``&`` read as ``and``, a leading
"The" and a legal form the caller leaves out ignored, two legal forms apart.

``Contoso, Ltd.`` = ``CONTOSO LIMITED`` = ``Contoso``; ``Contoso Pharma`` ≠
``Contoso``. Legal-form suffixes are read only at the end, repeatedly
(``Contoso Pty Ltd``), and never so far that nothing is left; a long form and
its abbreviation are one form (``Proprietary Limited`` = ``Pty Ltd``, the
table and its source in ``legal_forms``). A legal form the caller omits is
no reason to fail them, but two different legal forms name two companies:
``Fabrikam GmbH`` ≠ ``Fabrikam, Inc.`` (PRODUCT.md section 4, "Never a
stranger"). A leading "The" is dropped, as the UK registrar's "same as"
rules do when comparing company names (The Company, Limited Liability
Partnership and Business (Names and Trading Disclosures) Regulations 2015,
Schedule 3): ``The Contoso Group`` = ``Contoso Group``.

Compared as names are (``names.name_keys``): spaces inside the name do not
count (``O Brien Plumbing`` = ``O’Brien Plumbing``) and German umlauts (and
ICAO's ø, å) match their transliteration (``Mueller & Soehne`` = ``Müller &
Söhne``).
"""

from __future__ import annotations

import unicodedata

from verification.errors import InputError
from verification.legal_forms import canonical_forms, readings, split_legal_forms
from verification.names import fold, may_have_umlauts

# What an organization is compared by: its name without spaces, and the
# readings of its legal forms (empty when it states none).
Key = tuple[str, frozenset[str]]


def normalize_organization(text: str) -> str:
    """The canonical form of an organization name: the name, then its legal
    forms in canonical spelling. Raises InputError when blank."""
    core, forms = _split(text)
    if not core:
        raise InputError("enter the caller's answer")
    return " ".join(filter(None, (" ".join(core), canonical_forms(forms))))


def match_organization(stated: str, on_file: str) -> bool:
    """Whether a stated organization name is the one on file: the same name,
    and the same legal form unless one side gives none.

    Raises InputError for a blank statement; a blank name on file matches
    nothing.
    """
    normalize_organization(stated)
    theirs = _keys(on_file)
    return any(
        name == their_name and (not forms or not their_forms or bool(forms & their_forms))
        for name, forms in _keys(stated)
        for their_name, their_forms in theirs
    )


def _keys(text: str) -> set[Key]:
    """The keys of the text's forms, umlauts bare and written out."""
    variants = (False, True) if may_have_umlauts(text) else (False,)
    keys = set()
    for expand in variants:
        core, forms = _split(text, expand_umlauts=expand)
        if core:
            keys.add(("".join(core), readings(forms)))
    return keys


def _split(
    text: str, *, expand_umlauts: bool = False
) -> tuple[list[str], list[tuple[str, frozenset[str]]]]:
    """The folded name without its legal forms and a leading "The", and the forms."""
    # NFKC first so that full-width and small ampersands are read as "and" too.
    text = unicodedata.normalize("NFKC", text).replace("&", " and ")
    core, forms = split_legal_forms(fold(text, expand_umlauts=expand_umlauts).split())
    while len(core) > 1 and core[0] == "the":
        del core[0]
    return core, forms
