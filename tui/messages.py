"""Messages that thread workers post back to the event loop.

Each carries plain frozen dataclasses from ``db`` (never ORM objects), so a
handler can update widgets without touching the database. The ``db`` types are
imported for type checking only: importing SQLAlchemy here would slow the
first screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from db.desk import CallbackNumber, CallSummary, CallView
    from db.staff.agents import AgentInfo
    from db.staff.signin import SignInResult
    from verification.kinds import Item


class DatabaseUnusable(Message):
    """The desk cannot run on this database (old schema, bad URL); ends the desk."""

    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail


class DatabaseFailed(Message, bubble=False):
    """A database call failed for a reason the agent can retry (down, locked).

    Posted to the app (which notifies) and to the screen that asked (which
    re-enables its form); it does not bubble, so the notice is shown once.
    """

    def __init__(self, doing: str, detail: str) -> None:
        super().__init__()
        self.doing = doing
        self.detail = detail


class SignedIn(Message):
    """Sign-in succeeded; ``open_call`` is the agent's unfinished call, if any."""

    def __init__(self, agent: AgentInfo, open_call: CallView | None) -> None:
        super().__init__()
        self.agent = agent
        self.open_call = open_call


class SignInRefused(Message):
    """Sign-in failed; the result says why and how long to wait."""

    def __init__(self, result: SignInResult) -> None:
        super().__init__()
        self.result = result


class CallUpdated(Message):
    """The call changed (started, item checked, action taken, reloaded).

    ``checked`` names the item just submitted, so the desk can show its result.
    """

    def __init__(self, view: CallView, checked: Item | None = None) -> None:
        super().__init__()
        self.view = view
        self.checked = checked


class ActionTaken(Message):
    """A confirmed action was recorded; ``action`` is its policy action value."""

    def __init__(self, view: CallView, action: str, label: str) -> None:
        super().__init__()
        self.view = view
        self.action = action
        self.label = label


class ItemRejected(Message):
    """The stated value cannot be a value of its kind: not an attempt."""

    def __init__(self, item: Item, detail: str, locked: bool = False) -> None:
        super().__init__()
        self.item = item
        self.detail = detail
        # A lock refused it (``db.desk.guessing.LockedRefusal``): only a transfer is left.
        self.locked = locked


class ActionRefused(Message):
    """The database refused a desk action; ``detail`` is for the agent."""

    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail


class CallEnded(Message):
    """The call was closed; the summary is read back to the caller."""

    def __init__(self, summary: CallSummary) -> None:
        super().__init__()
        self.summary = summary


class FactorUpdated(Message):
    """A factor step went through (code sent or tried, callback recorded): the new view.

    ``tried`` is True after a code try, so the step can say whether it matched.
    """

    def __init__(self, view: CallView, *, tried: bool = False) -> None:
        super().__init__()
        self.view = view
        self.tried = tried


class FactorRefused(Message):
    """A factor step was refused or failed (a send, a try, a callback); ``counted``
    is False for input that is no code: not a try."""

    def __init__(self, detail: str, *, counted: bool = True) -> None:
        super().__init__()
        self.detail = detail
        self.counted = counted


class CallbackShown(Message):
    """The number on file for the callback, shown only in the callback step."""

    def __init__(self, callback: CallbackNumber) -> None:
        super().__init__()
        self.callback = callback
