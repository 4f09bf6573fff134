"""Slow, salted hashes for secrets: support PINs and agent passphrases.

A hash is self-describing, ``scrypt$n$r$p$salt_b64$hash_b64``, so the cost can
be raised later without invalidating hashes already stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata

from verification.errors import InputError

# n=2**14, r=8 costs about 50 ms and 16 MiB: slow for a guesser, quick enough
# that checking a PIN never makes the agent wait.
_N = 2**14
_R = 8
_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
# Refuse stored parameters that would need more memory than this, so a
# corrupted or hostile hash string cannot exhaust the desk's memory.
_MAX_MEM = 64 * 1024 * 1024
# Likewise bound the parallelism, which multiplies the time a check takes.
_MAX_P = 16
_SCHEME = "scrypt"


def hash_secret(secret: str) -> str:
    """A salted scrypt hash of ``secret`` as a self-describing string."""
    if not secret:
        raise InputError("enter a secret")
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt, _N, _R, _P, _HASH_BYTES)
    return "$".join((_SCHEME, str(_N), str(_R), str(_P), _b64(salt), _b64(digest)))


def verify_secret(secret: str, hashed: str) -> bool:
    """Whether ``secret`` is the one ``hashed`` was made from (constant time).

    A malformed hash string matches nothing rather than raising: the caller
    can only be told "no".
    """
    parts = hashed.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return False
    if not expected or p > _MAX_P or 128 * n * r > _MAX_MEM:
        return False
    try:
        actual = _scrypt(secret, salt, n, r, p, len(expected))
    except ValueError:  # parameters scrypt refuses (n not a power of two, …)
        return False
    return hmac.compare_digest(actual, expected)


def derive_key(secret: str, salt_b64: str, n: int, r: int, p: int, length: int) -> str:
    """The base64 scrypt key of ``secret`` under stored parameters, as a hash string ends.

    For a check done elsewhere (PostgreSQL's ``agent_sign_in`` compares it with
    the stored one, so the caller never holds the hash). Parameters beyond the
    bounds ``verify_secret`` keeps, or that scrypt refuses, give "" (matches nothing).
    """
    if p > _MAX_P or 128 * n * r > _MAX_MEM or not 0 < length <= 1024:
        return ""
    try:
        salt = base64.b64decode(salt_b64, validate=True)
        return _b64(_scrypt(secret, salt, n, r, p, length))
    except ValueError:
        return ""


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # NFC so that the same characters typed on different keyboards hash alike;
    # surrogatepass so that no str, however odd, makes encoding raise.
    data = unicodedata.normalize("NFC", secret).encode("utf-8", "surrogatepass")
    return hashlib.scrypt(data, salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEM, dklen=length)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
