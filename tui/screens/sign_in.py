"""Sign-in: username and passphrase (then a code, where the account has a second factor),
then the desk (or the agent's open call).

The code field shows only once the database said the passphrase was right and
the account needs one (``SignInResult.code_needed``), so an unknown name and a
real one still answer alike; a wrong code is answered like a wrong passphrase.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from tui import messages
from tui.widgets.plain import PlainInput, plain

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker
    from textual.timer import Timer

    from tui.app import CallgateApp


class SignInScreen(Screen[None]):
    """The first screen: deliberately light, so the desk starts fast."""

    CSS_PATH = "sign_in.tcss"
    AUTO_FOCUS = "#username"
    # Priority: the app runs these as it takes each key, before it hands the
    # next one to a field, so a password manager typing "name⇥passphrase⏎" in
    # one burst fills both fields (see ``tui.widgets.item_form.FieldInput``).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "enter", "Sign in", show=False, priority=True),
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._wait: Timer | None = None
        self._code_asked = False

    @property
    def desk(self) -> CallgateApp:
        """The app, typed."""
        return cast("CallgateApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="sign-in"):
            yield Static("callgate — sign in", id="sign-in-title")
            yield Label("Username")
            yield PlainInput(id="username", compact=True)
            yield Label("Passphrase")
            yield Input(id="passphrase", password=True, compact=True)
            # Shown in the clear: a code is worth nothing once used (replays are refused).
            yield Label("Code from your authenticator app", id="code-label", classes="code")
            yield PlainInput(
                id="code", compact=True, classes="code", restrict=r"[0-9 ]*", max_length=8
            )
            yield Static("", id="sign-in-message")
            yield Static("Enter signs in · F1 help", id="sign-in-hint")
        yield Footer()

    def on_mount(self) -> None:
        """Nobody is signed in while this screen shows (at start and after sign-out)."""
        self.desk.signed_in = None

    class EnterQueued(Message):
        """Enter, queued in the focused field behind the keys typed before it."""

    def action_enter(self) -> None:
        """From the username to an empty passphrase at once; else sign in once typed in.

        Signing in reads both fields as they were at the Enter: the keys
        typed behind it wait (``tui.key_hold``) for the screen that follows.
        """
        on_username = self.focused is not None and self.focused.id == "username"
        if on_username and not self.query_one("#passphrase", Input).value:
            self.set_focus(self.query_one("#passphrase", Input))
            return
        self.desk.hold_keys()
        (self.focused or self).post_message(self.EnterQueued())

    @on(Input.Changed, "#username, #passphrase")
    def _credentials_changed(self) -> None:
        """A code was asked for these credentials only: changing them starts over."""
        self._ask_code(False)

    @on(EnterQueued)
    def _submit(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        passphrase = self.query_one("#passphrase", Input).value
        code = self.query_one("#code", Input).value.strip() if self._code_asked else None
        if not username or not passphrase or self.query_one("#passphrase", Input).disabled:
            if not username or not passphrase:
                self._say("Type your username." if not username else "Type your passphrase.")
                self.query_one("#username" if not username else "#passphrase", Input).focus()
            self.desk.release_keys()
            return
        if code == "":
            self._say("Type the code from your authenticator app.")
            self.query_one("#code", Input).focus()
            self.desk.release_keys()
            return
        self._stop_wait()
        self._set_enabled(False)
        # Keys typed while the database answers (the first key of the desk, a
        # retyped passphrase) stay held for the screen that follows.
        self._say("Signing in…")
        self._authenticate(username, passphrase, code)

    @work(thread=True, group="db", exclusive=True)
    def _authenticate(self, username: str, passphrase: str, code: str | None) -> None:
        desk = self.desk
        now = desk.clock()

        def sign_in(factory: sessionmaker[Session]) -> None:
            from db.desk import open_call_for_agent
            from db.staff.signin import authenticate

            result = authenticate(factory, username, passphrase, now, code)
            if not result.ok or result.agent is None:
                self.post_message(messages.SignInRefused(result))
                return
            open_call = open_call_for_agent(factory, result.agent.id, desk.settings, now)
            self.post_message(messages.SignedIn(result.agent, open_call))

        desk.db_call(self, "signing in", sign_in)

    def on_sign_in_refused(self, message: messages.SignInRefused) -> None:
        """Show the database's answer; keep the form disabled for the wait it gives."""
        result = message.result
        self._stop_wait()
        if result.code_needed:
            self._ask_code(True)
            self._say(result.message)
            self._set_enabled(True)
            # Digits typed ahead while the database answered go into the code.
            self.set_focus(self.query_one("#code", Input))
            self.desk.release_keys()
            return
        passphrase = self.query_one("#passphrase", Input)
        passphrase.value = ""
        self._ask_code(False)
        if result.locked:
            # No wait ends a lock: "try again in 8 s" would be a promise never
            # kept. Said alike for a name that is no account (counted alike).
            self._say(
                f"{result.message} Too many failed sign-ins for this name: no wait"
                " helps, a supervisor must reset it."
            )
            if result.delay_seconds > 0:
                self._wait = self.set_timer(result.delay_seconds, self._unlock_form)
            else:
                self._unlock_form()
        elif result.delay_seconds > 0:
            self._count_down(result.message, math.ceil(result.delay_seconds))
        else:
            self._say(result.message)
            self._unlock_form()
        # During a wait the form takes no keys: the ones held are let go, not kept for later.
        self.desk.release_keys()

    def _count_down(self, message: str, seconds: int) -> None:
        """The wait, said to the second and gone when it is over."""
        if seconds <= 0:
            self._wait = None
            self._say(f"{message} You can try again now.")
            self._unlock_form()
            return
        self._say(f"{message} Try again in {seconds} s.")
        self._wait = self.set_timer(1, lambda: self._count_down(message, seconds - 1))

    def on_signed_in(self, message: messages.SignedIn) -> None:
        """Open the desk, with the recovered call if there is one."""
        from tui.screens.desk import DeskScreen

        self.desk.signed_in = message.agent
        self.app.switch_screen(DeskScreen(message.agent, message.open_call))

    def on_database_failed(self, message: messages.DatabaseFailed) -> None:
        """Give the form back for a retry (the app shows the notice)."""
        self._say("Could not reach the database. Press Enter to try again.")
        self._unlock_form()

    def _ask_code(self, asked: bool) -> None:
        """Show the code field (empty) or hide it."""
        self._code_asked = asked
        self.query_one("#code", Input).value = ""
        self.set_class(asked, "-code")

    def _stop_wait(self) -> None:
        """An earlier wait must not reopen the form during a later attempt or wait."""
        if self._wait is not None:
            self._wait.stop()
            self._wait = None

    def _unlock_form(self) -> None:
        self._set_enabled(True)
        self.query_one("#passphrase", Input).focus()
        self.desk.release_keys()

    def _set_enabled(self, enabled: bool) -> None:
        for field in self.query(Input):
            field.disabled = not enabled

    def _say(self, text: str) -> None:
        self.query_one("#sign-in-message", Static).update(plain(text))
