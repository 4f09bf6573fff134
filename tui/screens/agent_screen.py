"""What every screen opened for a signed-in agent shares: the agent and the app, typed."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from db.staff.agents import AgentInfo
    from tui.app import CallgateApp


class AgentScreen(Screen[None]):
    """A screen for ``agent``: the agent desk or a supervisor screen."""

    def __init__(self, agent: AgentInfo) -> None:
        super().__init__()
        self.agent = agent

    @property
    def desk(self) -> CallgateApp:
        """The app, typed."""
        return cast("CallgateApp", self.app)
