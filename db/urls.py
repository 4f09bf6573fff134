"""How callgate shows a URL: the one home of masking credentials in URLs it prints or logs.

Operators put secrets in URLs (``https://user:pass@host/hook``,
``?token=...``, a database's ``?password=``), and what callgate prints lands
in terminals, logs and the supervisor queue. Every URL shown goes through
``shown_url``: the user name, host, port and path stay (so the operator can
tell which endpoint is meant), the password and every query value become
``***`` (a query key says what it is, its value may be a secret whatever the
key's name), and the fragment is dropped. ``mask_urls`` does the same for
every URL inside a message, such as an HTTP library's error text.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MASK = "***"
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def shown_url(url: str) -> str:
    """``url`` as callgate prints it: password and query values masked, no fragment."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(invalid URL)"
    netloc = parts.hostname or ""
    if ":" in netloc:  # an IPv6 literal
        netloc = f"[{netloc}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    if parts.username is not None or parts.password is not None:
        userinfo = parts.username or ""
        if parts.password is not None:
            userinfo = f"{userinfo}:{MASK}"
        netloc = f"{userinfo}@{netloc}"
    elif "@" in parts.netloc:
        netloc = f"{MASK}@{netloc}"
    query = "&".join(_masked_pair(pair) for pair in parts.query.split("&") if pair)
    shown = f"{parts.scheme}:" if parts.scheme else ""
    if parts.netloc or url.removeprefix(shown).startswith("//"):
        shown += f"//{netloc}"
    return shown + parts.path + (f"?{query}" if query else "")


def mask_urls(message: str) -> str:
    """``message`` with every URL in it shown as ``shown_url`` shows it."""
    return _URL_IN_TEXT.sub(_masked_match, message)


def _masked_match(match: re.Match[str]) -> str:
    url = match.group(0)
    # Punctuation closing the sentence is not the URL's.
    bare = url.rstrip(".,:;)]")
    return shown_url(bare) + url[len(bare) :]


def _masked_pair(pair: str) -> str:
    key, equals, _value = pair.partition("=")
    return f"{key}={MASK}" if equals else MASK
