"""``make bench``'s audit verify figures: ``callgate audit verify`` of the benchmark
chain against a plain single-threaded ``sqlite3`` + ``json`` + ``hashlib`` loop."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

from benchmarks.desk_figures import desk_command
from benchmarks.figures import ROOT, Figure
from db.audit.chain import GENESIS_HASH

# Runs ``callgate audit verify`` and prints its wall time and the peak RSS of the
# largest process among it and its workers (all descendants, waited for).
_VERIFY_WRAPPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
out = {"code": done.returncode, "out": done.stdout, "seconds": seconds, "peak_kib": peak}
print(json.dumps(out))
"""


def plain_verify_loop(path: str) -> tuple[float, int]:
    """The baseline: one sqlite3 cursor over every event in seq order, each hash
    recomputed with json + hashlib and compared, each link to the previous hash.
    Returns (seconds, events)."""
    import hashlib

    connection = sqlite3.connect(path)
    try:
        started = time.perf_counter()
        prev, count, bad = GENESIS_HASH, 0, 0
        for seq, at, actor, type_, payload, prev_hash, digest in connection.execute(
            "SELECT seq, occurred_at, actor, type, payload, prev_hash, hash FROM audit_event"
            " ORDER BY seq"
        ):
            canonical = json.dumps(
                [seq, at.replace(" ", "T") + "+00:00", actor, type_, payload, prev_hash],
                separators=(",", ":"),
                ensure_ascii=False,
            )
            if hashlib.sha256(canonical.encode()).hexdigest() != digest or prev_hash != prev:
                bad += 1
            prev, count = digest, count + 1
        seconds = time.perf_counter() - started
    finally:
        connection.close()
    if bad:
        raise RuntimeError(f"the plain loop found {bad} bad events: the benchmark chain is broken")
    return seconds, count


def audit_verify(url: str) -> list[Figure]:
    """``callgate audit verify`` (both cores) against the plain single-threaded loop."""
    from db.audit.chain import verify_workers

    command = [sys.executable, "-c", _VERIFY_WRAPPER, *desk_command(url), "audit", "verify"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    if probe["code"] != 0 or "chain intact" not in probe["out"]:
        raise RuntimeError(f"audit verify failed: {probe['out'][-300:]}")
    baseline, events = plain_verify_loop(url.removeprefix("sqlite:///"))
    if f"audit chain: {events:,}".replace(",", "") not in probe["out"]:
        raise RuntimeError(f"audit verify counted other events than the loop's {events}")
    workers = verify_workers()
    note = f"callgate audit verify, whole process, {workers} workers past 200k events"
    base_note = "baseline: one sqlite3 cursor + json + hashlib loop over the same rows"
    return [
        Figure(
            f"audit verify of {events:,} events",
            probe["seconds"],
            baseline,
            "s",
            bar=1.0,
            bar_on="ratio",
            note=f"{note}; {base_note}",
        ),
        Figure(
            "audit verify: events per second",
            events / probe["seconds"],
            events / baseline,
            "/s",
            note=f"higher is better; {base_note}",
        ),
        Figure(
            "audit verify: peak memory, largest process",
            probe["peak_kib"] / 1024,
            None,
            "MiB",
            note="max RSS over the command and its workers (ru_maxrss of descendants)",
        ),
    ]
