"""The agent desk's database calls: each in a thread worker that posts its result.

Workers never touch widgets: each runs one ``db.desk`` function through
``CallgateApp.db_call`` and posts the returned view (or the refusal) back as
a message, which ``DeskScreen`` draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from tui import messages
from tui.screens.agent_screen import AgentScreen

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from tui.screens.end_call_modal import CallEnding
    from verification.kinds import Item
    from verification.policy import Option


class DeskWorkers(AgentScreen):
    """The desk screen's workers, for ``agent``."""

    @work(thread=True, group="db", exclusive=False)
    def _start(self) -> None:
        desk, agent = self.desk, self.agent

        def start(factory: sessionmaker[Session]) -> None:
            from db.desk import start_call

            view = start_call(factory, agent.id, agent.username, desk.settings, desk.clock())
            self.post_message(messages.CallUpdated(view))

        desk.db_call(self, "starting the call", start)

    @work(thread=True, group="db", exclusive=False)
    def _submit(self, call_id: int, item: Item, stated: dict[str, str]) -> None:
        desk, actor = self.desk, self.agent.username

        def submit(factory: sessionmaker[Session]) -> None:
            from db.desk import submit_item
            from db.desk.guessing import LockedRefusal
            from verification.errors import InputError

            try:
                view = submit_item(
                    factory, call_id, actor, item, stated, desk.settings, desk.clock()
                )
            except InputError as exc:
                locked = isinstance(exc, LockedRefusal)
                self.post_message(messages.ItemRejected(item, str(exc), locked))
            else:
                self.post_message(messages.CallUpdated(view, checked=item))

        desk.db_call(self, "checking the item", submit)

    @work(thread=True, group="db", exclusive=True)
    def _reload(self, call_id: int) -> None:
        desk = self.desk

        def reload(factory: sessionmaker[Session]) -> None:
            from db.desk import load_call

            self.post_message(
                messages.CallUpdated(load_call(factory, call_id, desk.settings, desk.clock()))
            )

        desk.db_call(self, "reloading the call", reload)

    @work(thread=True, group="db", exclusive=False)
    def _take(self, call_id: int, sub_id: int, option: Option, confirmed: tuple[str, ...]) -> None:
        desk, actor = self.desk, self.agent.username

        def take(factory: sessionmaker[Session]) -> None:
            from db.desk import ActionRefused, take_action

            try:
                view = take_action(
                    factory,
                    call_id,
                    actor,
                    sub_id,
                    option.action,
                    confirmed,
                    desk.settings,
                    desk.clock(),
                )
            except ActionRefused as exc:
                self.post_message(messages.ActionRefused(exc.message))
            else:
                self.post_message(messages.ActionTaken(view, option.action.value, option.label))

        desk.db_call(self, "recording the action", take)

    @work(thread=True, group="db", exclusive=False)
    def _end(self, call_id: int, ending: CallEnding) -> None:
        desk, actor = self.desk, self.agent.username

        def end(factory: sessionmaker[Session]) -> None:
            from db.desk import ActionRefused, end_call

            try:
                summary = end_call(
                    factory, call_id, actor, ending.outcome, ending.note, desk.clock()
                )
            except ActionRefused as exc:
                self.post_message(messages.ActionRefused(exc.message))
            else:
                self.post_message(messages.CallEnded(summary))

        desk.db_call(self, "ending the call", end)
