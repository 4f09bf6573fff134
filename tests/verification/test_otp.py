"""One-time codes: expiry, tries, resend limits (injected times), hashing and masks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from verification.errors import InputError
from verification.hashing import verify_secret
from verification.otp import (
    MAX_RESENDS,
    MAX_TRIES,
    RESEND_GAP,
    VALID_FOR,
    Channel,
    CodeRefused,
    CodeSend,
    CodeState,
    CodeTry,
    masked,
    new_code,
    normalize_code,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CODE, HASH = new_code()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def sent(*offsets: timedelta) -> list[CodeSend]:
    return [CodeSend(T0 + o, HASH) for o in offsets]


def test_a_code_is_six_digits_stored_only_as_its_hash() -> None:
    codes = [new_code() for _ in range(5)]
    for code, hashed in codes:
        assert len(code) == 6 and code.isdigit()
        assert code not in hashed
        assert verify_secret(code, hashed)
    assert len({c for c, _ in codes}) > 1


def test_the_code_matches_until_it_expires() -> None:
    state = CodeState(sent(timedelta(0)), [])
    assert state.check(CODE, T0 + VALID_FOR - timedelta(seconds=1))
    assert state.check(f"{CODE[:3]} {CODE[3:]}", T0)
    assert not state.check(wrong(CODE), T0)
    with pytest.raises(CodeRefused, match="expired"):
        state.check(CODE, T0 + VALID_FOR)


def test_a_resend_voids_the_previous_code() -> None:
    other, other_hash = new_code()
    state = CodeState([CodeSend(T0, HASH), CodeSend(T0 + RESEND_GAP, other_hash)], [])
    now = T0 + RESEND_GAP
    assert state.check(other, now)
    assert other == CODE or not state.check(CODE, now)


def test_five_tries_in_all_then_none() -> None:
    tries = [CodeTry(T0 + timedelta(seconds=i), False) for i in range(MAX_TRIES - 1)]
    state = CodeState(sent(timedelta(0)), tries)
    assert state.tries_left == 1
    assert state.try_refusal(T0) is None
    state = CodeState(sent(timedelta(0)), [*tries, CodeTry(T0, False)])
    assert state.tries_left == 0
    with pytest.raises(CodeRefused, match="no tries left"):
        state.check(CODE, T0)
    assert state.send_refusal(T0 + timedelta(hours=1)) is not None


def test_resend_every_30_seconds_at_most_three_times() -> None:
    assert CodeState([], []).send_refusal(T0) is None
    state = CodeState(sent(timedelta(0)), [])
    assert state.send_refusal(T0 + RESEND_GAP - timedelta(seconds=1)) == "resend possible in 1 s"
    assert state.send_refusal(T0 + timedelta(seconds=5)) == "resend possible in 25 s"
    assert state.send_refusal(T0 + RESEND_GAP) is None
    offsets = [RESEND_GAP * i for i in range(MAX_RESENDS + 1)]
    assert CodeState(sent(*offsets[:-1]), []).send_refusal(T0 + timedelta(hours=1)) is None
    full = CodeState(sent(*offsets), [])
    assert "resent 3 times" in (full.send_refusal(T0 + timedelta(hours=1)) or "")


def test_confirmed_is_proven_and_ends_the_exchange() -> None:
    state = CodeState(sent(timedelta(0)), [CodeTry(T0, False), CodeTry(T0, True)])
    assert state.proven
    assert state.send_refusal(T0 + timedelta(hours=1)) == "the code was already confirmed"
    with pytest.raises(CodeRefused):
        state.check(CODE, T0)
    assert not CodeState(sent(timedelta(0)), [CodeTry(T0, False)]).proven


def test_no_code_sent_cannot_be_tried() -> None:
    with pytest.raises(CodeRefused, match="no code sent"):
        CodeState([], []).check(CODE, T0)


def test_a_new_verification_voids_the_code_of_the_last_but_keeps_the_counts() -> None:
    # Round one: a code sent, one wrong try, then the right one.
    tries = [CodeTry(T0 + timedelta(minutes=1), False), CodeTry(T0 + timedelta(minutes=2), True)]
    since = T0 + timedelta(minutes=31)  # the items were asked again
    state = CodeState(sent(timedelta(0)), tries, since)
    assert not state.proven and not state.sent
    assert state.tries_left == MAX_TRIES - 2
    assert state.send_refusal(since) is None
    with pytest.raises(CodeRefused, match="no code sent in this verification"):
        state.check(CODE, since)
    # A code sent in round one is void in round two, even within its 10 minutes.
    late = CodeState(sent(timedelta(minutes=28)), [], since)
    with pytest.raises(CodeRefused, match="no code sent in this verification"):
        late.check(CODE, since)
    # Resends stay counted over the call.
    spent = CodeState(sent(*(RESEND_GAP * n for n in range(4))), [], since)
    assert "resent 3 times" in (spent.send_refusal(since) or "")


@pytest.mark.parametrize("text", ["", "  ", "12345", "1234567", "12345a", "١٢٣٤٥٦"])
def test_text_that_is_no_code_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError):
        normalize_code(text)


def test_masked_destinations() -> None:
    assert masked(Channel.SMS, "+14255550100") == "•••0100"
    assert masked(Channel.EMAIL, "ana.perez@contoso.com") == "a•••@contoso.com"
    assert masked(Channel.EMAIL, "not-an-address") == "•••"
