"""``make bench``: every performance bar of PRODUCT.md section 9, in one table.

    python -m benchmarks.run                     # full size (cached database)
    python -m benchmarks.run --tenants 2000 --calls 20000 --import-rows 5000

Each figure is measured against a baseline taken in the same run on the same
machine, so the ratio means something on any hardware; a bar limits either
the ratio (desk start, import) or the value itself (milliseconds, MiB). The
table is printed and written, with the machine and the sizes, to
``benchmarks/results/<UTC timestamp>.json``.

The write benchmark records real calls (as a benchmark agent) into the cached
database, so it grows by a few hundred rows per run; its audit chain stays valid.

The figures of each area are measured in their own module: ``desk_figures``
(desk start, lookups, item checks), ``supervisor_figures``, ``account_figures``
(import and sync), ``verify_figures``, ``web_memory``, ``desk_memory`` (PSS
per desk after a whole call) and ``load_figures`` (PostgreSQL: the closed
loop, the capacity at human pace of ``pg_capacity``, the chain's ceiling of
``chain_ceiling``); ``figures`` holds ``Figure`` and the table. This module runs
them all, plus the identity checks of ``bench_checks``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.account_figures import account_import, account_sync
from benchmarks.desk_figures import desk_start, lookups, record_item_checks
from benchmarks.figures import Figure, table
from benchmarks.generate import CACHE_DIR, Generated, Scale, ensure_sqlite
from benchmarks.supervisor_figures import supervisor, supervisor_memory
from db.engine import make_engine, make_sessionmaker
from verification.kinds import Item

RESULTS_DIR = Path(__file__).resolve().parent / "results"


# --- identity checks (the domain's own benchmark) -----------------------------------


def check_costs(runs: int) -> list[Figure]:
    """Median cost of one identity check per item kind (``benchmarks/bench_checks.py``)."""
    from benchmarks.bench_checks import CASES, ON_FILE, median_us

    figures = []
    for label, item, stated, on_file in CASES:
        cost, result = median_us(item, stated, on_file, runs)
        # The bar is the domain's own target (bench_checks.py), not a section 9 bar.
        note = f"{result}; domain target"
        figures.append(Figure(f"check: {label}", cost, None, "µs", bar=200.0, note=note))
    pin, result = median_us(Item.PIN, {"value": "2468"}, ON_FILE, max(3, runs // 200))
    note = f"{result}; the scrypt work factor, deliberately slow"
    figures.append(Figure("check: support PIN", pin, None, "µs", note=note))
    return figures


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "sqlite": sqlite3.sqlite_version,
    }


def run_all(
    made: Generated, runs: int, import_rows: int, workdir: Path, pg: dict[str, Any]
) -> tuple[list[Figure], dict[str, Any]]:
    """Every figure, on the generated database at ``made.url``, and the run's details.

    ``pg``: ``url`` (None: a throwaway cluster), ``desks``, ``seconds``, or
    ``skip`` to leave the PostgreSQL load out. A measurement that raises is
    named in ``details["failed_measurements"]`` and the others still run, so
    one broken figure does not cost the whole table.
    """
    from benchmarks.desk_memory import terminal_desk_memory, web_desk_memory
    from benchmarks.pg_load import CapacityPlan, pg_load
    from benchmarks.verify_figures import audit_verify
    from benchmarks.web_memory import web_tab_memory

    factory = make_sessionmaker(make_engine(made.url))
    details: dict[str, Any] = {"failed_measurements": {}}

    def load() -> list[Figure]:
        plan = CapacityPlan(pg["step_seconds"], pg["budget"])
        measured = pg_load(pg.get("url"), pg["desks"], pg["seconds"], capacity=plan)
        details.update(
            pg_load_runs=measured.runs,
            pg_statements_per_step=measured.profile,
            pg_capacity=measured.capacity,
            pg_chain_ceiling=measured.chain_ceiling,
        )
        return measured.figures

    sections: list[tuple[str, Callable[[], list[Figure]]]] = [
        ("desk start", lambda: [desk_start(made.url, max(3, runs // 10))]),
        ("lookups", lambda: lookups(factory, runs)),
        ("item checks", lambda: [record_item_checks(factory, workdir, max(2, runs // 5))]),
        ("supervisor", lambda: supervisor(factory, max(3, runs // 10))),
        ("supervisor memory", lambda: [supervisor_memory(made.url)]),
        ("import", lambda: [account_import(workdir, import_rows)]),
        ("sync", lambda: [account_sync(workdir, import_rows)]),
        ("web tab memory", lambda: [web_tab_memory(made.url)]),
        ("terminal desk PSS", lambda: [terminal_desk_memory(made.url)]),
        ("serve tab desk PSS", lambda: [web_desk_memory(made.url)]),
        ("identity checks", lambda: check_costs(runs * 10)),
        ("audit verify", lambda: audit_verify(made.url)),
    ]
    if not pg.get("skip"):
        sections.append(("PostgreSQL load", load))
    figures: list[Figure] = []
    for name, measure in sections:
        try:
            figures += measure()
        except Exception as exc:  # reported with the table, and in the results file
            details["failed_measurements"][name] = f"{type(exc).__name__}: {exc}"
            print(f"{name}: the measurement failed: {type(exc).__name__}: {exc}", flush=True)
    return figures, details


def main(argv: Sequence[str] | None = None) -> int:
    """Generate (or reuse) the database, measure everything, print and save the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\\n\\n")[0])
    parser.add_argument("--tenants", type=int, default=Scale.tenants)
    parser.add_argument("--users", type=int, help="account users (default: 2 per tenant)")
    parser.add_argument("--calls", type=int, default=Scale.calls)
    parser.add_argument("--runs", type=int, default=200, help="samples per latency figure")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--pg-url", help="an empty PostgreSQL database for the load benchmark")
    parser.add_argument("--pg-desks", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--pg-seconds", type=float, default=10.0, help="per load run")
    parser.add_argument("--pg-step-seconds", type=float, default=20.0, help="per capacity step")
    parser.add_argument(
        "--pg-budget", type=float, default=150.0, help="seconds per capacity side (4 sides)"
    )
    parser.add_argument("--no-pg", action="store_true", help="leave the PostgreSQL load out")
    args = parser.parse_args(argv)
    scale = Scale(
        tenants=args.tenants,
        users=args.users if args.users is not None else 2 * args.tenants,
        calls=args.calls,
    )
    began = time.perf_counter()
    made = ensure_sqlite(scale)
    how = "reused, built earlier in" if made.cached else "built in"
    print(f"database: {made.url} ({how} {made.seconds:.0f} s)", flush=True)
    with tempfile.TemporaryDirectory(dir=CACHE_DIR, prefix="run-") as tmp:
        pg = {
            "url": args.pg_url,
            "desks": args.pg_desks,
            "seconds": args.pg_seconds,
            "step_seconds": args.pg_step_seconds,
            "budget": args.pg_budget,
            "skip": args.no_pg,
        }
        figures, details = run_all(made, args.runs, args.import_rows, Path(tmp), pg)
    print(table(figures))
    failed = [f.name for f in figures if f.passed is False]
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "at": stamp,
                "machine": machine(),
                "scale": asdict(scale),
                "database": {
                    "counts": asdict(made.counts),
                    "generation_seconds": made.seconds,
                    "reused": made.cached,
                },
                "figures": [f.as_json() for f in figures],
                **details,
                "seconds": time.perf_counter() - began,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(
        f"{len(figures) - len(failed)} of {len(figures)} figures within their bars"
        f" ({sum(f.bar is not None for f in figures)} with bars); results: {out}"
    )
    if failed:
        print("over the bar: " + "; ".join(failed))
    broken = details["failed_measurements"]
    if broken:
        print("measurements that failed (no figures): " + "; ".join(broken))
    print(f"total {time.perf_counter() - began:.0f} s")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
