"""Median cost of one identity check per item kind (target: under 200 µs).

Run: .venv/bin/python benchmarks/bench_checks.py [runs]

Each case calls ``check_item`` as the desk does, after one warm-up call (so
the on-file caches are filled, as they are after the first check of a call).
The PIN is reported apart: its cost is the deliberate scrypt work factor.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Mapping

from verification.address import Address
from verification.checks import OnFile, check_item
from verification.kinds import Item
from verification.pin import hash_pin

ON_FILE = OnFile(
    user_id="ana.perez@contoso.com",
    phone_e164="+14255550100",
    contact_first="José",
    contact_last="Pérez",
    organization="Contoso, Ltd.",
    address=Address("123 North Main Street", "Suite 400", "Springfield", "Illinois", "62704", "US"),
    pin_hash=hash_pin("2468"),
)

UK_ON_FILE = OnFile(
    **{
        **ON_FILE.__dict__,
        "phone_e164": "+442079460000",
        "address": Address("10 Downing Street", "", "London", "", "SW1A 2AA", "GB"),
    }
)

CASES: list[tuple[str, Item, Mapping[str, str], OnFile]] = [
    ("user ID", Item.USER_ID, {"value": "Ana.Perez@Contoso.COM "}, ON_FILE),
    ("phone (US national)", Item.PHONE, {"value": "(425) 555-0100"}, ON_FILE),
    ("phone (UK national)", Item.PHONE, {"value": "020 7946 0000"}, UK_ON_FILE),
    ("contact name", Item.CONTACT_NAME, {"first": "jose", "last": "PEREZ"}, ON_FILE),
    ("organization", Item.ORGANIZATION, {"value": "CONTOSO LIMITED"}, ON_FILE),
    (
        "address US, match (abbreviated, ZIP+4)",
        Item.ADDRESS,
        {
            "line1": "123 N Main St Ste 400",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62704-1234",
        },
        ON_FILE,
    ),
    (
        "address US, mismatch (wrong number)",
        Item.ADDRESS,
        {
            "line1": "124 N Main St Ste 400",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62704",
        },
        ON_FILE,
    ),
    (
        "address US, lines swapped",
        Item.ADDRESS,
        {
            "line1": "Suite 400",
            "line2": "123 North Main Street",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62704",
        },
        ON_FILE,
    ),
    (
        "address US, words reordered (parser path)",
        Item.ADDRESS,
        {
            "line1": "123 North Main Street",
            "line2": "400 Suite",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62704",
        },
        ON_FILE,
    ),
    (
        "address UK, match",
        Item.ADDRESS,
        {"line1": "10 downing street", "city": "LONDON", "postal_code": "sw1a2aa", "country": "UK"},
        UK_ON_FILE,
    ),
]


def median_us(
    item: Item, stated: Mapping[str, str], on_file: OnFile, runs: int
) -> tuple[float, str]:
    """The median wall time of one check in microseconds, and its result."""
    result = check_item(item, stated, on_file, "US").result.value
    samples = []
    for _ in range(runs):
        started = time.perf_counter_ns()
        check_item(item, stated, on_file, "US")
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1000, result


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    print(f"median µs per check over {runs} runs (target < 200 µs)")
    worst = 0.0
    for label, item, stated, on_file in CASES:
        cost, result = median_us(item, stated, on_file, runs)
        worst = max(worst, cost)
        print(f"  {label:<42} {cost:9.1f}  {result}")
    pin, result = median_us(Item.PIN, {"value": "2468"}, ON_FILE, 20)
    print(f"  {'support PIN (scrypt work factor, 20 runs)':<42} {pin:9.1f}  {result}")
    print(f"worst non-PIN case: {worst:.1f} µs")


if __name__ == "__main__":
    main()
