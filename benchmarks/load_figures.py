"""``make bench``'s PostgreSQL load figures (``benchmarks/pg_load.py`` measures them):
per desk count, checks/s, p50/p99, errors, client and server CPU per check, each
against raw psycopg writing the same rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.figures import Figure
from benchmarks.generate import Scale


@dataclass
class PgLoad:
    """The PostgreSQL load benchmark's figures and the details kept in the results file."""

    figures: list[Figure]
    runs: list[dict[str, Any]]
    profile: dict[str, dict[str, float]]
    chain_events: int


def pg_load(
    url: str | None,
    desks: Sequence[int],
    seconds: float,
    calls: int | None = None,
    scale: Scale | None = None,
) -> PgLoad:
    """The load benchmark on ``url`` (an empty database) or on a throwaway cluster.

    ``scale``: what the database holds before the desks start (default
    ``benchmarks.pg_load.LOAD_SCALE``); ``calls`` caps each desk's calls.
    """
    if url is not None:
        return _pg_load_on(url, desks, seconds, calls, scale)
    from benchmarks.pg_cluster import scratch_database

    with scratch_database("callgate_load", max_connections=max(100, 3 * max(desks))) as server:
        return _pg_load_on(server, desks, seconds, calls, scale)


def _pg_load_on(
    url: str, desks: Sequence[int], seconds: float, calls: int | None, scale: Scale | None
) -> PgLoad:
    from benchmarks.pg_load import (
        LOAD_SCALE,
        postmaster_of,
        prepare,
        run_load,
        statement_profile,
        verified_count,
    )

    prepared = prepare(url, scale or LOAD_SCALE)
    postmaster = postmaster_of(url)
    profile = statement_profile(prepared)
    figures: list[Figure] = []
    runs: list[dict[str, Any]] = []
    events = 0
    for n in desks:
        desk = run_load(prepared, "desk", n, seconds=seconds, calls=calls, postmaster=postmaster)
        raw = run_load(prepared, "raw", n, seconds=seconds, calls=calls, postmaster=postmaster)
        events = verified_count(url)
        runs += [{**asdict(desk), "chain_events_after": events}, asdict(raw)]
        if desk.error_samples or raw.error_samples:
            print(f"pg load {n} desks: errors: {desk.error_samples + raw.error_samples}")
        figures += _load_figures(desk, raw, events)
    return PgLoad(figures, runs, profile, events)


def _load_figures(desk: Any, raw: Any, events: int) -> list[Figure]:
    """One desk count's rows: throughput, latency, errors, CPU per check against raw psycopg."""
    label = f"pg load {desk.desks} desk{'s' if desk.desks > 1 else ''}"
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
        Figure(f"{label}: p99 per check", desk.p99_ms, raw.p99_ms, "ms", bar=100.0, note=vs_raw),
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
            bar=2.0,
            bar_on="ratio",
            note="CPU of the desk processes / checks (their whole calls)",
        ),
    ]
    if desk.server_cpu_ms_per_check is not None:
        # /proc counts in 10 ms ticks and can lose an exiting backend's time:
        # a reading of 0 on either side gives no verdict rather than a false one.
        read = bool(desk.server_cpu_ms_per_check and raw.server_cpu_ms_per_check)
        figures.append(
            Figure(
                f"{label}: server CPU per check",
                desk.server_cpu_ms_per_check,
                raw.server_cpu_ms_per_check,
                "ms",
                bar=2.0 if read else None,
                bar_on="ratio",
                note="CPU of every server process (/proc) / checks"
                + ("" if read else "; a side read 0: no verdict"),
            )
        )
    return figures
