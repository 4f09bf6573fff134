"""A desk whose terminal is gone quits, instead of spinning on a core for good.

Closing a terminal (a dropped SSH session, a closed tmux pane) sends SIGHUP
only to its session's leader. When that is not the desk (``make run`` runs
it under make, which waits for its child), the desk is never told, and
Textual's input thread reads end-of-file in a busy loop. So the desk looks
at its terminal every ``CHECK_SECONDS`` and quits once it is gone. An open
call stays open and comes back at the next sign-in, as after any quit.
"""

from __future__ import annotations

import os
import sys

CHECK_SECONDS = 1.0


def terminal_fd() -> int | None:
    """The desk's terminal (its stdin), or None when it runs without one (tests, the web)."""
    stdin = sys.__stdin__
    if stdin is None:
        return None
    try:
        fd = stdin.fileno()
    except (ValueError, OSError):
        return None
    return fd if os.isatty(fd) else None


def terminal_gone(fd: int) -> bool:
    """Whether the terminal at ``fd`` hung up: its other end closed, it is no terminal now."""
    return not os.isatty(fd)
