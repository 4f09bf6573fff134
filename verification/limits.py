"""What a stated value may be, judged without looking at the record on file.

One home for the sizes of values: the shortest support PIN and the longest
value of each field that can be on file (``db.models`` sizes its columns
from these, and the import refuses longer values). ``screen_stated`` turns a
statement that no record could match into an InputError before any check
runs, so that an input error never depends on what is on file (PRODUCT.md
section 4): a 5,000-character name is "longer than any name on file" for
every tenant, not a counted miss for some.

Lengths count code points after NFC and collapsing white space, as the
import stores values. A stated spelling longer than its column (a 100-letter
name read out with every "ü" as "ue") is refused rather than matched: no
real value comes close.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from verification.errors import InputError
from verification.kinds import Item

# The import refuses shorter PINs, so a shorter statement matches no record.
MIN_PIN_LENGTH = 4

MAX_USER_ID_LENGTH = 320  # RFC 5321's 64 + 1 + 255
MAX_NAME_LENGTH = 100  # each of the contact's first and last name
MAX_ORGANIZATION_LENGTH = 200
MAX_ADDRESS_LINE_LENGTH = 200
MAX_CITY_LENGTH = 100
MAX_REGION_LENGTH = 100
MAX_POSTAL_CODE_LENGTH = 20
# Stored as an ISO code, stated as a name: the longest English short name
# pycountry lists is under 60 characters.
MAX_COUNTRY_LENGTH = 100

# Per item and field. The phone and PIN have no stored text to bound them:
# the phone parser refuses over-long input itself, and a PIN is only hashed.
MAX_FIELD_LENGTHS: Mapping[Item, Mapping[str, int]] = {
    Item.USER_ID: {"value": MAX_USER_ID_LENGTH},
    Item.CONTACT_NAME: {"first": MAX_NAME_LENGTH, "last": MAX_NAME_LENGTH},
    Item.ORGANIZATION: {"value": MAX_ORGANIZATION_LENGTH},
    Item.ADDRESS: {
        "line1": MAX_ADDRESS_LINE_LENGTH,
        "line2": MAX_ADDRESS_LINE_LENGTH,
        "city": MAX_CITY_LENGTH,
        "region": MAX_REGION_LENGTH,
        "postal_code": MAX_POSTAL_CODE_LENGTH,
        "country": MAX_COUNTRY_LENGTH,
    },
}

_WHAT = {
    Item.USER_ID: "user ID",
    Item.CONTACT_NAME: "name",
    Item.ORGANIZATION: "organization name",
    Item.ADDRESS: "address field",
}
# White space a paste may carry; folding reads it as a space.
_WHITE_CONTROLS = frozenset("\t\n\r")


def screen_stated(item: Item, stated: Mapping[str, str]) -> None:
    """Raise InputError when a statement could match no record at all.

    Refused: control characters (NUL, escape sequences; tab and newline are
    white space) and lone surrogates in any field, which no stored value
    holds and which the database and terminal cannot take; a value longer
    than its field can be on file. The message never quotes the offending
    characters.
    """
    for text in stated.values():
        if _has_forbidden(text):
            raise InputError("the answer contains a control character: type it again")
    for field, limit in MAX_FIELD_LENGTHS.get(item, {}).items():
        if stated_length(stated.get(field, "")) > limit:
            raise InputError(
                f"longer than any {_WHAT[item]} on file can be ({limit} characters): type it again"
            )


def stated_length(text: str) -> int:
    """The length of a value as the import would store it."""
    return len(" ".join(unicodedata.normalize("NFC", text).split()))


def _has_forbidden(text: str) -> bool:
    # Most statements are short printable ASCII: skip the per-character scan.
    if text.isascii() and text.isprintable():
        return False
    return any(
        unicodedata.category(ch) in ("Cc", "Cs") and ch not in _WHITE_CONTROLS for ch in text
    )
