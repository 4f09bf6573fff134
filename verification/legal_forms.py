"""Legal forms at the end of an organization name, and which are one form.

The forms and their long/short spellings are those of the ISO 20275 Entity
Legal Forms code list (GLEIF, 2023-09-28 edition), which gives for each
legal form its local name and the abbreviations in use: for example 2HBR
(DE) "Gesellschaft mit beschränkter Haftung" = GmbH, H0PO (GB) "Private
Limited Company" = Ltd = Limited, TXVC (AU) "Limited Proprietary Company" =
Proprietary Limited = Pty Ltd, B6ES (GB) "Public Limited Company" = PLC,
Z0EY (GB) LLP, the US states' "Limited Liability Company" = L.L.C. = LLC.
The list is kept here as folded tokens (``names.fold``: no dots, ``&`` read
as "and") rather than read from the code list at run time: that list also
files Ltd, Inc and Corp under one Canadian form, and "two different
suffixes name two companies" (PRODUCT.md section 4), so only a long form
and its own abbreviation are one form here.

A spelling that abbreviates two forms ("Private Limited": Pte Ltd in
Singapore, Pvt Ltd in India) stands for both, and matches either.
"""

from __future__ import annotations

from functools import lru_cache

# Canonical short form -> its other spellings (folded).
_FORMS: dict[str, tuple[str, ...]] = {
    "inc": ("incorporated",),
    "corp": ("corporation",),
    "ltd": ("limited",),
    "llc": ("limited liability company",),
    "llp": ("limited liability partnership",),
    "lp": ("limited partnership",),
    "pllc": ("professional limited liability company",),
    "pc": ("professional corporation",),
    "co": ("company",),
    "and co": ("and company",),
    "pty": ("proprietary",),
    # "Proprietary Limited" is read as pty + ltd already; "Private Limited"
    # abbreviates two forms, so it is listed under both.
    "pty ltd": (),
    "pte ltd": ("private limited",),
    "pvt ltd": ("private limited",),
    "pte": (),
    "pvt": (),
    "plc": ("public limited company",),
    "gmbh": (
        "gesellschaft mit beschrankter haftung",
        "gesellschaft mit beschraenkter haftung",
        "gesmbh",
    ),
    "gmbh and co kg": ("gmbh co kg",),
    "kg": ("kommanditgesellschaft",),
    "ag": ("aktiengesellschaft",),
    "se": ("societas europaea",),
    "sa": ("societe anonyme", "sociedad anonima"),
    "sas": ("societe par actions simplifiee",),
    "sarl": ("societe a responsabilite limitee",),
    "sl": ("sociedad limitada",),
    "sa de cv": ("sociedad anonima de capital variable",),
    "bv": ("besloten vennootschap",),
    "bvba": (),
    "nv": ("naamloze vennootschap",),
    "sdn bhd": ("sendirian berhad",),
    "bhd": ("berhad",),
    "kk": ("kabushiki kaisha",),
    "srl": ("societa a responsabilita limitata",),
    "spa": ("societa per azioni",),
    "sro": ("spolecnost s rucenim omezenym",),
    "oy": ("osakeyhtio",),
    "oyj": ("julkinen osakeyhtio",),
    "ab": ("aktiebolag",),
    "publ": (),
    "as": ("aksjeselskap", "aktieselskab"),
    "asa": ("allmennaksjeselskap",),
    "aps": ("anpartsselskab",),
    "ltda": ("limitada",),
    "ltee": ("limitee",),
}


@lru_cache(maxsize=1)
def _index() -> dict[tuple[str, ...], frozenset[str]]:
    """Each spelling, as tokens, to the canonical forms it spells."""
    index: dict[tuple[str, ...], set[str]] = {}
    for canonical, spellings in _FORMS.items():
        for spelling in (canonical, *spellings):
            index.setdefault(tuple(spelling.split()), set()).add(canonical)
    return {tokens: frozenset(forms) for tokens, forms in index.items()}


@lru_cache(maxsize=1)
def _longest() -> int:
    return max(map(len, _index()))


LegalForm = tuple[str, frozenset[str]]


def split_legal_forms(tokens: list[str]) -> tuple[list[str], list[LegalForm]]:
    """The name without the legal forms at its end, and those forms in the
    order written: each as spelt and the set of canonical forms it stands for.

    The longest spelling at the end goes first, repeatedly, and never so far
    that nothing of the name is left.
    """
    index, core = _index(), list(tokens)
    forms: list[LegalForm] = []
    while True:
        for size in range(min(_longest(), len(core) - 1), 0, -1):
            found = index.get(tuple(core[-size:]))
            if found is not None:
                forms.insert(0, (" ".join(core[-size:]), found))
                del core[-size:]
                break
        else:
            return core, forms


def readings(forms: list[LegalForm]) -> frozenset[str]:
    """The ways the legal forms can be read, each as one string (empty when
    there are none): two names are one company only if these meet."""
    out = {""}
    for _, choices in forms:
        out = {f"{reading} {choice}".strip() for reading in out for choice in choices}
    return frozenset(out) - {""}


def canonical_forms(forms: list[LegalForm]) -> str:
    """The legal forms in canonical spelling; a spelling that stands for two
    forms is kept as spelt."""
    return " ".join(next(iter(choices)) if len(choices) == 1 else spelt for spelt, choices in forms)
