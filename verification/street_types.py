"""Street-type words outside the US, folded to one spelling per country.

No installed package keeps such a table (usaddress-scourgify's is USPS
Publication 28, US only), so this is a small one for the countries the demo
and the desk serve, after the abbreviations their postal services print
(Royal Mail, Australia Post, Canada Post, La Poste, Correos, Deutsche Post).
Keys and values are folded text (``names.fold``: lower case, no dots).

``fold_street_types(country, words)`` writes every abbreviation out in full,
so ``45 King St`` = ``45 King Street`` (GB) and ``Leopoldstr. 20`` =
``Leopold-Straße 20`` = ``Leopoldstraße 20`` (DE, where "-straße" and
"-str." also close compounds). Only words standing alone are read, and only
in their own country: "St" is a street in Manchester, "Dr" a drive in
Sydney, and neither is touched in Paris. "St" for "Saint" is read as
"Street" on both sides alike, so ``St Johns Road`` still matches itself but
not ``Saint Johns Road``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

_ENGLISH = {
    "st": "street",
    "str": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "dr": "drive",
    "drv": "drive",
    "ln": "lane",
    "pl": "place",
    "ct": "court",
    "crt": "court",
    "cres": "crescent",
    "cr": "crescent",
    "sq": "square",
    "tce": "terrace",
    "terr": "terrace",
    "hwy": "highway",
    "pde": "parade",
    "cl": "close",
    "gr": "grove",
    "gro": "grove",
    "blvd": "boulevard",
    "cct": "circuit",
    "esp": "esplanade",
    "gdns": "gardens",
    "pk": "park",
    "pkwy": "parkway",
    "mt": "mount",
    "bldgs": "buildings",
    "lvl": "level",
    "fl": "floor",
    "flr": "floor",
    "apt": "apartment",
    "ste": "suite",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
}
_GERMAN = {
    "str": "strasse",
    "pl": "platz",
    "og": "obergeschoss",
    "eg": "erdgeschoss",
}
_FRENCH = {
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "boul": "boulevard",
    "bvd": "boulevard",
    "r": "rue",
    "pl": "place",
    "imp": "impasse",
    "ch": "chemin",
    "che": "chemin",
    "rte": "route",
    "fbg": "faubourg",
    "sq": "square",
    "qu": "quai",
    "crs": "cours",
    "all": "allee",
    "res": "residence",
    "bat": "batiment",
    "st": "saint",
    "ste": "sainte",
}
_SPANISH = {
    "c": "calle",
    "cl": "calle",
    "cll": "calle",
    "av": "avenida",
    "avda": "avenida",
    "avd": "avenida",
    "pza": "plaza",
    "pl": "plaza",
    "plz": "plaza",
    "po": "paseo",
    "pso": "paseo",
    "ctra": "carretera",
    "cra": "carretera",
    "rda": "ronda",
    "trav": "travesia",
    "urb": "urbanizacion",
}

_TABLES: Mapping[str, Mapping[str, str]] = {
    **dict.fromkeys(("GB", "IE", "AU", "NZ", "CA", "ZA", "IN", "SG"), _ENGLISH),
    **dict.fromkeys(("DE", "AT", "CH", "LI", "LU"), _GERMAN),
    **dict.fromkeys(("FR", "BE", "MC"), _FRENCH),
    "ES": _SPANISH,
}
# German street names join the type to the name ("Leopoldstraße"); a caller
# may say it apart or abbreviated, so those forms close up into one word.
_COMPOUND_TYPES = {"DE": ("strasse",), "AT": ("strasse",), "CH": ("strasse",)}
_COMPOUND_SHORT = {"str": "strasse"}


def fold_street_types(country: str, words: Sequence[str]) -> list[str]:
    """The folded words of a street line with the country's abbreviations
    written out (and, in German, "-straße" compounds closed up)."""
    table = _TABLES.get(country)
    if table is None:
        return list(words)
    out = [table.get(word, word) for word in words]
    compounds = _COMPOUND_TYPES.get(country)
    if compounds:
        out = _close_compounds(out, compounds)
    return out


def _close_compounds(words: list[str], types: tuple[str, ...]) -> list[str]:
    closed: list[str] = []
    for word in words:
        for short, full in _COMPOUND_SHORT.items():
            if word.endswith(short) and len(word) > len(short) and not word.isdigit():
                word = word[: -len(short)] + full
        if word in types and closed and closed[-1].isalpha():
            closed[-1] += word
        else:
            closed.append(word)
    return closed
