"""The domain's one exception: input that cannot be a value of its kind."""

from __future__ import annotations

_ECHO_LIMIT = 40


class InputError(ValueError):
    """Input that cannot be a value of its kind ("not a phone number: 12").

    The message is shown to the agent as is. It may quote what the agent typed
    (see :func:`echo`) but never an on-file value. An input error is not an
    attempt: it is never counted as a miss.
    """


def echo(text: str, limit: int = _ECHO_LIMIT) -> str:
    """What the agent typed, made safe to quote in a one-line message.

    Control characters would break the desk's one-line message and a very long
    paste would push the useful part off screen, so both are tamed.
    """
    shown = "".join(ch if ch.isprintable() else " " for ch in text)
    shown = " ".join(shown.split())
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return shown
