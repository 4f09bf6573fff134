"""The factor step: proof of possession before an action of an upper risk tier.

Shown only when the chosen action needs a factor the call has not proven
(``SubscriptionView.step_up``; the rule is ``verification.tiers``). The agent
picks a masked destination and sends a code, then types what the caller
reads back; or calls back the number on file, which appears here alone and
only after the agent chose the callback. The code itself never reaches the
desk. It opens once the action's checklist is confirmed, so with one place
a code can go and none sent yet, the code goes out at once (the agent's
confirmation asked for it); with several the agent picks. Once the factor
serves the action the step closes with the new view and the desk takes the
action.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from tui import messages
from tui.widgets.plain import plain

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from db.desk import CallbackNumber, CallView, Possession
    from tui.app import CallgateApp
    from verification.policy import Action

CALLBACK = "callback"
CHANNEL_WORDS = {"email": "by e-mail to", "sms": "by text to"}


class PossessionModal(ModalScreen["CallView | None"]):
    """Send a code (Enter on a destination) or call back; gives the view once the action may go."""

    CSS_PATH = "possession_modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("ctrl+r", "choose", "Send again / call back"),
        Binding("a", "callback(True)", "Answered"),
        Binding("u", "callback(False)", "No answer"),
    ]

    def __init__(
        self, view: CallView, subscription_id: int, action: Action, title: str, missing: str
    ) -> None:
        super().__init__()
        self._view = view
        self._sub_id = subscription_id
        self._action = action
        self._title = title
        self._missing = missing
        self._callback: CallbackNumber | None = None
        self._busy = False

    @property
    def desk(self) -> CallgateApp:
        """The app, typed."""
        return cast("CallgateApp", self.app)

    @property
    def possession(self) -> Possession:
        """The factor step of the current view (the gate is open while this shows)."""
        assert self._view.possession is not None
        return self._view.possession

    def compose(self) -> ComposeResult:
        step = self.possession
        with Vertical(id="possession"):
            yield Static(plain(self._title), classes="title")
            yield Static(plain(f"{self._missing[:1].upper()}{self._missing[1:]}."), id="need")
            ways = [
                Option(plain(f"Send a code {CHANNEL_WORDS[d.channel.value]} {d.masked}"), id=d.key)
                for d in step.destinations
            ]
            ways.append(Option("Call back the number on file", id=CALLBACK))
            # Masked user IDs are data: never markup.
            yield OptionList(*ways, id="ways", compact=True, markup=False)
            yield Static("↑↓ choose · Enter sends the code, or opens the callback", classes="hint")
            yield Static(plain(step.no_sender), id="no-sender", classes="warning")
            # A sync changed the contact an earlier proof reached: it proves nothing now.
            yield Static(plain(step.changed), id="changed", classes="warning")
            with Vertical(id="code-step"):
                yield Static("", id="code-words")
                yield Input(
                    placeholder="the 6 digits the caller reads out", id="code", compact=True
                )
                yield Static("Enter checks the code · Ctrl+R sends again", classes="hint")
            with Vertical(id="callback-step"):
                yield Static("", id="callback-number")
                yield Static("Did the customer answer on that number? a: answered · u: no answer")
            yield Static("", id="step-result")
        yield Footer()

    def on_mount(self) -> None:
        """Start on the ways; on the code field when a code is out and can be tried."""
        self.query_one("#no-sender").display = bool(self.possession.no_sender)
        self.query_one("#changed").display = bool(self.possession.changed)
        self.query_one("#callback-step").display = False
        self._show_code_step(focus=True)
        if not self.query_one("#code-step").display:
            self.query_one(OptionList).focus()
            step = self.possession
            if len(step.destinations) == 1 and not step.code_sent and step.send_refusal is None:
                self._busy = True
                self._say("Sending the code…")
                self._send(step.destinations[0].key)
        release = getattr(self.app, "release_keys", None)
        if release is not None:
            release()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The callback's outcome keys only while its number is shown."""
        if action == "callback":
            return self._callback is not None
        return True

    # --- choosing ------------------------------------------------------------

    def action_choose(self) -> None:
        """Back to the ways: another destination, a resend, or the callback."""
        self.query_one("#callback-step").display = False
        self._callback = None
        self.refresh_bindings()
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#ways")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if self._busy or event.option.id is None:
            return
        self._busy = True
        if event.option.id == CALLBACK:
            self._say("Opening the callback…")
            self._show_callback()
        else:
            self._say("Sending the code…")
            self._send(event.option.id)

    @on(Input.Submitted, "#code")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        if self._busy:
            return
        if not event.value.strip():
            self._say("Type the code the caller reads out first.")
            return
        self._busy = True
        self._say("Checking…")
        self._try(event.value)

    def action_callback(self, answered: bool) -> None:
        """Record the callback's outcome (a / u)."""
        if self._callback is not None and not self._busy:
            self._busy = True
            self._record(self._callback.callback_id, answered)

    # --- results -------------------------------------------------------------

    def on_factor_updated(self, message: messages.FactorUpdated) -> None:
        """A new view: go on when the action needs nothing more, else say where it stands."""
        self._busy = False
        self._view = view = message.view
        if view.locked or not view.gate_open or self._served(view):
            self.dismiss(view)
            return
        self._callback = None
        self.query_one("#callback-step").display = False
        self.refresh_bindings()
        self._say("")
        if message.tried:
            left = view.misses_left
            self.query_one("#code", Input).value = ""
            self._say(f"✗ Not the code that was sent: a miss ({left} left before the call locks).")
        self._show_code_step(focus=True)
        if not self.query_one("#code-step").display:
            self.query_one(OptionList).focus()

    def on_factor_refused(self, message: messages.FactorRefused) -> None:
        """A refusal or failed send: said in the step, nothing else changes."""
        self._busy = False
        suffix = "" if message.counted else " (not counted)"
        self._say(f"⚠ {message.detail}{suffix}")

    def on_callback_shown(self, message: messages.CallbackShown) -> None:
        """The one moment the number on file is on screen: the callback step."""
        self._busy = False
        self._callback = message.callback
        self._say("")
        self.query_one("#code-step").display = False
        self.query_one("#callback-step").display = True
        self.query_one("#callback-number", Static).update(
            plain(
                "Say goodbye and hang up (the call stays open here), then call:",
                f"    {message.callback.number}",
                "Ask for the admin who called, and carry on once they answer.",
            )
        )
        self.set_focus(None)
        self.refresh_bindings()

    def on_database_failed(self, message: messages.DatabaseFailed) -> None:
        """The app says what failed; the same key retries."""
        self._busy = False
        self._say("")

    # --- drawing -------------------------------------------------------------

    def _served(self, view: CallView) -> bool:
        sub = next((s for s in view.subscriptions if s.id == self._sub_id), None)
        step = sub.step_up(self._action) if sub is not None else None
        return step is not None and not step.needs_factor

    def _show_code_step(self, *, focus: bool) -> None:
        step = self.possession
        shown = step.code_sent and step.try_refusal is None
        self.query_one("#code-step").display = shown
        sent, *rest = step.code_words or ("",)
        self.query_one("#code-words", Static).update(plain(sent, " · ".join(rest)))
        if shown and focus:
            self.query_one("#code", Input).focus()

    def _say(self, text: str) -> None:
        self.query_one("#step-result", Static).update(plain(text))

    # --- workers -------------------------------------------------------------

    @work(thread=True, group="db", exclusive=False)
    def _send(self, key: str) -> None:
        desk, actor, call_id = self.desk, self._actor(), self._view.call_id

        def send(factory: sessionmaker[Session]) -> None:
            from db.desk import StepUpRefused, code_senders, send_code

            senders = code_senders(desk.settings)
            try:
                view = send_code(factory, call_id, actor, key, desk.settings, desk.clock(), senders)
            except StepUpRefused as exc:
                self.post_message(messages.FactorRefused(exc.message))
            else:
                self.post_message(messages.FactorUpdated(view))
            finally:
                senders.close()

        desk.db_call(self, "sending the code", send)

    @work(thread=True, group="db", exclusive=False)
    def _try(self, typed: str) -> None:
        desk, actor, call_id = self.desk, self._actor(), self._view.call_id

        def check(factory: sessionmaker[Session]) -> None:
            from db.desk import StepUpRefused, try_code
            from verification.errors import InputError

            try:
                view = try_code(factory, call_id, actor, typed, desk.settings, desk.clock())
            except InputError as exc:
                self.post_message(messages.FactorRefused(str(exc), counted=False))
            except StepUpRefused as exc:
                self.post_message(messages.FactorRefused(exc.message))
            else:
                self.post_message(messages.FactorUpdated(view, tried=True))

        desk.db_call(self, "checking the code", check)

    @work(thread=True, group="db", exclusive=False)
    def _show_callback(self) -> None:
        desk, actor, call_id = self.desk, self._actor(), self._view.call_id

        def show(factory: sessionmaker[Session]) -> None:
            from db.desk import StepUpRefused, callback_shown

            try:
                number = callback_shown(factory, call_id, actor, desk.settings, desk.clock())
            except StepUpRefused as exc:
                self.post_message(messages.FactorRefused(exc.message))
            else:
                self.post_message(messages.CallbackShown(number))

        desk.db_call(self, "opening the callback", show)

    @work(thread=True, group="db", exclusive=False)
    def _record(self, callback_id: int, answered: bool) -> None:
        desk, actor, call_id = self.desk, self._actor(), self._view.call_id

        def record(factory: sessionmaker[Session]) -> None:
            from db.desk import StepUpRefused, callback_result

            try:
                view = callback_result(
                    factory, call_id, actor, callback_id, answered, desk.settings, desk.clock()
                )
            except StepUpRefused as exc:
                self.post_message(messages.FactorRefused(exc.message))
            else:
                self.post_message(messages.FactorUpdated(view))
                if not answered:
                    self.post_message(
                        messages.FactorRefused("no answer: nothing proven — send a code instead?")
                    )

        desk.db_call(self, "recording the callback", record)

    def _actor(self) -> str:
        agent = self.desk.signed_in
        assert agent is not None
        return agent.username
