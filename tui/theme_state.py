"""The theme a desk user chose, remembered between runs.

The settings file is the operator's read-only configuration, so the choice
made in the command palette is kept in a small state file of the user's own
(``platformdirs.user_state_dir``, e.g. ``~/.local/state/callgate/state.json``).
A missing, unreadable or foreign file is no theme at all, never an error: the
desk must start whatever that file holds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

APP_NAME = "callgate"


def state_file() -> Path:
    """The desk's state file for this user."""
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)) / "state.json"


def saved_theme() -> str | None:
    """The theme chosen last time, or None."""
    try:
        state = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    theme = state.get("theme") if isinstance(state, dict) else None
    return theme if isinstance(theme, str) else None


def save_theme(theme: str) -> None:
    """Remember ``theme``; a state file that cannot be written only loses the choice."""
    path = state_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps({"theme": theme}), encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        pass
