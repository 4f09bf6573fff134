"""Tables that fit their width: fixed columns as given, the rest share what is left.

A DataTable sizes columns to their content and scrolls sideways, so at 80
columns a long value is cut at the screen's edge ("approve: Busin"). Here the
columns whose width is None share the width the fixed ones leave: each gets
what its longest value needs when that fits, else the narrow ones keep their
need and the wide ones split the rest evenly (``tui.commands.text_table.share``,
shared with the command line's tables). Rows added with
``height=None`` then wrap their text at word boundaries inside them. Screens
fit the columns again when the table is resized and add their rows again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.widgets import DataTable

from tui.commands.text_table import longest_word, share

WHOLE_WORD = 12


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
    # Words up to WHOLE_WORD long are never cut; longer ones (a user ID) fold.
    floors = [
        min(WHOLE_WORD, max([longest_word(columns[n][0]), *(longest_word(row[n]) for row in rows)]))
        for n in flexible
    ]
    flex = dict(zip(flexible, share(total - fixed - padding, needs, floors), strict=True))
    for n, (label, width) in enumerate(columns):
        table.add_column(label, width=flex.get(n, width), key=label)
