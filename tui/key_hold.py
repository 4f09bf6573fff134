"""Keys typed ahead of the desk: held while it decides where they go, then replayed in order.

An agent types the next answer the instant they press Enter; the desk only
knows which field that answer belongs in once the check returns (a match
moves to the next question, a miss asks the same one again), once a modal
is on screen, or once sign-in answered. Meanwhile every key and paste is
held, not handed to whatever field happens to have focus, and replayed in
the order typed as soon as the screen that asked for the hold releases it.

Held keys are replayed by the app's own task, in order with keys that
arrive during the replay: a replayed Enter that starts another check holds
the rest again. A hold never outlives ``HOLD_SECONDS``: a screen that fails
to release must not swallow the keyboard.
"""

from __future__ import annotations

from textual import events
from textual.app import App
from textual.timer import Timer

# Longer than any check takes on a working database; a failure releases sooner.
HOLD_SECONDS = 8.0


class KeyHold(App[int]):
    """The app's hold on typed keys (``hold_keys`` / ``release_keys``)."""

    def __init__(self) -> None:
        super().__init__()
        self._held: list[events.Key | events.Paste] | None = None
        self._hold_again = False
        self._hold_timer: Timer | None = None

    @property
    def holding_keys(self) -> bool:
        """Whether keys typed now are held for later."""
        return self._held is not None

    def hold_keys(self) -> None:
        """Hold every key from now until ``release_keys``."""
        if self._held is None:
            self._held = []
        self._hold_again = True
        if self._hold_timer is not None:
            self._hold_timer.stop()
        self._hold_timer = self.set_timer(HOLD_SECONDS, self.release_keys)

    def release_keys(self) -> None:
        """Replay the held keys, in order, once the messages before this call are handled."""
        if self._held is not None:
            self._hold_again = False
            self.call_later(self._replay)

    async def _replay(self) -> None:
        # In the app's task, like any key: nothing typed meanwhile overtakes these.
        if self._hold_again or self._held is None:
            return
        while self._held:
            event = self._held.pop(0)
            await super().on_event(event)
            if self._hold_again:
                return  # a replayed Enter asked for another hold: the rest wait again
        self._held = None
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None

    async def on_event(self, event: events.Event) -> None:
        """Keys and pastes that arrive while held wait their turn."""
        if (
            self._held is not None
            and isinstance(event, (events.Key, events.Paste))
            and not event.is_forwarded
        ):
            self._held.append(event)
            return
        await super().on_event(event)
