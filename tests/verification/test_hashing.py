"""Secrets: salted scrypt, self-describing, verified in constant time."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest

from verification.errors import InputError
from verification.hashing import hash_secret, verify_secret
from verification.pin import hash_pin, match_pin, normalize_pin


def test_hash_verifies_only_its_secret() -> None:
    hashed = hash_secret("correct horse")
    assert verify_secret("correct horse", hashed)
    assert not verify_secret("correct horsE", hashed)


def test_hash_is_salted_and_self_describing() -> None:
    first, second = hash_secret("1234"), hash_secret("1234")
    assert first != second
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
    assert salt and digest


def test_parameters_are_read_from_the_hash() -> None:
    # A hash made with other (cheaper) parameters still verifies.
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"pw", salt=salt, n=2**10, r=8, p=1, dklen=32)
    old = "$".join(
        [
            "scrypt",
            "1024",
            "8",
            "1",
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )
    assert verify_secret("pw", old)
    assert not verify_secret("px", old)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "plain",
        "scrypt$x$8$1$AA==$AA==",
        "scrypt$1000$8$1$AA==$AA==",
        "scrypt$1024$8$1$!!$AA==",
        "scrypt$1048576$1024$1$AA==$AA==",
        "bcrypt$1024$8$1$AA==$AA==",
    ],
)
def test_malformed_hash_matches_nothing(bad: str) -> None:
    assert not verify_secret("anything", bad)


def test_hashing_takes_at_most_about_fifty_milliseconds() -> None:
    started = time.perf_counter()
    hash_secret("1234")
    # Generous bound for a shared machine: the point is "not seconds".
    assert time.perf_counter() - started < 0.5


def test_empty_secret_is_refused() -> None:
    with pytest.raises(InputError):
        hash_secret("")


def test_pin_grouping_is_not_part_of_the_secret() -> None:
    hashed = hash_pin("1234 5678")
    assert match_pin("1234-5678", hashed)
    assert match_pin("12345678", hashed)
    assert not match_pin("12345679", hashed)


def test_blank_pin_is_an_input_error() -> None:
    with pytest.raises(InputError, match="PIN"):
        normalize_pin(" - ")
