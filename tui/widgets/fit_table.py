"""Tables that fit their width: fixed columns as given, the rest share what is left.

A DataTable sizes columns to their content and scrolls sideways, so at 80
columns a long value is cut at the screen's edge ("approve: Busin"). Here the
columns whose width is None share the width the fixed ones leave: each gets
what its longest value needs when that fits, else the narrow ones keep their
need and the wide ones split the rest evenly (``share``). Rows added with
``height=None`` then wrap their text at word boundaries inside them. Screens
fit the columns again when the table is resized and add their rows again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.widgets import DataTable

# No flexible column is squeezed narrower than this, whatever the width.
MIN_FLEX_WIDTH = 10


def share(available: int, needs: Sequence[int]) -> list[int]:
    """Split ``available`` columns among flexible columns needing ``needs``.

    Columns needing less than an even share get their need; the others split
    what remains evenly; the last column takes any width left over.
    """
    widths = list(needs)
    if not widths:
        return widths
    wide = set(range(len(widths)))
    left = available
    while wide:
        even = left // len(wide)
        narrow = {i for i in wide if needs[i] <= even}
        if not narrow:
            for n, i in enumerate(sorted(wide)):
                widths[i] = even + (1 if n < left - even * len(wide) else 0)
            left = 0
            break
        wide -= narrow
        left -= sum(needs[i] for i in narrow)
    widths[-1] += max(0, left)
    # Squeezed below its need, no column gets narrower than MIN_FLEX_WIDTH.
    return [
        max(min(MIN_FLEX_WIDTH, need), width) for width, need in zip(widths, needs, strict=True)
    ]


def fit_columns(
    table: DataTable[Any],
    columns: Sequence[tuple[str, int | None]],
    rows: Sequence[Sequence[str]],
) -> None:
    """Clear ``table`` and add ``columns`` sized to its width for ``rows`` (their texts)."""
    table.clear(columns=True)
    # The region rows are drawn in (less its vertical scrollbar), less the column
    # DataTable keeps beyond the last one: a row any wider brings a sideways scrollbar.
    total = (table.scrollable_content_region.width or table.size.width) - 1
    padding = 2 * table.cell_padding * len(columns)
    fixed = sum(width for _, width in columns if width is not None)
    flexible = [n for n, (_, width) in enumerate(columns) if width is None]
    needs = [max([len(columns[n][0]), *(len(row[n]) for row in rows)]) for n in flexible]
    flex = dict(zip(flexible, share(total - fixed - padding, needs), strict=True))
    for n, (label, width) in enumerate(columns):
        table.add_column(label, width=flex.get(n, width), key=label)
