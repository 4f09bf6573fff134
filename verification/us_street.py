"""US street lines: Publication 28 words, the key they are compared by, and
usaddress's tagger for words said in another order.

One home for how a US street line is compared (``line_key``); ``address``
uses it for every US check and calls ``tagged_key`` only in the rare case
described there. Words no Pub 28 table of usaddress-scourgify holds (ordinal
words, rural routes and PO boxes, a kept slash) come from ``street_words``.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import usaddress
from scourgify.address_constants import (
    DIRECTIONAL_REPLACEMENTS,
    OCCUPANCY_TYPE_ABBREVIATIONS,
    STREET_TYPE_ABBREVIATIONS,
)

from verification.street_words import box_words, fold_line, is_unit_id, ordinal_words

_ORDINAL = re.compile(r"(\d)(?:ST|ND|RD|TH)\b")
_DESIGNATORS = frozenset(OCCUPANCY_TYPE_ABBREVIATIONS.values())
_UNIT_DESIGNATORS = frozenset({"#", "APT", "UNIT", "STE"})
# The street components of usaddress's tags, in the order Pub 28 writes them.
_STREET_ORDER = (
    "AddressNumberPrefix",
    "AddressNumber",
    "AddressNumberSuffix",
    "StreetNamePreModifier",
    "StreetNamePreDirectional",
    "StreetNamePreType",
    "StreetName",
    "StreetNamePostType",
    "StreetNamePostDirectional",
    "OccupancyType",
    "OccupancyIdentifier",
    "SubaddressType",
    "SubaddressIdentifier",
)
_STREET_ORDER_SET = frozenset(_STREET_ORDER)

# The parser is not known to be thread-safe and desks call it from worker
# threads; a lock costs nothing next to the parse itself.
_PARSER_LOCK = threading.Lock()
# No real street line is this long; longer text skips the slow parser.
_PARSER_MAX_CHARS = 200


def tagged_key(text: str) -> str | None:
    """The key of a street line as the usaddress tagger reads it, its
    components put in Pub 28 order; None when it cannot read it as one
    street address."""
    if len(text) > _PARSER_MAX_CHARS:
        return None
    try:
        with _PARSER_LOCK:
            tagged, kind = usaddress.tag(text)
    except Exception:  # the tagger raises on repeated labels and odd input; no opinion then
        return None
    if kind != "Street Address" or not set(tagged) <= _STREET_ORDER_SET:
        return None
    ordered = " ".join(tagged[label] for label in _STREET_ORDER if label in tagged)
    return line_key(us_street(ordered))


def us_street(text: str) -> str:
    """A US street line in Pub 28 words; ``#`` (the unit designator when the
    type is unknown) kept as a word of its own, and a slash between numbers
    (``123 1/2``) too."""
    table = _token_table()
    words: list[str] = []
    for raw in text.replace("#", " # ").split():
        words.extend(["#"] if raw == "#" else fold_line(raw).split())
    upper = (word.upper() for word in box_words(ordinal_words(words)))
    return " ".join(table.get(word, word) for word in upper)


def line_key(street: str) -> str:
    """What a canonical US street line is compared by.

    Ordinal suffixes go (``12TH AVE`` = ``12 AVE``); a unit read number first
    (``400 STE``) is put designator first, except for the house number; and
    the designators of a dwelling or office unit are one, since Pub 28 writes
    ``#`` when the type is unknown and the number identifies the unit:
    ``# 12`` = ``UNIT 12`` = ``APT 12`` = ``STE 12``. A floor, building or
    room stays what it is.
    """
    words = _ORDINAL.sub(r"\1", street).split()
    for i in range(2, len(words)):
        if (
            words[i] in _DESIGNATORS
            and is_unit_id(words[i - 1])
            and (i + 1 == len(words) or not is_unit_id(words[i + 1]))
        ):
            words[i - 1], words[i] = words[i], words[i - 1]
    # A unit said before the street on the same line goes after it.
    if len(words) > 2 and words[0] in _DESIGNATORS and is_unit_id(words[1]):
        words = words[2:] + words[:2]
    key: list[str] = []
    for word in words:
        # "STE # 400": a "#" after a designator only repeats it.
        if word == "#" and key and key[-1] in _DESIGNATORS:
            continue
        key.append(word)
    return " ".join("#" if word in _UNIT_DESIGNATORS else word for word in key)


def first_word(street: str) -> str:
    return street.partition(" ")[0]


def street_signature(street: str) -> str:
    """The letters and digits of a canonical US street line, in sorted order,
    with ordinal suffixes dropped: equal for the lines the parser might
    reconcile."""
    return "".join(sorted(_ORDINAL.sub(r"\1", street).replace(" ", "")))


@lru_cache(maxsize=1)
def _token_table() -> dict[str, str]:
    """Pub 28 abbreviations of single words, closed so that applying it twice
    changes nothing (a few abbreviations are themselves keys of another table)."""
    table: dict[str, str] = {}
    sources = (STREET_TYPE_ABBREVIATIONS, OCCUPANCY_TYPE_ABBREVIATIONS, DIRECTIONAL_REPLACEMENTS)
    for source in sources:
        for key, value in source.items():
            if " " not in key and key.isalnum():
                table.setdefault(key, value)
    closed: dict[str, str] = {}
    for key, value in table.items():
        seen = {key}
        while value in table and table[value] != value and value not in seen:
            seen.add(value)
            value = table[value]
        closed[key] = value
    return closed
