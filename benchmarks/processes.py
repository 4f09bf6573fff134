"""The process tree as Linux shows it in /proc, for the web figure and the web tests.

``callgate serve`` starts one desk process per tab; the memory figure
(``benchmarks/web_memory.py``) and the tests of the server's limits find
those desks as the server's children.
"""

from __future__ import annotations

from pathlib import Path


def parents() -> dict[int, int]:
    """Every process running now, mapped to its parent's pid."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name in parentheses may hold spaces: the parent follows the last ")".
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone while the tree was read
        found[int(entry.name)] = ppid
    return found


def children(parent: int) -> list[int]:
    """The processes whose parent is ``parent``."""
    return [pid for pid, ppid in parents().items() if ppid == parent]
