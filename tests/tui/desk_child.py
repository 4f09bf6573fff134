"""A desk process for the crash test: signs in, checks two items, says "ready", waits.

Run as ``python -m tests.tui.desk_child DB_URL USER_ID PASSPHRASE``; the test
kills it with SIGKILL while it waits mid-call.
"""

from __future__ import annotations

import asyncio
import sys

from db.engine import make_engine, make_sessionmaker
from db.settings import Settings
from tests.tui.conftest import START
from tests.tui.drive import answer, on_file, sign_in, start_call
from tui.app import CallgateApp
from verification.kinds import Item


async def main(db_url: str, caller: str, passphrase: str) -> None:
    """Drive the desk to the middle of a call, then wait to be killed."""
    factory = make_sessionmaker(make_engine(db_url))
    app = CallgateApp(Settings(database_url=db_url), lambda: factory, clock=lambda: START)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "agent", passphrase)
        await start_call(pilot)
        answers = on_file(factory, caller)
        await answer(pilot, Item.USER_ID, answers[Item.USER_ID])
        await answer(pilot, Item.PHONE, answers[Item.PHONE])
        await answer(pilot, Item.CONTACT_NAME, {"first": "Jon", "last": "Smith"})
        print("ready", flush=True)
        await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
