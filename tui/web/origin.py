"""Which page and which host a request to ``callgate serve`` names: the one home of reading them.

Both headers come from whoever connects, so anything that is not a URL (a
port of ``1.evil.example`` or past 65535, an unclosed ``[`` of IPv6) is read
as "not this server's", never raised: the server refuses it as it refuses
another site, with no traceback in its log.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

# host[:port] as a browser sends it: a name or IPv4 address, or a bracketed IPv6 one.
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def valid_host(host: str) -> bool:
    """Whether a Host header is ``host[:port]`` with a port in range (RFC 9112 asks a 400 else)."""
    if _HOST.fullmatch(host) is None:
        return False
    try:
        parts = urlsplit(f"//{host}")
        port = parts.port  # raises past 65535
        if host.startswith("["):
            ipaddress.IPv6Address(parts.hostname or "")
    except ValueError:
        return False
    return port != 0


def same_page(public_url: str, origin: str) -> bool:
    """Whether an Origin header is the page of the server at ``public_url``.

    The page's own origin is ``public_url``'s; on loopback, also the same page
    opened as localhost or 127.0.0.1, which the operator cannot tell apart.
    """
    public = urlsplit(public_url)
    try:
        given = urlsplit(origin)
        given_host, given_port = given.hostname or "", given.port  # .port raises if no port
    except ValueError:
        return False
    if (given.scheme, given.netloc) == (public.scheme, public.netloc):
        return True
    return (
        given.scheme == public.scheme
        and is_loopback(public.hostname or "")
        and is_loopback(given_host)
        and given_port == public.port
    )
