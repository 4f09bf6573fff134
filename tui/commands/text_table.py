"""Plain-text tables for the command line that fit the terminal, wrapping at words.

A terminal wraps a line wider than itself wherever it ends, mid-word
("Seat / tle, WA"). Here each column gets what its longest value needs when
the table fits the width; otherwise every column keeps at least its longest
word, and the width left goes first to the columns that need little more,
the rest shared evenly (``share``); cells then wrap at words. A row may
carry a longer text printed under it, indented (``below``).
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence

# Two spaces between columns; the text under a row is indented by INDENT.
GAP = "  "
INDENT = "    "


def share(available: int, needs: Sequence[int], floors: Sequence[int] | None = None) -> list[int]:
    """Split ``available`` characters among columns needing ``needs``, at least ``floors``.

    Above their floors, columns needing less than an even share of what is
    left get their need; the others split the rest evenly; the last column
    takes any width left over. Floors are kept even when they do not fit.
    """
    floors = [min(f, n) for f, n in zip(floors or [0] * len(needs), needs, strict=True)]
    widths = list(floors)
    more = [need - floor for need, floor in zip(needs, floors, strict=True)]
    left = available - sum(floors)
    wide = {i for i in range(len(needs)) if more[i] > 0}
    while wide and left > 0:
        even = left // len(wide)
        narrow = {i for i in wide if more[i] <= even}
        if not narrow:
            for n, i in enumerate(sorted(wide)):
                widths[i] += even + (1 if n < left - even * len(wide) else 0)
            left = 0
            break
        for i in narrow:
            widths[i] += more[i]
        wide -= narrow
        left -= sum(more[i] for i in narrow)
    if widths and left > 0:
        widths[-1] += left
    return widths


def longest_word(text: str) -> int:
    """The length of the longest word of ``text`` (what a column cannot go below)."""
    return max((len(word) for word in text.split()), default=0)


def terminal_width() -> int:
    """The terminal's width (80 when output goes to a file or a pipe)."""
    return shutil.get_terminal_size((80, 24)).columns


def text_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int | None = None,
    below: Sequence[str] | None = None,
) -> list[str]:
    """``header`` and ``rows`` as lines at most ``width`` wide (the terminal's by default).

    ``below``, one text per row, is printed under its row, indented and wrapped.
    """
    width = terminal_width() if width is None else width
    table = [header, *rows]
    columns = range(len(header))
    needs = [max(len(str(row[i])) for row in table) for i in columns]
    floors = [max(longest_word(str(row[i])) for row in table) for i in columns]
    widths = share(width - len(GAP) * (len(header) - 1), needs, floors)
    lines = []
    for n, row in enumerate(table):
        cells = [
            textwrap.wrap(str(cell), w, break_on_hyphens=False) or [""]
            for cell, w in zip(row, widths, strict=True)
        ]
        for line in range(max(len(c) for c in cells)):
            parts = [
                (c[line] if line < len(c) else "").ljust(w)
                for c, w in zip(cells, widths, strict=True)
            ]
            lines.append(GAP.join(parts).rstrip())
        if below and n > 0 and below[n - 1]:
            lines += textwrap.wrap(
                below[n - 1], width, initial_indent=INDENT, subsequent_indent=INDENT
            )
    return lines
