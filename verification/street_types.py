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
Sydney, and neither is touched in Paris. Where "St" and "Ste" also abbreviate
a street and a suite, they are "Saint" and "Sainte" before a name (a word
that is no street, direction or unit word of the table) and the street or
suite elsewhere: ``St Johns Road`` = ``Saint Johns Road``, ``Saint-Laurent``
= ``St-Laurent`` = ``St Laurent``, ``45 King St W`` = ``45 King Street
West``, ``Ste 5`` = ``Suite 5``.

Canada (Canada Post's street types and directions, English and French):
the English table, plus the French types (``boul`` = ``boulevard``, ``ch`` =
``chemin``, ``av`` = ``avenue``) and directions (``Est``/``E``,
``Ouest``/``O``, ``Nord``/``N``, ``Sud``/``S``, ``NO``, ``SO``) read as the
one direction they name in either language: ``Ouest`` = ``O`` = ``W`` =
``West``. Two direction words in a row are one (``Nord-Est`` = ``NE``).
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
_CANADIAN = {
    **_ENGLISH,
    "boul": "boulevard",
    "bd": "boulevard",
    "ch": "chemin",
    "rte": "route",
    "imp": "impasse",
    "mtee": "montee",
    "crois": "croissant",
    "est": "east",
    "ouest": "west",
    "o": "west",
    "nord": "north",
    "sud": "south",
    "ne": "northeast",
    "nw": "northwest",
    "no": "northwest",
    "se": "southeast",
    "sw": "southwest",
    "so": "southwest",
    "app": "apartment",
}
# Words that read "St" and "Ste" as the street or the unit, and what they are
# before a name.
_SAINTS = {"st": "saint", "ste": "sainte"}
_COMPASS = {"north", "south"}, {"east", "west"}
# Unit and delivery words the tables leave alone: after "St" they mean the
# street came before them.
_NOT_NAMES = frozenset(
    {
        "unit",
        "flat",
        "shop",
        "lot",
        "room",
        "block",
        "box",
        "po",
        "gpo",
        "office",
        "bureau",
        "unite",
        "appartement",
        "studio",
        "penthouse",
        "rr",
    }
)
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
    **dict.fromkeys(("GB", "IE", "AU", "NZ", "ZA", "IN", "SG"), _ENGLISH),
    "CA": _CANADIAN,
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
    out = [_word(table, words, i) for i in range(len(words))]
    if table is _CANADIAN:
        out = _join_directions(out)
    compounds = _COMPOUND_TYPES.get(country)
    if compounds:
        out = _close_compounds(out, compounds)
    return out


def type_words(country: str) -> frozenset[str]:
    """The words the country's abbreviations are written out to."""
    return _values(_TABLES.get(country, {}))


def _word(table: Mapping[str, str], words: Sequence[str], i: int) -> str:
    word = words[i]
    full = table.get(word)
    saint = _SAINTS.get(word)
    if full and saint and full != saint and i + 1 < len(words) and _is_name(table, words[i + 1]):
        return saint
    return full or word


def _is_name(table: Mapping[str, str], word: str) -> bool:
    """Whether a word can be (the start of) a name: no word of the table."""
    return (
        word.isalpha()
        and word not in table
        and word not in _values(table)
        and word not in _NOT_NAMES
    )


_VALUES: dict[int, frozenset[str]] = {}


def _values(table: Mapping[str, str]) -> frozenset[str]:
    values = _VALUES.get(id(table))
    if values is None:
        values = _VALUES[id(table)] = frozenset(table.values())
    return values


def _join_directions(words: list[str]) -> list[str]:
    """ "north east" → "northeast": a direction said in two words."""
    out: list[str] = []
    for word in words:
        if out and out[-1] in _COMPASS[0] and word in _COMPASS[1]:
            out[-1] += word
        else:
            out.append(word)
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
