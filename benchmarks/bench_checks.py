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

from scourgify import normalize_address_record

from verification import address
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

DE_ON_FILE = OnFile(
    **{
        **ON_FILE.__dict__,
        "phone_e164": "+498955501130",
        "address": Address("Leopoldstraße 20", "", "München", "", "80802", "DE"),
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
        "address US, unit said number first",
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
        "address US, street words reordered (parser)",
        Item.ADDRESS,
        {
            "line1": "123 Main Street North",
            "line2": "Suite 400",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62704",
        },
        ON_FILE,
    ),
    (
        "address DE, transliterated, Str.",
        Item.ADDRESS,
        {"line1": "Leopoldstr. 20", "city": "Muenchen", "postal_code": "80802", "country": "DE"},
        DE_ON_FILE,
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


def parser_share(on_file: Address) -> tuple[int, int]:
    """How many of a set of plausible statements of ``on_file`` reach the
    street tagger: (reaching it, all). The variants are the ways agents and
    callers were seen to vary an address, right and wrong."""
    line1, line2 = on_file.line1, on_file.line2
    number, _, street = line1.partition(" ")
    unit_type, _, unit_id = line2.partition(" ")
    lines = [
        (line1, line2),
        (line2, line1),
        (f"{line1} {line2}", ""),
        (f"{line2} {line1}", ""),
        (line1, f"{unit_id} {unit_type}"),
        (line1, f"#{unit_id}"),
        (line1, f"Apt {unit_id}"),
        (line1.upper(), line2.lower()),
        ("123 N Main St", "Ste 400"),
        (f"{int(number) + 1} {street}", line2),
        (line1, f"{unit_type} {unit_id}1"),
        (f"{street} {number}", line2),
        ("123 Main Street North", line2),
        (line1, ""),
    ]
    statements = [
        Address(a, b, city, region, postal, "")
        for a, b in lines
        for city in (on_file.city, on_file.city.upper())
        for region in (on_file.region, "IL")
        for postal in (on_file.postal_code, f"{on_file.postal_code}-1234")
    ]
    reached = 0
    tagger = address._parsed_us_street

    def counting(addr: Address) -> str | None:
        nonlocal reached
        reached += 1
        return tagger(addr)

    # Counted by wrapping the tagger call for this measurement only.
    address._parsed_us_street = counting
    try:
        for stated in statements:
            address.check_address(stated, on_file, "US")
    finally:
        address._parsed_us_street = tagger
    return reached, len(statements)


def parser_cost_us(runs: int) -> tuple[float, float]:
    """Median µs of the street tagger call alone, and of the whole-record
    normalization (usaddress-scourgify) the check used to call instead."""
    stated = Address("123 Main Street North", "Suite 400", "Springfield", "IL", "62704")
    record = {
        "address_line_1": stated.line1,
        "address_line_2": stated.line2,
        "city": stated.city,
        "state": stated.region,
        "postal_code": stated.postal_code,
    }
    tagger, whole = [], []
    for _ in range(runs):
        started = time.perf_counter_ns()
        address._parsed_us_street(stated)
        tagger.append(time.perf_counter_ns() - started)
        started = time.perf_counter_ns()
        normalize_address_record(record)
        whole.append(time.perf_counter_ns() - started)
    return statistics.median(tagger) / 1000, statistics.median(whole) / 1000


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
    tagger, whole = parser_cost_us(max(runs // 10, 50))
    print(f"street tagger alone: {tagger:.1f} µs (whole-record scourgify parse: {whole:.1f} µs)")
    reached, total = parser_share(ON_FILE.address)
    print(f"statements reaching the tagger: {reached} of {total} plausible variants")


if __name__ == "__main__":
    main()
