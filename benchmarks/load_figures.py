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
                # Both sides on the direct URL README gives (?prepare_threshold=5):
                # a direct deployment prepares, and the baseline's psycopg did anyway.
                note="CPU of every server process (/proc) / checks; both sides prepare after"
                " 5 runs (the direct URL)"
                + ("" if read else "; a side read 0: no verdict")
                + ("" if barred else "; saturation, no bar"),
            )
        )
    return figures


CAPACITY_BAR = 0.5  # the desks' capacity at least half the raw baseline's (PRODUCT.md §9)


def capacity_figures(measured: Any, bounced: bool) -> list[Figure]:
    """Per route: the most desks held at human pace, against raw psycopg at the same pace."""
    figures = []
    for route in ("direct", "pgbouncer") if bounced else ("direct",):
        desk, raw = measured.side("desk", route), measured.side("raw", route)
        last = {s.desks: s for s in desk.steps}.get(desk.held)
        base = {s.desks: s for s in raw.steps}.get(raw.held)

        def said(side: Any, step: Any) -> str:
            at = "" if step is None else f" (p99 {step.p99_ms:.0f} ms)"
            if side.capped:
                return f"at least {side.held}{at}, the last step tried"
            over = side.steps[-1]
            why = f"{over.errors} errors" if over.errors else f"p99 {over.p99_ms:.0f} ms"
            return f"{side.held}{at}; {over.desks} desks: {why}"

        figures.append(
            Figure(
                f"pg capacity {route}: desks at a check per 5 s",
                desk.held,
                raw.held,
                "desks",
                bar=CAPACITY_BAR,
                bar_on="ratio_min",
                note=f"higher is better; open loop, Poisson arrivals, p99 < 100 ms, 0 errors;"
                f" desks {said(desk, last)}; raw psycopg {said(raw, base)};"
                " desks are threads with their own connections in 4 processes",
            )
        )
    return figures


def ceiling_figures(ceiling: dict[str, Any]) -> list[Figure]:
    """The audit chain's lock: its hold time per event and the events/s it held."""
    return [
        Figure(
            "pg chain: lock hold per event",
            ceiling["hold_ms_p50"],
            None,
            "ms",
            note=f"median at one appender, p99 {ceiling['hold_ms_p99']:.2f} ms: at most"
            f" {ceiling['ceiling_from_hold']:,.0f} events/s on one chain (docs/SCALING.md)",
        ),
        Figure(
            "pg chain: events/s, appenders only",
            ceiling["events_per_second"],
            None,
            "/s",
            note=f"{ceiling['appenders']} appender processes, one event per transaction;"
            f" {ceiling['events_per_second_alone']:,.0f}/s with one",
        ),
    ]
