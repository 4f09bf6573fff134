"""Phone numbers: parsed with phonenumbers and compared in E.164."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from verification.errors import InputError, echo

# Non-geographic numbers (+800 …) report this pseudo-region, which cannot
# serve as the default region for parsing a national format.
_NON_GEOGRAPHIC = "001"
# The plain North American shape nearly every US or Canadian number on file
# has: "(425) 555-0100", "425-555-0100", "425.555.0100", "4255550100". Read
# in those regions, phonenumbers makes every such text +1 and its ten digits
# (an area code never starts with 0 or 1, so no national prefix is
# stripped), so these skip its parser, most of an import's time; a property
# test holds the two paths to the same answers.
_NANP_PLAIN = re.compile(r"(?:\(([2-9]\d\d)\) ?|([2-9]\d\d)[ .-]?)(\d{3})[ .-]?(\d{4})", re.ASCII)
_NANP_REGIONS = frozenset({"US", "CA"})


def normalize_phone(text: str, region: str | None) -> str:
    """The E.164 form of a stated phone number; extensions are dropped.

    ``region`` (ISO 3166 alpha-2) is how national formats are read; a number
    given with ``+`` or ``00`` needs none. Raises InputError when the text is
    not a possible phone number.
    """
    stripped = text.strip()
    if not stripped:
        raise InputError("enter the caller's phone number")
    if region in _NANP_REGIONS:
        plain = _NANP_PLAIN.fullmatch(stripped)
        if plain is not None:
            area, area_bare, exchange, line = plain.groups()
            return f"+1{area or area_bare}{exchange}{line}"
    return _parsed(stripped, region)


def _parsed(stripped: str, region: str | None) -> str:
    """``normalize_phone`` by the phonenumbers parser (every number it can read)."""
    try:
        number = phonenumbers.parse(stripped, region)
    except NumberParseException:
        raise InputError(f"not a phone number: {echo(stripped)}") from None
    except Exception:  # the parser's regexes may trip on odd Unicode; still an input error
        raise InputError(f"not a phone number: {echo(stripped)}") from None
    if not phonenumbers.is_possible_number(number):
        raise InputError(f"not a phone number: {echo(stripped)}")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def match_phone(stated: str, on_file_e164: str, default_region: str | None = None) -> bool:
    """Whether the stated number is the number on file.

    National formats are read in the region of the number on file (so
    ``020 7946 0000`` works for a UK account); ``default_region`` serves only
    when the number on file has no region of its own. Raises InputError.
    """
    region = region_of(on_file_e164) or default_region
    return normalize_phone(stated, region) == on_file_e164


@lru_cache(maxsize=4096)
def region_of(e164: str) -> str | None:
    """The ISO region of a number in E.164, or None when it has none."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    if region is None or region == _NON_GEOGRAPHIC:
        return None
    return str(region)


def last_four(e164: str) -> str:
    """The last four digits of a number: the hint a masked list may show."""
    digits = "".join(ch for ch in e164 if ch.isdigit())
    return digits[-4:]


def mask_phone(e164: str) -> str:
    """A phone number as masked views show it: its last four digits only."""
    return f"•••{last_four(e164)}" if e164 else ""
