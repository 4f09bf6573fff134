"""``make bench``'s PostgreSQL load figures, as rows of the table (``benchmarks/pg_load.py``
measures them and imports this; this imports nothing of it): per desk count,
checks/s, p50/p99, errors, client and server CPU per check, each against raw
psycopg writing the same rows.

The closed loop (every desk sending its next check the moment the last one
is answered) is a saturation test, not a call center: its rows carry no
latency or client CPU bar (PRODUCT.md section 9). What they keep: no errors,
and the server's CPU per check within 2x raw at ``SERVER_CPU_BAR_DESKS``. The
bar on desks is the open-loop capacity (``capacity_figures``).
"""

from __future__ import annotations

from typing import Any

from benchmarks.figures import Figure

# The desk counts whose server CPU per check has a bar (2x raw); at 32 desks on
# 2 cores it is a saturation figure.
SERVER_CPU_BAR_DESKS = (1, 8)


def load_figures(desk: Any, raw: Any, events: int) -> list[Figure]:
    """One desk count's rows: throughput, latency, errors, CPU per check against raw psycopg."""
    label = f"pg closed loop {desk.desks} desk{'s' if desk.desks > 1 else ''}"
    vs_raw = f"{desk.checks} checks in {desk.seconds:.1f} s; baseline: raw psycopg, same rows"
    figures = [
        Figure(
            f"{label}: checks/s",
            desk.checks_per_second,
            raw.checks_per_second,
            "/s",
            note=f"higher is better; {vs_raw}; chain of {events:,} verified after",
        ),
        Figure(f"{label}: p50 per check", desk.p50_ms, raw.p50_ms, "ms", note=vs_raw),
        Figure(f"{label}: p99 per check", desk.p99_ms, raw.p99_ms, "ms", note=vs_raw),
        Figure(
            f"{label}: errors",
            desk.errors,
            None,
            "",
            bar=0.0,
            note=f"desks {desk.errors}, baseline {raw.errors}",
        ),
        Figure(
            f"{label}: client CPU per check",
            desk.client_cpu_ms_per_check,
            raw.client_cpu_ms_per_check,
            "ms",
            note="CPU of the desk processes / checks (their whole calls); saturation, no bar",
        ),
    ]
    if desk.server_cpu_ms_per_check is not None:
        # /proc counts in 10 ms ticks and can lose an exiting backend's time:
        # a reading of 0 on either side gives no verdict rather than a false one.
        read = bool(desk.server_cpu_ms_per_check and raw.server_cpu_ms_per_check)
        barred = desk.desks in SERVER_CPU_BAR_DESKS
        figures.append(
            Figure(
                f"{label}: server CPU per check",
                desk.server_cpu_ms_per_check,
                raw.server_cpu_ms_per_check,
                "ms",
                bar=2.0 if read and barred else None,
                bar_on="ratio",
                note="CPU of every server process (/proc) / checks"
                + ("" if read else "; a side read 0: no verdict")
                + ("" if barred else "; saturation, no bar"),
            )
        )
    return figures
