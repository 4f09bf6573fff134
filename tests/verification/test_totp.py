"""The second factor's code rule (``verification.totp``) against RFC 6238."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from verification.totp import accepted_step, code_at, provisioning_uri, time_step

# RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 11, 26, 14, 0, 10, tzinfo=UTC)


@pytest.mark.parametrize(("unix", "code"), RFC_VECTORS)
def test_the_code_function_gives_rfc_6238s_test_vectors(unix: int, code: str) -> None:
    moment = datetime.fromtimestamp(unix, UTC)
    assert code_at(RFC_SECRET, time_step(moment), digits=8) == code


def test_one_step_either_side_is_accepted_and_no_step_twice() -> None:
    step = time_step(NOW)
    assert accepted_step(SECRET, code_at(SECRET, step), NOW, None) == step
    assert accepted_step(SECRET, code_at(SECRET, step - 1), NOW, None) == step - 1
    assert accepted_step(SECRET, code_at(SECRET, step + 1), NOW, None) == step + 1
    assert accepted_step(SECRET, code_at(SECRET, step - 2), NOW, None) is None
    assert accepted_step(SECRET, code_at(SECRET, step + 2), NOW, None) is None
    # Replays: the step accepted last, or one before it, is refused.
    assert accepted_step(SECRET, code_at(SECRET, step), NOW, step) is None
    assert accepted_step(SECRET, code_at(SECRET, step - 1), NOW, step - 1) is None
    assert accepted_step(SECRET, code_at(SECRET, step + 1), NOW, step) == step + 1
    # As apps show it, "123 456"; anything but six digits is no code.
    spaced = code_at(SECRET, step)
    assert accepted_step(SECRET, f"{spaced[:3]} {spaced[3:]}", NOW, None) == step
    for junk in ("", "12345", "1234567", "12345a", spaced + "0"):
        assert accepted_step(SECRET, junk, NOW, None) is None
    assert time_step(NOW + timedelta(seconds=30)) == step + 1


def test_the_uri_names_the_issuer_the_account_and_the_secret() -> None:
    uri = provisioning_uri(SECRET, "sue")
    assert uri.startswith("otpauth://totp/callgate%3Asue?secret=" + SECRET)
    assert "issuer=callgate" in uri and "digits=6" in uri and "period=30" in uri
