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
2. Read out each question, type what the caller says, **Enter** checks it
   and moves to the next item not asked yet. On a miss, read the sentence
   shown; never hint at which part was wrong. Missed items come round again
   once all were asked (or **PageUp**/**PageDown** now). Input errors (not a
   phone number…) are shown under the fields and do not count as misses.
3. The gate opens when every item matches and the caller is an admin.
4. Pick a subscription (**↑ ↓**) and an action: **c** cancel now,
   **r** turn auto-renew off, **x** expedited data deletion. Ask each
   checklist point and tick it (**space**), **Ctrl+S** to continue, then
   **y** to confirm the consequences and dates.
5. **F4** ends the call with an outcome (the likely one is chosen) and shows
   the lines to read back to the caller.

A locked call or a locked organization offers only **F4** (end call):
transfer the caller to a supervisor.

After a crash the open call comes back at sign-in: resume it or close it as
abandoned. If the database is unavailable nothing typed is lost: try again.

**Keys**

| key | does |
| --- | --- |
| Enter | check the current item |
| Tab / Shift+Tab, ↑ ↓ | move between fields |
| PageUp / PageDown | ask another item that still needs an answer |
| n | new call |
| c or F7 | cancel now |
| r or F8 | turn auto-renew off |
| x or F9 | expedited deprovisioning |
| F4 | end call |
| F6 | supervisor desk (supervisors) |
| Ctrl+P | command palette: new call, end call, sign out, theme |
| F1 or ? | this help |
| Esc | close this help or a dialog |
"""


class HelpModal(ModalScreen[None]):
    """Read-only help (↑ ↓ PageUp PageDown scroll); Esc, F1 or q closes it."""

    CSS_PATH = "help_modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q,question_mark", "dismiss", "Close")
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)
        yield Footer()
