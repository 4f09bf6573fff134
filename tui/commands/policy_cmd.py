"""``callgate policy show|set KEY VALUE``: the limits that protect customers, run by the operator.

The keys, their defaults and ranges are ``verification.protection``; the
database holds the values (``db.policy``), so every desk reads the same ones
at its next unit of work. On PostgreSQL only the tables' owner may set them:
run ``policy set`` with the owner's URL, never a desk's.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tui.commands.common import operator_actor, prepared_database

if TYPE_CHECKING:
    from db.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``policy show`` and ``policy set``."""
    parser = subparsers.add_parser(
        "policy", help="show or set the limits that protect customers (misses, tiers, …)"
    )
    actions = parser.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="every limit, its value, default and who set it")
    show.set_defaults(handler=run_show)
    change = actions.add_parser(
        "set",
        help="set one limit (audited with the old and new value)",
        description="Set one limit for every desk. Numbers are whole numbers in the key's "
        "range; a tier key (tier.<action>) takes reversible, ends_service or destroys_data, "
        "never below the action's default.",
    )
    change.add_argument("key", metavar="KEY", help="e.g. tenant_max_misses, tier.cancel_now")
    change.add_argument("value", metavar="VALUE")
    change.set_defaults(handler=run_set)


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print every key with the value in force."""
    from db.policy import policy_lines
    from tui.commands.text_table import text_table

    with prepared_database(settings) as factory:
        lines = policy_lines(factory)
    rows = [
        (
            line.key,
            line.value,
            line.default,
            "default"
            if line.set_at is None
            else f"{line.set_by} {line.set_at.astimezone():%Y-%m-%d %H:%M}",
        )
        for line in lines
    ]
    print("\n".join(text_table(("KEY", "VALUE", "DEFAULT", "SET BY"), rows)))
    return 0


def run_set(args: argparse.Namespace, settings: Settings) -> int:
    """Set one key and say what changed."""
    from db.policy import set_policy
    from db.types import utcnow
    from verification.protection import PolicyError

    with prepared_database(settings, PolicyError) as factory:
        change = set_policy(factory, args.key, args.value, actor=operator_actor(), now=utcnow())
    if change.old == change.new:
        print(f"{change.key} is {change.new} already (recorded again)")
    else:
        print(f"{change.key}: {change.old} -> {change.new} (every desk, from its next check)")
    return 0
