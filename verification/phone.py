"""Phone numbers: parsed with phonenumbers and compared in E.164.

A stated number is read in the region of the number on file; whether it is a
phone number at all is judged without the record (``check_phone``): text
that is a valid number in some region is a miss, not an input error, when
it is not the number on file, so the answer never tells the caller the
country on file. That judgement asks for a valid number (phonenumbers'
metadata): a merely possible one ("12" in Germany) is no phone number.
"""

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
    e164 = _e164(stripped, region)
    if e164 is None:
        raise InputError(f"not a phone number: {echo(stripped)}")
    return e164


def match_phone(stated: str, on_file_e164: str, default_region: str | None = None) -> bool:
    """Whether the stated number is the number on file.

    National formats are read in the region of the number on file (so
    ``020 7946 0000`` works for a UK account); ``default_region`` serves only
    when the number on file has no region of its own. Raises InputError.
    """
    return check_phone(stated, on_file_e164, default_region)[1]


def check_phone(stated: str, on_file_e164: str, default_region: str | None) -> tuple[str, bool]:
    """The normalized statement and whether it is the number on file.

    Read in the region of the number on file, as ``match_phone`` reads it.
    Whether a statement other than the number on file is a phone number at
    all does not depend on the record: text that is a valid number in no
    region is an InputError; a valid number of some region that is not the
    one on file is a miss (its digits recorded when the region on file
    cannot read it).
    """
    text = stated.strip()
    if not text:
        raise InputError("enter the caller's phone number")
    number = _parse(text, region_of(on_file_e164) or default_region)
    e164 = "" if number is None else phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if e164 and e164 == on_file_e164:
        # The number on file itself, even where phonenumbers' metadata has
        # not caught up with its range: a match reveals only what was stated.
        return e164, True
    valid_here = number is not None and phonenumbers.is_valid_number(number)
    if not valid_here and not _valid_somewhere(text):
        raise InputError(f"not a phone number: {echo(text)}")
    return e164 or "".join(ch for ch in text if ch.isdigit() and ch.isascii()), False


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """The possible number the text reads as in ``region``, or None.

    A number whose E.164 form reads back as another number (runs of zeros
    after a national prefix) is none: its normalized form would not be stable.
    """
    try:
        number = phonenumbers.parse(text, region)
        if not phonenumbers.is_possible_number(number):
            return None
        if not number.italian_leading_zero:
            return number  # no leading zeros: the E.164 form reads back as itself
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        again = phonenumbers.parse(e164, None)
    except Exception:  # NumberParseException, or the regexes tripping on odd Unicode
        return None
    if phonenumbers.format_number(again, PhoneNumberFormat.E164) != e164:
        return None
    return number


def _e164(text: str, region: str | None) -> str | None:
    number = _parse(text, region)
    return None if number is None else phonenumbers.format_number(number, PhoneNumberFormat.E164)


@lru_cache(maxsize=1024)
def _valid_somewhere(text: str) -> bool:
    """Whether the text reads as a valid number in at least one region.

    Reached only when it is no valid number of the region on file. A number
    given with its country code reads the same everywhere: one try.
    """
    regions = (None,) if text.startswith("+") else _regions()
    for region in regions:
        number = _parse(text, region)
        if number is not None and phonenumbers.is_valid_number(number):
            return True
    return False


@lru_cache(maxsize=1)
def _regions() -> tuple[str, ...]:
    return tuple(sorted(phonenumbers.SUPPORTED_REGIONS))


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


def display_phone(e164: str) -> str:
    """A number on file written to be dialled (``+1 425-555-0100``); E.164 as is if unparsable.

    Only the callback step shows a whole number (PRODUCT.md section 5).
    """
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
