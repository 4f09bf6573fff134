"""The help screen: the flow of a call and every key."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown

HELP = """\
# callgate desk

**A call, start to finish**

1. **n** starts a call; it is recorded at once and the timer runs.
2. Read out each question and type what the caller says, **Enter** after
   each part (a name, an address line): Enter in the last part checks the
   item and moves to the next one not asked yet. On a miss, read the
   sentence shown; never hint at which part was wrong. The desk stays on a
   missed item for the caller's second try (**PageDown** moves on); the same
   answer twice in a row counts once. Input errors (not a phone number…) are
   shown under the fields and do not count as misses.
3. The gate opens when every item matches and the caller is an admin.
4. Pick a subscription (**↑ ↓**) and an action: **c** cancel now,
   **r** turn auto-renew off, **x** expedited data deletion. Ask each
   checklist point and tick it (**space** ticks and moves on); the ticked
   checklist, with the dates below it, is the confirmation: **Enter**.
5. The end of the call is offered at once, the outcome that happened
   chosen: **Enter** ends it (**Esc** goes back, e.g. for another
   subscription; **F4** ends the call at any time). Read back the lines
   shown, with the reference of each request; **n** there starts the next call.

A locked call or a locked organization offers only **F4** (end call):
transfer the caller to a supervisor. A dimmed key says why when pressed.

After a crash the open call comes back at sign-in: resume it or close it as
abandoned. If the database is unavailable nothing typed is lost: try again.

**Keys**

| key | does |
| --- | --- |
| Enter | next field; in the last field, check the item |
| Tab / Shift+Tab, ↑ ↓ | move between fields |
| PageUp / PageDown | ask another item that still needs an answer |
| n | new call |
| c or F7 | cancel now |
| r or F8 | turn auto-renew off |
| x or F9 | expedited deprovisioning |
| F4 | end call |
| F3 | dispute a request by its reference (stops expedited deletion) |
| F6 | supervisor desk (supervisors) |
| Ctrl+O | sign out (between calls) |
| Ctrl+P | command palette: new call, end call, sign out, theme, screenshot |
| Ctrl+Q | quit (asks first during a call; the call comes back) |
| F1, or ? outside a field | this help |
| Esc | close this help or a dialog |
"""

SUPERVISOR_HELP = """\
# callgate supervisor desk

**The queue** lists what needs a decision: expedited requests to approve,
locked organizations, failed verifications, early cancellations. **Enter**
opens the highlighted entry; the queue refreshes itself and says how old it is.

**A request** shows its whole timeline, stated and on-file values side by
side. You can never approve or reject your own call: the key says why.

**Keys**

| key | does |
| --- | --- |
| Enter | open the highlighted entry |
| a | queue: all requests · request: approve |
| x | reject the request |
| l | clear the organization's lock |
| o | add a review note |
| v | mark reviewed |
| s | numbers at a glance |
| F5 | refresh now |
| F9 | export the filtered requests (CSV and JSON) |
| PageUp / PageDown | previous / next page of requests |
| Esc | back |
| F6 | supervisor desk, from the agent desk |
| Ctrl+P | command palette |
| Ctrl+Q | quit |
| F1 or ? | this help |
"""


class HelpModal(ModalScreen[None]):
    """Read-only help (↑ ↓ PageUp PageDown scroll); Esc, F1 or q closes it."""

    CSS_PATH = "help_modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q,question_mark", "dismiss", "Close")
    ]

    def __init__(self, text: str = HELP) -> None:
        super().__init__()
        self._text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(self._text)
        yield Footer()
