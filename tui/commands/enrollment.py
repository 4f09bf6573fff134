"""A second factor's enrollment shown to the operator: the otpauth URI, the secret, a QR code.

Printed once, on the operator's terminal, when ``agents add|reset --totp`` or
``demo`` made the secret: it is stored nowhere else the operator can read it
back (on PostgreSQL the desk role cannot read it at all), and it never goes
into the audit chain or a log.
"""

from __future__ import annotations

import io
import sys
from typing import TextIO


def qr_block(uri: str) -> str:
    """The URI as a QR code drawn with block characters (half a line per module row)."""
    import qrcode

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(uri)
    code.make(fit=True)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()


def print_enrollment(
    username: str, secret: str, *, qr: bool = True, out: TextIO | None = None
) -> None:
    """Print what an authenticator app needs to hold ``username``'s second factor."""
    from verification.totp import provisioning_uri

    shown = out or sys.stdout
    uri = provisioning_uri(secret, username)
    print(
        f"second factor for {username}: scan the QR code or add this to an authenticator app",
        file=shown,
    )
    print(f"  {uri}", file=shown)
    print(f"  secret (typed by hand): {secret}", file=shown)
    if qr:
        print(qr_block(uri), end="", file=shown)
