"""Street lines outside the US: one canonical line from the two the desk asks.

Each line is folded with its slashes kept (``street_words.fold_line``) and
its street types written out (``street_types``); then, by country:

- English-speaking countries (Royal Mail, Australia Post, Canada Post, NZ
  Post): ordinal words as numbers (``Fifth`` = ``5th``); a unit is its
  number, as in the US (``address``): unit, flat, apartment, suite, ``#``
  (and Canada Post's French app., bureau, unité) are one designator, said
  before or after the street: ``Unit 3, 12 Smith St`` = ``12 Smith St Unit
  3``. A floor, level, shop or lot stays what it is.
- Australia Post, NZ Post and Canada Post: ``3/12 Smith St`` is unit 3 of
  number 12 (= ``Unit 3, 12 Smith St``); Canada Post's unit-civic form
  ``12-345 Main St`` is unit 12 of number 345 (= ``345 Main St Unit 12``).
  Elsewhere (a Glasgow flat ``2/1``) the slash stays part of the number.
  Never ``312`` for ``3/12`` nor ``12345`` for ``12-345``.
- Canada Post: a French street type before the name goes after it, so that
  ``1000 boul. Saint-Laurent`` = ``1000 St Laurent Blvd`` (the type and
  the name unchanged, only their order).
- Deutsche Post (DE, AT, CH, LI, LU): a house number's letter said apart is
  joined (``5 a`` = ``5a``), and a house number said before the street goes
  after it (``5a Hauptstraße`` = ``Hauptstraße 5a``); a floor said number
  first (``3. OG``) is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from verification.street_types import fold_street_types, type_words
from verification.street_words import fold_line, is_unit_id, ordinal_words

_ENGLISH = frozenset({"GB", "IE", "AU", "NZ", "CA", "ZA", "IN", "SG"})
_SLASH_UNITS = frozenset({"AU", "NZ", "CA"})
_GERMAN = frozenset({"DE", "AT", "CH", "LI", "LU"})
_UNIT_WORDS = frozenset(
    {"unit", "apartment", "flat", "suite", "app", "appartement", "unite", "bureau"}
)
_UNIT = "unit"
# Canada Post's unit-civic hyphen: "12-345", "A-345", at the start of a line.
_UNIT_CIVIC = re.compile(r"^\s*(\d+[^\W\d_]?|[^\W\d_])\s*[-‐‑–]\s*(?=\d)")
# French types written before the name (Canada Post), as street_types
# writes them out; and every street type, for "the name ends in a type".
_TYPE_FIRST = frozenset(
    {"rue", "boulevard", "avenue", "chemin", "route", "impasse", "montee", "croissant", "place"}
)
_DIRECTIONS = frozenset(
    {"north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest"}
)
_CANADIAN_TYPES = (_TYPE_FIRST | type_words("CA")) - _DIRECTIONS
# German floor and building words a number goes before ("3. OG").
_GERMAN_FLOORS = frozenset(
    {
        "obergeschoss",
        "erdgeschoss",
        "dg",
        "ug",
        "dachgeschoss",
        "untergeschoss",
        "stock",
        "etage",
        "whg",
        "wohnung",
        "zimmer",
        "haus",
        "aufgang",
        "stiege",
        "top",
    }
)


_GERMAN_FLOOR_ABBREVIATIONS = frozenset({"og", "eg"})


def street_line(country: str, line1: str, line2: str, *, expand_umlauts: bool = False) -> str:
    """The canonical street line of the two lines of a non-US address (idempotent)."""
    words: list[str] = []
    for line in (line1, line2):
        words.extend(_line(country, line, expand_umlauts))
    # Read over both lines at once, as the canonical form is one line.
    words = fold_street_types(country, words)
    if country in _GERMAN:
        return " ".join(_house_number_last(words))
    if country not in _ENGLISH:
        return " ".join(words)
    words = ordinal_words(words)
    # Each step undoes no other; repeated until nothing changes, so that the
    # canonical form is a fixed point (a unit said first may hide a slash).
    for _ in range(_MAX_PASSES):
        before = words
        if country == "CA":
            words = _type_after_name(words)
        if country in _SLASH_UNITS:
            words = _slash_unit(words)
        words = _units_last(words)
        if words == before:
            break
    return " ".join(words)


_MAX_PASSES = 8


def _line(country: str, line: str, expand_umlauts: bool) -> list[str]:
    """One line's folded words; what only its start can say is read here."""
    if country == "CA":
        line = _UNIT_CIVIC.sub(r"\1/", line)
    if country in _ENGLISH:
        line = line.replace("#", f" {_UNIT} ")
    words = fold_line(line, expand_umlauts=expand_umlauts).split()
    if country in _GERMAN:
        words = _house_number_last(words)
    return words


def _type_after_name(words: list[str]) -> list[str]:
    """``345 rue Main`` → ``345 main rue``, unless the name ends in a type
    itself (``100 Avenue Road``)."""
    if len(words) < 3 or not any(ch.isdigit() for ch in words[0]) or words[1] not in _TYPE_FIRST:
        return words
    end = 2
    while end < len(words) and _is_name_word(words[end]):
        end += 1
    name = words[2:end]
    if not name or name[-1] in _CANADIAN_TYPES:
        return words
    return [words[0], *name, words[1], *words[end:]]


def _is_name_word(word: str) -> bool:
    return word.isalpha() and word not in _DIRECTIONS and word not in _UNIT_WORDS


def _slash_unit(words: list[str]) -> list[str]:
    """``3/12 smith street`` → ``12 smith street unit 3``."""
    at = 1 if words and words[0] in _UNIT_WORDS else 0
    if at + 1 >= len(words) or words[at].count("/") != 1:
        return words
    unit, _, number = words[at].partition("/")
    if not is_unit_id(unit) or not number[:1].isdigit():
        return words
    return [number, *words[at + 1 :], _UNIT, unit]


def _units_last(words: Sequence[str]) -> list[str]:
    """Unit designators as one, and the units said before the street after it."""
    out = _dedupe([_UNIT if word in _UNIT_WORDS else word for word in words])
    start = 0
    while start + 1 < len(out) and out[start] == _UNIT and is_unit_id(out[start + 1]):
        start += 2
    if 0 < start < len(out):
        out = _dedupe(out[start:] + out[:start])
    return out


def _dedupe(words: list[str]) -> list[str]:
    """ "Apt #5": a designator after a designator only repeats it."""
    return [w for i, w in enumerate(words) if not (w == _UNIT and i and words[i - 1] == _UNIT)]


def _house_number_last(words: list[str]) -> list[str]:
    """``5 a hauptstrasse`` → ``hauptstrasse 5a``."""
    joined: list[str] = []
    for word in words:
        if joined and joined[-1].isdigit() and len(word) == 1 and word.isalpha():
            joined[-1] += word
        else:
            joined.append(word)
    if (
        len(joined) > 1
        and any(ch.isdigit() for ch in joined[0])
        and joined[1].isalpha()
        and joined[1] not in _GERMAN_FLOORS
        and joined[1] not in _GERMAN_FLOOR_ABBREVIATIONS
    ):
        return [*joined[1:], joined[0]]
    return joined
