"""Street addresses: every component on file must be stated.

US addresses are normalized to USPS Publication 28 with the tables and parser
of usaddress-scourgify: suffixes, directionals, unit designators and state
names abbreviated, a ZIP+4 compared on its 5-digit ZIP, and a unit given on
line 1 or line 2 alike. Other countries are folded as names, postal codes
compared without spaces, hyphens or case, and regions by ISO 3166-2 code where
the name or code is known. Countries compare by ISO code: "United Kingdom",
"UK", "GB" and "gb" are one country; a blank stated country is the default.

Speed: the parser costs about 250 µs, so a check first compares cheap
token-wise Pub 28 forms (the street lines taken in either order) and calls
the parser only when those differ in the street lines alone and in a way it
might reconcile (words reordered within a line, "12 Ave" for "12th Ave").
The on-file side is cached, being a pure function of a frozen value.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import astuple, dataclass, replace
from functools import lru_cache
from typing import Any

import pycountry
from scourgify import normalize_address_record
from scourgify.address_constants import (
    CITY_ABBREVIATIONS,
    DIRECTIONAL_REPLACEMENTS,
    OCCUPANCY_TYPE_ABBREVIATIONS,
    STATE_ABBREVIATIONS,
    STREET_TYPE_ABBREVIATIONS,
)

from verification.errors import InputError, echo
from verification.names import fold

US = "US"

_ORDINAL = re.compile(r"(\d)(?:ST|ND|RD|TH)\b")

# Names callers use that pycountry does not list (folded).
_COUNTRY_ALIASES = {
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "america": "US",
    "united states of america": "US",
    "russia": "RU",
    "korea": "KR",
    "south korea": "KR",
    "north korea": "KP",
    "turkey": "TR",
    "ivory coast": "CI",
    "holland": "NL",
    "czech republic": "CZ",
    "vietnam": "VN",
    "deutschland": "DE",
}

# The parser is not known to be thread-safe and desks call it from worker
# threads; a lock costs nothing next to the parse itself.
_PARSER_LOCK = threading.Lock()
# No real street line is this long; longer text skips the slow parser.
_PARSER_MAX_CHARS = 200


@dataclass(frozen=True)
class Address:
    """A street address in the six fields of the desk, country as given."""

    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""

    @classmethod
    def from_fields(cls, values: Mapping[str, str]) -> Address:
        """An address from the desk's field mapping; missing fields are blank."""
        return cls(
            line1=values.get("line1", ""),
            line2=values.get("line2", ""),
            city=values.get("city", ""),
            region=values.get("region", ""),
            postal_code=values.get("postal_code", ""),
            country=values.get("country", ""),
        )

    def is_blank(self) -> bool:
        """Whether no field holds anything but white space."""
        return not any(part.strip() for part in astuple(self))


def canonical_address(addr: Address, default_country: str) -> Address:
    """The stated address in canonical form (idempotent).

    US: lines joined into ``line1`` and abbreviated per Pub 28, state code,
    5-digit ZIP. Elsewhere: folded lines and city, ISO region code where
    known, compact postal code. Country: ISO alpha-2; blank means
    ``default_country``. Raises InputError for a blank address or an unknown
    country.
    """
    if addr.is_blank():
        raise InputError("enter the caller's address")
    country = country_code(addr.country, default_country)
    return _canonical(addr, country)


def normalize_address(addr: Address, default_country: str) -> str:
    """The stated address in canonical form as one line. Raises InputError."""
    return render(canonical_address(addr, default_country))


def check_address(stated: Address, on_file: Address, default_country: str) -> tuple[str, bool]:
    """The normalized stated address and whether it matches the one on file.

    Raises InputError (a blank address, an unknown country); nothing on file
    can make it raise.
    """
    mine = canonical_address(stated, default_country)
    theirs, *theirs_swapped = _on_file_forms(on_file, default_country)
    forms = (theirs, *theirs_swapped)
    swapped = _canonical(_swap(stated), mine.country) if _has_two_lines(stated) else None
    if any(_covers(mine, form) or (swapped and _covers(swapped, form)) for form in forms):
        return render(mine), True
    if mine.country != US or theirs.country != US:
        return render(mine), False
    # The parser can only reconcile street lines that differ in the order of
    # their words or in ordinal suffixes; anything else is a mismatch already.
    if not _covers(replace(mine, line1=theirs.line1), theirs):
        return render(mine), False
    if _street_signature(mine.line1) != _street_signature(theirs.line1):
        return render(mine), False
    parsed = _parsed_us(stated)
    return render(mine), parsed is not None and parsed == _on_file_parsed(on_file)


def match_address(stated: Address, on_file: Address, default_country: str) -> bool:
    """Whether the stated address is the one on file. Raises InputError."""
    return check_address(stated, on_file, default_country)[1]


def _covers(stated: Address, on_file: Address) -> bool:
    """Every component on file is stated alike; a stated extra (a region the
    record lacks) is no reason to fail a caller."""
    return all(
        not theirs or mine == theirs
        for mine, theirs in zip(astuple(stated), astuple(on_file), strict=True)
    )


def render(addr: Address) -> str:
    """An address as one line, blank fields left out."""
    return ", ".join(part for part in astuple(addr) if part)


def country_code(text: str, default_country: str) -> str:
    """The ISO alpha-2 code of a stated country; blank means the default.

    Raises InputError when the text names no country.
    """
    folded = fold(text)
    if not folded:
        return default_country.upper()
    code = _country_index().get(_drop_article(folded))
    if code is None:
        raise InputError(f"not a country: {echo(text)}")
    return code


def _canonical(addr: Address, country: str) -> Address:
    if country == US:
        return Address(
            line1=_us_street(f"{addr.line1} {addr.line2}"),
            city=" ".join(CITY_ABBREVIATIONS.get(t, t) for t in fold(addr.city).upper().split()),
            region=_us_state(addr.region),
            postal_code=_zip5(addr.postal_code),
            country=US,
        )
    return Address(
        line1=fold(f"{addr.line1} {addr.line2}"),
        city=fold(addr.city),
        region=_region_code(country, addr.region),
        postal_code="".join(ch for ch in fold(addr.postal_code) if ch.isalnum()).upper(),
        country=country,
    )


@lru_cache(maxsize=4096)
def _on_file_forms(addr: Address, default_country: str) -> tuple[Address, ...]:
    """The on-file address in canonical form, then with its lines swapped if it has two."""
    # Lenient: a country on file that names nothing is kept as text, so it
    # simply matches no statement instead of raising at the agent.
    try:
        country = country_code(addr.country, default_country)
    except InputError:
        country = fold(addr.country).upper()
    forms = [_canonical(addr, country)]
    if _has_two_lines(addr):
        forms.append(_canonical(_swap(addr), country))
    return tuple(forms)


def _has_two_lines(addr: Address) -> bool:
    return bool(addr.line1.strip() and addr.line2.strip())


def _swap(addr: Address) -> Address:
    """The address with its street lines the other way round: callers give the
    unit before or after the street, on either line."""
    return replace(addr, line1=addr.line2, line2=addr.line1)


@lru_cache(maxsize=4096)
def _on_file_parsed(addr: Address) -> Address | None:
    return _parsed_us(addr)


def _parsed_us(addr: Address) -> Address | None:
    """The address as the Pub 28 parser reads it, or None when it cannot."""
    if len(addr.line1) + len(addr.line2) > _PARSER_MAX_CHARS:
        return None
    record = {
        "address_line_1": addr.line1,
        "address_line_2": addr.line2 or None,
        "city": addr.city,
        "state": addr.region,
        "postal_code": addr.postal_code,
    }
    try:
        with _PARSER_LOCK:
            parsed = normalize_address_record(record)
    except Exception:  # the parser raises many types on odd input; it then has no opinion
        return None
    return _canonical(
        Address(
            line1=str(parsed.get("address_line_1") or ""),
            line2=str(parsed.get("address_line_2") or ""),
            city=str(parsed.get("city") or ""),
            region=str(parsed.get("state") or ""),
            postal_code=str(parsed.get("postal_code") or ""),
        ),
        US,
    )


def _us_street(text: str) -> str:
    table = _us_token_table()
    return " ".join(table.get(token, token) for token in fold(text).upper().split())


def _street_signature(street: str) -> str:
    """The letters and digits of a canonical US street line, in sorted order,
    with ordinal suffixes dropped: equal for the lines the parser might
    reconcile."""
    return "".join(sorted(_ORDINAL.sub(r"\1", street).replace(" ", "")))


def _us_state(text: str) -> str:
    folded = fold(text).upper()
    return str(STATE_ABBREVIATIONS.get(folded, folded))


def _zip5(text: str) -> str:
    digits = "".join(ch for ch in text if ch.isdecimal() and ch.isascii())
    # A ZIP that lost its leading zeros in a spreadsheet is still that ZIP.
    if 3 <= len(digits) < 5:
        digits = digits.zfill(5)
    return digits[:5]


@lru_cache(maxsize=1)
def _us_token_table() -> dict[str, str]:
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


@lru_cache(maxsize=1)
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                index.setdefault(_drop_article(fold(value)), country.alpha_2)
    for alias, code in _COUNTRY_ALIASES.items():
        index.setdefault(alias, code)
    return index


def _drop_article(folded: str) -> str:
    return folded.removeprefix("the ")


def _region_code(country: str, text: str) -> str:
    folded = fold(text)
    return _subdivision_index(country).get(folded, folded)


@lru_cache(maxsize=64)
def _subdivision_index(country: str) -> dict[str, str]:
    """Folded subdivision names and codes of one country to their ISO code."""
    index: dict[str, str] = {}
    # pycountry is untyped; its lookup is typed here by what it returns.
    subdivisions: Any = pycountry.subdivisions
    for sub in subdivisions.get(country_code=country) or ():
        code = str(sub.code)
        for key in (code, code.partition("-")[2], str(sub.name)):
            index.setdefault(fold(key), code)
    return index
