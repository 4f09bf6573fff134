"""Hypothesis properties for every normalizer.

On any text (control characters, 10,000-character strings, mixed scripts)
only the project's InputError escapes; normalizing twice changes nothing; a
value always matches itself; matching is symmetric.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, replace
from typing import TypeVar

import phonenumbers
from email_validator import validate_email
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat

from verification.address import Address, canonical_address, check_address, match_address
from verification.checks import OnFile, check_item
from verification.errors import InputError
from verification.items import ITEM_SPECS
from verification.kinds import Item
from verification.names import fold_name, match_name
from verification.organization import match_organization, normalize_organization
from verification.phone import match_phone, normalize_phone
from verification.pin import normalize_pin
from verification.userid import match_user_id, normalize_user_id, plain_user_id

T = TypeVar("T")

PHONE_REGIONS = ["US", "GB", "DE", "FR", "IN", "JP", "BR", "AU"]

# Scripts and marks mixed in one string, plus the punctuation the rules treat.
MIXED = st.text(
    alphabet=st.sampled_from(
        [*"aZé ñ-’'.,&#/Jöß", "\u0301", "字", "ж", "ع", "ह", "\u200d", "\t", "\x00", "Ⅸ", "ﬁ"]
    ),
    max_size=40,
)
LONG = st.text(min_size=1, max_size=12).map(lambda s: (s * 10_000)[:10_000])
ANY_TEXT = st.one_of(st.text(), MIXED, LONG)

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def variant(text: str) -> st.SearchStrategy[str]:
    """The same text as a caller might state it differently (case, spacing)."""
    return st.sampled_from([text, text.upper(), text.lower(), f"  {text} ", text.swapcase()])


def pairs(values: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, str]]:
    """Two unrelated values, or one value and a variant of it."""
    return st.one_of(
        st.tuples(values, values),
        values.flatmap(lambda v: st.tuples(st.just(v), variant(v))),
    )


def attempt(normalize: Callable[[str], T], text: str) -> T | None:
    """The normalized form, or None for an input error (any other error fails)."""
    try:
        return normalize(text)
    except InputError:
        return None


# --- names ------------------------------------------------------------------------


@SETTINGS
@given(ANY_TEXT)
@example("ǅemal")
@example("ŉ")
def test_name_folding_is_total_and_idempotent(text: str) -> None:
    folded = attempt(fold_name, text)
    if folded is not None:
        assert fold_name(folded) == folded
        assert match_name(text, text)
        assert match_name(folded, text)


@SETTINGS
@given(pairs(ANY_TEXT))
def test_name_matching_is_symmetric(pair: tuple[str, str]) -> None:
    a, b = pair
    assume(attempt(fold_name, a) is not None and attempt(fold_name, b) is not None)
    assert match_name(a, b) == match_name(b, a)


@SETTINGS
@given(MIXED)
def test_name_matching_ignores_case(text: str) -> None:
    assume(attempt(fold_name, text) is not None)
    assert match_name(text.upper(), text) == match_name(text, text.upper())


# --- organizations ------------------------------------------------------------------


ORG = st.one_of(
    ANY_TEXT,
    st.tuples(MIXED, st.sampled_from(["Ltd", "L.L.C.", "Pty Ltd", "& Co", "S.A. de C.V.", ""])).map(
        " ".join
    ),
)


@SETTINGS
@given(ORG)
@example("Limited Ltd")
@example("Co Ltd")
def test_organization_is_total_and_idempotent(text: str) -> None:
    normalized = attempt(normalize_organization, text)
    if normalized is not None:
        assert normalize_organization(normalized) == normalized
        assert match_organization(text, text)


@SETTINGS
@given(pairs(ORG))
def test_organization_matching_is_symmetric(pair: tuple[str, str]) -> None:
    a, b = pair
    assume(attempt(normalize_organization, a) and attempt(normalize_organization, b))
    assert match_organization(a, b) == match_organization(b, a)


# --- user IDs -----------------------------------------------------------------------


USER_IDS = st.one_of(ANY_TEXT, st.emails(), st.emails().map(str.upper))


@SETTINGS
@given(USER_IDS)
def test_user_id_is_total_and_idempotent(text: str) -> None:
    normalized = attempt(normalize_user_id, text)
    if normalized is not None:
        assert normalize_user_id(normalized) == normalized
        assert match_user_id(text, normalized)


@SETTINGS
@given(pairs(st.emails()))
def test_user_id_matching_is_symmetric(pair: tuple[str, str]) -> None:
    a, b = pair
    na, nb = attempt(normalize_user_id, a), attempt(normalize_user_id, b)
    assume(na is not None and nb is not None)
    assert match_user_id(a, nb) == match_user_id(b, na)


@SETTINGS
@given(st.emails())
def test_user_id_ignores_case_and_surrounding_space(email: str) -> None:
    assume(attempt(normalize_user_id, email) is not None)
    assert match_user_id(f"  {email.upper()} ", normalize_user_id(email))


# --- phones -------------------------------------------------------------------------


PHONE_TEXT = st.one_of(ANY_TEXT, st.from_regex(r"\A\+?[0-9 ()\-.]{1,20}( ext\.? ?[0-9]{1,4})?\Z"))


@SETTINGS
@given(PHONE_TEXT, st.sampled_from(PHONE_REGIONS))
@example("000000", "DE")  # read back as +490000 once: no number
def test_phone_is_total_and_idempotent(text: str, region: str) -> None:
    e164 = attempt(lambda t: normalize_phone(t, region), text)
    if e164 is not None:
        assert normalize_phone(e164, region) == e164
        assert match_phone(e164, e164)


def formats(region: str) -> list[str]:
    number = phonenumbers.example_number(region)
    assert number is not None
    return [
        phonenumbers.format_number(number, fmt)
        for fmt in (
            PhoneNumberFormat.E164,
            PhoneNumberFormat.NATIONAL,
            PhoneNumberFormat.INTERNATIONAL,
        )
    ]


STATED_PHONES = st.sampled_from(PHONE_REGIONS).flatmap(lambda r: st.sampled_from(formats(r)))


@SETTINGS
@given(STATED_PHONES, st.sampled_from(PHONE_REGIONS))
def test_phone_normalizing_twice_gives_the_same_number(stated: str, region: str) -> None:
    # Random text rarely parses as a number, so idempotence is checked on real ones.
    e164 = attempt(lambda t: normalize_phone(t, region), stated)
    assume(e164 is not None)
    assert normalize_phone(e164, region) == e164
    assert match_phone(e164, e164)


@SETTINGS
@given(STATED_PHONES, STATED_PHONES)
def test_phone_matching_is_symmetric(a: str, b: str) -> None:
    # Each side's E.164 is what the other would have on file.
    ea = normalize_phone(a, None) if a.startswith("+") else None
    eb = normalize_phone(b, None) if b.startswith("+") else None
    assume(ea is not None and eb is not None)
    assert match_phone(a, eb) == match_phone(b, ea)


@SETTINGS
@given(ANY_TEXT, st.sampled_from(["+14255550100", "+442079460000", "+80012345678", "", "junk"]))
def test_phone_match_raises_only_input_errors(text: str, on_file: str) -> None:
    attempt(lambda t: match_phone(t, on_file, default_region="US"), text)


# --- PINs ---------------------------------------------------------------------------


@SETTINGS
@given(ANY_TEXT)
def test_pin_is_total_and_idempotent(text: str) -> None:
    pin = attempt(normalize_pin, text)
    if pin is not None:
        assert normalize_pin(pin) == pin


# --- addresses ----------------------------------------------------------------------


FIELD = st.one_of(
    st.text(max_size=30),
    MIXED,
    st.sampled_from(["123 North Main Street", "Suite 400", "Ste 400", "PO Box 12", "1 12th Ave"]),
)
COUNTRY = st.sampled_from(["", "US", "usa", "United Kingdom", "UK", "gb", "CA", "Germany"])
ADDRESSES = st.builds(
    Address,
    line1=FIELD,
    line2=FIELD,
    city=st.one_of(FIELD, st.sampled_from(["Springfield", "St. Louis", "London"])),
    region=st.one_of(FIELD, st.sampled_from(["IL", "Illinois", "ON", "England"])),
    postal_code=st.one_of(FIELD, st.sampled_from(["62704", "62704-1234", "SW1A 2AA"])),
    country=st.one_of(COUNTRY, st.text(max_size=10)),
)
DEFAULT = st.sampled_from(["US", "GB"])


def _canonical(addr: Address, default: str) -> Address | None:
    return attempt(lambda _: canonical_address(addr, default), "")


@SETTINGS
@given(ADDRESSES, DEFAULT)
def test_address_is_total_and_idempotent(addr: Address, default: str) -> None:
    canonical = _canonical(addr, default)
    if canonical is not None:
        assert canonical_address(canonical, default) == canonical
        assert match_address(addr, addr, default)


def _filled(addr: Address) -> tuple[bool, ...]:
    return tuple(bool(part) for part in astuple(addr))


@SETTINGS
@given(ADDRESSES, ADDRESSES, DEFAULT)
def test_address_matching_is_symmetric(a: Address, b: Address, default: str) -> None:
    # Matching is deliberately one-sided only where a component is blank on one
    # side (what is on file must be stated; a stated extra is ignored), so
    # symmetry holds between addresses with the same components filled.
    ca, cb = _canonical(a, default), _canonical(b, default)
    assume(ca is not None and cb is not None and _filled(ca) == _filled(cb))
    assert match_address(a, b, default) == match_address(b, a, default)


@SETTINGS
@given(ADDRESSES, DEFAULT, st.sampled_from(["region", "postal_code"]), FIELD)
def test_a_stated_extra_component_never_turns_a_match_into_a_miss(
    addr: Address, default: str, field: str, extra: str
) -> None:
    assume(_canonical(addr, default) is not None and not getattr(addr, field).strip())
    on_file = addr
    stated = replace(addr, **{field: extra})
    assume(_canonical(stated, default) is not None)
    assert match_address(stated, on_file, default)


@SETTINGS
@given(ADDRESSES, DEFAULT)
def test_address_with_lines_swapped_is_symmetric_through_the_parser(
    addr: Address, default: str
) -> None:
    # Swapped lines reach the street parser with whatever text was generated.
    swapped = Address(
        addr.line2, addr.line1, addr.city, addr.region, addr.postal_code, addr.country
    )
    assume(_canonical(addr, default) is not None)
    assert match_address(addr, swapped, default) == match_address(swapped, addr, default)


@SETTINGS
@given(ADDRESSES, ADDRESSES, DEFAULT)
def test_address_check_raises_only_input_errors(a: Address, b: Address, default: str) -> None:
    attempt(lambda _: check_address(a, b, default), "")


@SETTINGS
@given(LONG, DEFAULT)
def test_address_survives_huge_fields(text: str, default: str) -> None:
    huge = Address(text, text, text, text, text, "")
    attempt(lambda _: check_address(huge, huge, default), "")


# --- the desk's entry point -----------------------------------------------------------


ON_FILE = OnFile(
    user_id="ana.perez@contoso.com",
    phone_e164="+14255550100",
    contact_first="José",
    contact_last="Pérez",
    organization="Contoso, Ltd.",
    address=Address("123 N Main St", "Ste 400", "Springfield", "IL", "62704", "US"),
)
FIELD_NAMES = sorted({name for spec in ITEM_SPECS.values() for name in spec.fields})


@SETTINGS
@given(
    st.sampled_from([item for item in Item if item is not Item.PIN]),
    st.dictionaries(st.sampled_from(FIELD_NAMES), ANY_TEXT),
)
def test_check_item_raises_only_input_errors(item: Item, stated: dict[str, str]) -> None:
    try:
        verdict = check_item(item, stated, ON_FILE, "US")
    except InputError as error:
        # The agent may see what was typed, never what is on file.
        assert "0100" not in str(error) or "0100" in "".join(stated.values())
    else:
        assert verdict.item is item


EMAIL_TOKENS = [*"abcXYZ019.-_+'!@é", "--", "xn--", ".test", ".com", "..", "a" * 63]
EMAILISH = st.lists(st.sampled_from(EMAIL_TOKENS), max_size=30).map("".join)


@SETTINGS
@given(st.one_of(EMAILISH, st.emails().map(str)))
@example("ana@contoso.test")
@example("ana@mail.localhost")
@example("ana@xn--zz.example.com")
@example("ana@ab--cd.example.com")
@example("Ana.Perez@Contoso.COM")
def test_the_plain_user_id_path_agrees_with_email_validator(text: str) -> None:
    plain = plain_user_id(text)
    if plain is None:
        return  # the library alone judges it
    result = validate_email(text, check_deliverability=False)
    assert result.normalized.lower() == plain
