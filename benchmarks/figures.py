"""The figures of ``make bench``: one measured value against its baseline and bar, and the table.

Every module of ``benchmarks/`` that measures something returns ``Figure``s;
``benchmarks/run.py`` gathers them into one table (``table``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Figure:
    """One row of the table.

    ``bar_on`` says what the bar limits: ``"ratio"`` (measured / baseline) or
    ``"value"`` (the measured figure itself, in ``unit``), each at most ``bar``;
    ``"ratio_min"``: the ratio at least ``bar`` (capacity). No bar: informative.
    """

    name: str
    measured: float
    baseline: float | None
    unit: str
    bar: float | None = None
    bar_on: str = "value"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """measured / baseline, when there is a baseline."""
        if self.baseline is None or self.baseline <= 0:
            return None
        return self.measured / self.baseline

    @property
    def passed(self) -> bool | None:
        """Whether the bar holds; None when the figure has no bar."""
        if self.bar is None:
            return None
        if self.bar_on == "ratio_min":
            return self.ratio is not None and self.ratio >= self.bar
        value = self.ratio if self.bar_on == "ratio" else self.measured
        return value is not None and value <= self.bar

    def as_json(self) -> dict[str, Any]:
        """The figure with its ratio and verdict, for the results file."""
        return {**asdict(self), "ratio": self.ratio, "passed": self.passed}


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in milliseconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def table(figures: Sequence[Figure]) -> str:
    """The figures as a plain-text table."""
    lines = [
        f"{'figure':<52} {'measured':>12} {'baseline':>12} {'ratio':>7} {'bar':>10}  result",
    ]
    for f in figures:
        baseline = "—" if f.baseline is None else f"{f.baseline:,.2f} {f.unit}"
        ratio = "—" if f.ratio is None else f"{f.ratio:.2f}"
        if f.bar is None:
            bar = "—"
        elif f.bar_on == "ratio":
            bar = f"≤ {f.bar:g}×"
        elif f.bar_on == "ratio_min":
            bar = f"≥ {f.bar:g}×"
        else:
            bar = f"< {f.bar:g} {f.unit}"
        verdict = {True: "pass", False: "FAIL", None: ""}[f.passed]
        lines.append(
            f"{f.name[:52]:<52} {f.measured:>9,.2f} {f.unit:<2} {baseline:>12} {ratio:>7}"
            f" {bar:>10}  {verdict}"
        )
    return "\n".join(lines)
