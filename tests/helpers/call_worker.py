"""A desk process for the pooling test: whole calls through ``db.desk``, every error reported.

Run as ``python -m tests.helpers.call_worker URL AGENT_ID USERNAME ACCOUNTS_JSON``,
``ACCOUNTS_JSON`` a list of ``tests.helpers.review_data.Account`` fields, one
call per account. It prints ``ready`` once connected and waits for a line on
stdin, so that every desk starts at the same moment. Each call is what an
agent does: start it, check every item the caller states, turn the
subscription's auto-renew off (its checklist ticked), end the call. Every
error is printed to stderr; the last stdout line is ``done OK ERRORS``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from db import desk
from db.engine import make_engine, make_sessionmaker
from db.staff.agents import AgentInfo
from tests.helpers.review_data import SETTINGS, Account, verified_call
from verification.kinds import Outcome, Role
from verification.policy import Action


def main(url: str, agent_id: int, username: str, accounts: list[Account]) -> int:
    """One whole call per account; the exit status is 1 if any failed."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    agent = AgentInfo(agent_id, username, username, Role.AGENT, True, 0, None, None)
    with engine.connect():  # connected before "go"
        pass
    print("ready", flush=True)
    sys.stdin.readline()
    ok = errors = 0
    for account in accounts:
        now = datetime.now(UTC)
        try:
            view = verified_call(factory, agent, account, now)
            [sub] = view.subscriptions
            [option] = [o for o in sub.decision.options if o.action is Action.AUTO_RENEW_OFF]
            desk.take_action(
                factory, view.call_id, username, sub.id, option.action, option.checklist,
                SETTINGS, now,
            )  # fmt: skip
            desk.end_call(factory, view.call_id, username, Outcome.AUTO_RENEW_OFF, "", now)
        except Exception as exc:  # every failure is what the test is looking for
            errors += 1
            print(f"{username}: {account.organization}: {type(exc).__name__}: {exc}",
                  file=sys.stderr, flush=True)  # fmt: skip
        else:
            ok += 1
    engine.dispose()
    print(f"done {ok} {errors}", flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(
        main(
            sys.argv[1],
            int(sys.argv[2]),
            sys.argv[3],
            [Account(**fields) for fields in json.loads(sys.argv[4])],
        )
    )
