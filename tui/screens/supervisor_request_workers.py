"""The supervisor's call screen's database calls: each in a thread worker that posts its result.

Workers never touch widgets: each runs one ``db.review`` function through
``SupervisorScreen.review_call`` and posts the call as it then stands
(``DetailLoaded``) and what was done (``Done``), which
``SupervisorRequestScreen`` draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from tui.screens.supervisor_base import Done, SupervisorScreen

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from db.agents import AgentInfo
    from db.review import CallDetail
    from verification.kinds import Decision


class DetailLoaded(Message):
    """The call as it stands after a load or a decision."""

    def __init__(self, detail: CallDetail) -> None:
        super().__init__()
        self.detail = detail


class RequestWorkers(SupervisorScreen):
    """The call screen's workers, for ``agent`` and the call ``call_id``."""

    def __init__(self, agent: AgentInfo, call_id: int) -> None:
        super().__init__(agent)
        self.call_id = call_id

    @work(thread=True, group="load", exclusive=True)
    def _load(self) -> None:
        actor, call_id, now = self.agent.id, self.call_id, self.desk.clock()

        def load(factory: sessionmaker[Session]) -> None:
            from db.review import call_detail

            self.post_message(DetailLoaded(call_detail(factory, actor, call_id, now)))

        self.review_call("loading the call", load)

    @work(thread=True, group="decision")
    def _decide(self, request_id: int, decision: Decision, reason: str, seen: str) -> None:
        actor, now = self.agent.id, self.desk.clock()

        def decide(factory: sessionmaker[Session]) -> None:
            from db.review import decide_expedited

            detail = decide_expedited(factory, actor, request_id, decision, reason, seen, now)
            self.post_message(DetailLoaded(detail))
            self.post_message(Done(f"Expedited deprovisioning {decision.value}."))

        self.review_call("recording the decision", decide)

    @work(thread=True, group="decision")
    def _clear(self, tenant_id: int, reason: str) -> None:
        actor, now, call_id = self.agent.id, self.desk.clock(), self.call_id

        def clear(factory: sessionmaker[Session]) -> None:
            from db.review import call_detail, clear_tenant_lock

            clear_tenant_lock(factory, actor, tenant_id, reason, now)
            self.post_message(DetailLoaded(call_detail(factory, actor, call_id, now)))
            self.post_message(Done("Lock cleared: the next call proceeds."))

        self.review_call("clearing the lock", clear)

    @work(thread=True, group="decision")
    def _note(self, text: str) -> None:
        actor, now, call_id = self.agent.id, self.desk.clock(), self.call_id

        def note(factory: sessionmaker[Session]) -> None:
            from db.review import add_review_note

            self.post_message(DetailLoaded(add_review_note(factory, actor, call_id, text, now)))
            self.post_message(Done("Note added."))

        self.review_call("adding the note", note)

    @work(thread=True, group="decision")
    def _reviewed(self) -> None:
        actor, now, call_id = self.agent.id, self.desk.clock(), self.call_id

        def reviewed(factory: sessionmaker[Session]) -> None:
            from db.review import mark_reviewed

            self.post_message(DetailLoaded(mark_reviewed(factory, actor, call_id, now)))
            self.post_message(Done("Marked reviewed."))

        self.review_call("marking the call reviewed", reviewed)
