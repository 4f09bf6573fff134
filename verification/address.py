"""Street addresses: every component on file must be stated.

US addresses are normalized to USPS Publication 28 with the tables of
usaddress-scourgify: suffixes, directionals, unit designators and state
names abbreviated, a ZIP+4 compared on its 5-digit ZIP, and a unit given on
line 1 or line 2, designator first or number first, alike. A unit is its
number: ``#`` (Pub 28's designator when the type is unknown), APT, UNIT and
STE are one designator when compared, so ``# 12`` = ``Unit 12`` =
``Apt 12`` (a floor, building or room stays apart); Pub 28's rural routes
and PO boxes, ordinal words and a fraction's slash (``123 1/2``) come from
``street_words``. Other countries are folded as names (umlauts, ø and å bare
or written out, DIN 5007-2 and ICAO 9303), their street lines made one
canonical line by ``intl_street`` (street types written out per country by
``street_types``; units, Australia Post's ``3/12``, Canada Post's
``12-345`` and French types, German house numbers), postal codes compared
without spaces, hyphens or case, and regions by ISO 3166-2 code where the
name or code is known. No fold joins two places: ``3/12`` is never ``312``,
``12-345`` never ``12345``, another unit never matches. Countries compare
by ISO code: "United Kingdom", "UK", "GB" and "gb" are one country; a blank
stated country is the default.

Speed: a check compares cheap token-wise Pub 28 keys (the street lines in
either order, a unit said number first or before the street, ``#`` for its
designator, ordinals dropped) and calls usaddress's tagger on the street
lines alone only when those differ in the street lines and hold the same
letters from the same house number on, i.e. words reordered within the
street itself: a rare statement that the tagger seldom reconciles
(``benchmarks/bench_checks.py`` counts and times it). The on-file side is
cached, being a pure function of a frozen value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import astuple, dataclass, replace
from functools import lru_cache
from typing import Any

import pycountry
from scourgify.address_constants import (
    CITY_ABBREVIATIONS,
    STATE_ABBREVIATIONS,
)

from verification.errors import InputError, echo
from verification.intl_street import street_line
from verification.names import fold, may_have_umlauts
from verification.us_street import first_word, line_key, street_signature, tagged_key, us_street

US = "US"

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
    return _canonical(addr, _stated_country(addr, default_country))


def _stated_country(addr: Address, default_country: str) -> str:
    """The country of a statement. Raises InputError for a blank address or
    an unknown country."""
    if addr.is_blank():
        raise InputError("enter the caller's address")
    return country_code(addr.country, default_country)


def normalize_address(addr: Address, default_country: str) -> str:
    """The stated address in canonical form as one line. Raises InputError."""
    return render(canonical_address(addr, default_country))


def check_address(stated: Address, on_file: Address, default_country: str) -> tuple[str, bool]:
    """The normalized stated address and whether it matches the one on file.

    Raises InputError (a blank address, an unknown country); nothing on file
    can make it raise.
    """
    my_forms = _forms(stated, _stated_country(stated, default_country))
    mine = my_forms[0]
    my_keys = _keys(my_forms)
    theirs, their_keys = _on_file_keys(on_file, default_country)
    if _covers(my_keys, their_keys):
        return render(mine), True
    if mine.country != US or theirs.country != US:
        return render(mine), False
    # The tagger can only reconcile street lines that hold the same words in
    # another order, and reads a street address only when it starts with its
    # house number; anything else is a mismatch already (see us_street.street_signature).
    if not _covers((my_keys[0], *my_keys[1:]), (frozenset(), *their_keys[1:])):
        return render(mine), False
    if not {street_signature(k) for k in my_keys[0]} & {street_signature(k) for k in their_keys[0]}:
        return render(mine), False
    if not {first_word(k) for k in my_keys[0]} & {first_word(k) for k in their_keys[0]}:
        return render(mine), False
    parsed = _parsed_us_street(stated)
    return render(mine), parsed is not None and parsed == _on_file_parsed(on_file)


def match_address(stated: Address, on_file: Address, default_country: str) -> bool:
    """Whether the stated address is the one on file. Raises InputError."""
    return check_address(stated, on_file, default_country)[1]


Keys = tuple[frozenset[str], ...]


def _covers(stated: Keys, on_file: Keys) -> bool:
    """Every component on file is stated alike (in some form); a stated extra
    (a region the record lacks) is no reason to fail a caller."""
    return all(
        not (theirs - {""}) or bool(mine & theirs)
        for mine, theirs in zip(stated, on_file, strict=True)
    )


def _keys(forms: tuple[Address, ...]) -> Keys:
    """What each component is compared by: the set of its values over the
    forms of one address (lines swapped, umlauts bare or written out), a US
    street line by its unit-tolerant key."""
    fields = tuple(frozenset(values) for values in zip(*map(astuple, forms), strict=True))
    if forms[0].country == US:
        fields = (frozenset(map(line_key, fields[0])), *fields[1:])
    return fields


def _forms(addr: Address, country: str) -> tuple[Address, ...]:
    """The canonical forms of one address: as given and with its street lines
    swapped; outside the US also with umlauts written out (DIN 5007-2)."""
    variants = [addr, _swap(addr)] if _has_two_lines(addr) else [addr]
    written_out = country != US and any(map(may_have_umlauts, astuple(addr)))
    umlauts = (False, True) if written_out else (False,)
    return tuple(
        dict.fromkeys(_canonical(v, country, expand_umlauts=e) for v in variants for e in umlauts)
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


def _canonical(addr: Address, country: str, *, expand_umlauts: bool = False) -> Address:
    if country == US:
        return Address(
            line1=us_street(f"{addr.line1} {addr.line2}"),
            city=" ".join(CITY_ABBREVIATIONS.get(t, t) for t in fold(addr.city).upper().split()),
            region=_us_state(addr.region),
            postal_code=_zip5(addr.postal_code),
            country=US,
        )
    return Address(
        line1=street_line(country, addr.line1, addr.line2, expand_umlauts=expand_umlauts),
        city=fold(addr.city, expand_umlauts=expand_umlauts),
        region=_region_code(country, addr.region, expand_umlauts=expand_umlauts),
        postal_code="".join(ch for ch in fold(addr.postal_code) if ch.isalnum()).upper(),
        country=country,
    )


@lru_cache(maxsize=4096)
def _on_file_keys(addr: Address, default_country: str) -> tuple[Address, Keys]:
    """The on-file address in canonical form, and its keys."""
    # Lenient: a country on file that names nothing is kept as text, so it
    # simply matches no statement instead of raising at the agent.
    try:
        country = country_code(addr.country, default_country)
    except InputError:
        country = fold(addr.country).upper()
    forms = _forms(addr, country)
    return forms[0], _keys(forms)


def _has_two_lines(addr: Address) -> bool:
    return bool(addr.line1.strip() and addr.line2.strip())


def _swap(addr: Address) -> Address:
    """The address with its street lines the other way round: callers give the
    unit before or after the street, on either line."""
    return replace(addr, line1=addr.line2, line2=addr.line1)


@lru_cache(maxsize=4096)
def _on_file_parsed(addr: Address) -> str | None:
    return _parsed_us_street(addr)


def _parsed_us_street(addr: Address) -> str | None:
    return tagged_key(f"{addr.line1} {addr.line2}")


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


def _region_code(country: str, text: str, *, expand_umlauts: bool = False) -> str:
    index = _subdivision_index(country)
    bare = fold(text)
    written = fold(text, expand_umlauts=True) if may_have_umlauts(text) else bare
    code = index.get(bare) or index.get(written)
    return code or (written if expand_umlauts else bare)


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
            index.setdefault(fold(key, expand_umlauts=True), code)
    return index
