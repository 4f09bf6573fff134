"""A whole address said in one line, split into the six address fields.

The agent may type (or paste) the address as the caller says it, parts
separated by commas: ``123 N Main St Ste 400, Springfield, IL 62704``. The
split only fills the fields the agent then sees and confirms with Enter; it
never judges anything (``checks.check_item`` does, on the fields).

The country is the last part when it names one (else the field stays blank:
the desk's default). US addresses are tagged by usaddress (the street with
its unit, city, state, ZIP, also without commas). Elsewhere the parts keep
the country's own order: the first part is the street line; the postal code
is the run of words holding digits at the start (``10117 Berlin``) or the
end (``London SE1 7PB``, ``Sydney NSW 2000``) of the last part that has one;
the words beside it are the city, minus a trailing region the country lists
(ISO 3166-2 code or name: ``NSW``, ``Tokyo``), and when nothing is beside it
the part before it is the city; parts between the street and the city are
line 2.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pycountry

from verification.address import US, country_code
from verification.errors import InputError

_LINE2_LABELS = ("Occupancy", "Subaddress", "BuildingName")
_CITY, _STATE, _ZIP = "PlaceName", "StateName", ("ZipCode", "ZipPlus4")


def whole_address(text: str) -> bool:
    """Whether ``text`` (typed in line 1) holds more than a street line: a comma."""
    return "," in text


def split_address(text: str, default_country: str) -> dict[str, str] | None:
    """The address fields read from one line, or None when no city can be read from it."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if len(parts) < 2:
        return None
    country_text, country = "", default_country.upper()
    try:
        code = country_code(parts[-1], default_country)
    except InputError:
        code = None
    if code is not None:
        country_text, country = parts.pop(), code
    fields = _us(parts) if country == US else _elsewhere(parts, country)
    if fields is None or not fields["city"]:
        return None
    return {**fields, "country": country_text}


def _us(parts: list[str]) -> dict[str, str] | None:
    import usaddress

    words: dict[str, list[str]] = {"line1": [], "line2": [], "city": [], "region": [], "zip": []}
    for token, label in usaddress.parse(", ".join(parts)):
        token = token.rstrip(",")
        if label.startswith(_LINE2_LABELS):
            words["line2"].append(token)
        elif label == _CITY:
            words["city"].append(token)
        elif label == _STATE:
            words["region"].append(token)
        elif label in _ZIP:
            words["zip"].append(token)
        elif label == "CountryName":
            continue
        elif words["city"] or words["zip"]:
            return None  # street words after the city: not an order usaddress read well
        else:
            words["line1"].append(token)
    fields = {name: " ".join(found) for name, found in words.items()}
    fields["postal_code"] = "-".join(words["zip"])
    del fields["zip"]
    return fields


def _elsewhere(parts: list[str], country: str) -> dict[str, str] | None:
    street, rest = parts[0], parts[1:]
    where = next((n for n in range(len(rest) - 1, -1, -1) if _postal_run(rest[n].split())[0]), None)
    if where is None:
        return None
    words = rest[where].split()
    postal_words, before = _postal_run(words)
    beside = words[: -len(postal_words)] if not before else words[len(postal_words) :]
    line2 = rest[:where]
    # A region alone beside the postal code only when a part before it can be the city.
    region, beside = _region(beside, country, alone=bool(line2))
    if beside:
        city = " ".join(beside)
    elif line2:
        city = line2.pop()
    else:
        return None
    return {
        "line1": street,
        "line2": ", ".join(line2),
        "city": city,
        "region": region,
        "postal_code": " ".join(postal_words),
    }


def _postal_run(words: list[str]) -> tuple[list[str], bool]:
    """The words holding digits at the end of ``words`` (else at the start), and whether first."""

    def digits(word: str) -> bool:
        return any(ch.isdigit() for ch in word)

    end = len(words)
    while end > 0 and digits(words[end - 1]):
        end -= 1
    if end < len(words):
        return words[end:], False
    start = 0
    while start < len(words) and digits(words[start]):
        start += 1
    return words[:start], True


def _region(words: list[str], country: str, *, alone: bool) -> tuple[str, list[str]]:
    """A trailing region the country lists (by code or name), and the words before it."""
    names = _subdivisions(country)
    for size in (3, 2, 1):
        if (len(words) > size or (alone and len(words) == size)) and " ".join(
            words[-size:]
        ).casefold() in names:
            return " ".join(words[-size:]), words[:-size]
    return "", words


@lru_cache(maxsize=64)
def _subdivisions(country: str) -> frozenset[str]:
    # pycountry's databases are untyped.
    subdivisions: Any = pycountry.subdivisions
    found = subdivisions.get(country_code=country) or ()
    return frozenset(
        name.casefold() for sub in found for name in (sub.code.split("-", 1)[-1], sub.name)
    )
