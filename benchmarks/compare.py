"""``make bench-compare``: the last two runs' figures side by side.

    python -m benchmarks.compare                 # the two newest files in benchmarks/results/
    python -m benchmarks.compare OLD.json NEW.json

Each row: the figure in the older and the newer run, how the measured value
moved, and each run's ratio to its own baseline (the ratio is what compares
across a noisy machine). Figures only one run has are shown with a dash.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def last_two(directory: Path = RESULTS_DIR) -> tuple[Path, Path]:
    """The two newest results files (their names are UTC timestamps)."""
    runs = sorted(directory.glob("*.json"))
    if len(runs) < 2:
        raise SystemExit(f"need two runs in {directory} to compare, found {len(runs)}: make bench")
    return runs[-2], runs[-1]


def _cell(figure: dict[str, Any] | None, key: str, fmt: str) -> str:
    if figure is None or figure.get(key) is None:
        return "—"
    return format(figure[key], fmt)


def _verdict(figure: dict[str, Any] | None) -> str:
    if figure is None:
        return ""
    return {True: "pass", False: "FAIL", None: ""}[figure.get("passed")]


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The two runs' figures as a plain-text table, in the newer run's order."""
    before = {f["name"]: f for f in old["figures"]}
    after = {f["name"]: f for f in new["figures"]}
    names = list(after) + [name for name in before if name not in after]
    head = (
        f"{'figure':<46} {'unit':<4} {old['at']:>17} {new['at']:>17} {'change':>8}"
        f" {'ratio old':>9} {'ratio new':>9}  verdicts"
    )
    lines = [head]
    for name in names:
        a, b = before.get(name), after.get(name)
        unit = (b or a or {}).get("unit", "")
        change = "—"
        if a and b and a["measured"]:
            change = f"{(b['measured'] - a['measured']) / a['measured']:+.0%}"
        lines.append(
            f"{name[:46]:<46} {unit:<4} {_cell(a, 'measured', '>17,.2f')} "
            f"{_cell(b, 'measured', '>17,.2f')} {change:>8} {_cell(a, 'ratio', '>9.2f')}"
            f" {_cell(b, 'ratio', '>9.2f')}  {_verdict(a):>4} → {_verdict(b)}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the comparison of two results files (default: the last two)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="OLD.json NEW.json")
    args = parser.parse_args(argv)
    if len(args.files) not in (0, 2):
        parser.error("give two results files, or none for the last two runs")
    old_path, new_path = args.files or last_two()
    old, new = (json.loads(path.read_text()) for path in (old_path, new_path))
    print(f"{old_path.name}  →  {new_path.name}")
    print(compare(old, new))
    return 0


if __name__ == "__main__":
    sys.exit(main())
