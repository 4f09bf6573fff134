"""Driving the served desk in headless Chromium: keys in, the screen the tab received out.

The page draws the terminal on a canvas, so its text is not in the DOM. Each
tab's websocket frames (what textual-serve relays from the desk process) are
fed to a terminal emulator (pyte) of the size the page asked for: its screen
is what the canvas shows. Every request and websocket the browser opens is
recorded, to check that the page talks to nobody but the server.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyte
from playwright.async_api import Browser, BrowserContext, Page, WebSocket

CHROMIUM = Path("/usr/bin/chromium")
# Offline-safe: no update checks, sync, field trials or QUIC probes to anyone.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CHROMIUM_MISSING = (
    f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package "
    "(.ci/run does) to run the browser tests"
)


def chromium_path() -> Path | None:
    """Debian's Chromium, if installed."""
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


@dataclass
class Requests:
    """Every URL the browser asked for, pages and websockets alike."""

    urls: list[str] = field(default_factory=list)

    def foreign(self, origin: str) -> list[str]:
        """The URLs not on ``origin`` (scheme-insensitive: ws and http share a host)."""
        host = urlparse(origin).netloc
        return [url for url in self.urls if urlparse(url).netloc != host]


class DeskTab:
    """One browser tab on the served desk, with the screen its websocket drew."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.screen: pyte.Screen | None = None
        self._stream: pyte.ByteStream | None = None
        self.closed = False
        page.on("websocket", self._attach)

    def _attach(self, websocket: WebSocket) -> None:
        query = parse_qs(urlparse(websocket.url).query)
        self.screen = pyte.Screen(int(query["width"][0]), int(query["height"][0]))
        self._stream = pyte.ByteStream(self.screen)
        websocket.on("framereceived", self._frame)
        websocket.on("close", lambda _ws: setattr(self, "closed", True))

    def _frame(self, payload: str | bytes) -> None:
        # Binary frames are the terminal; text frames are textual-serve's JSON (pong).
        if isinstance(payload, bytes) and self._stream is not None:
            self._stream.feed(payload)

    def text(self) -> str:
        """The terminal as the agent sees it now."""
        if self.screen is None:
            return ""
        return "\n".join(line.rstrip() for line in self.screen.display)

    async def until(self, condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
        """Wait until ``condition()`` holds; fail naming ``what`` and showing the screen."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not condition():
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen:\n{self.text()}")
            await asyncio.sleep(0.05)

    async def shows(self, *phrases: str, seconds: float = 20) -> None:
        """Wait until every phrase is on the screen."""
        await self.until(
            lambda: all(p in self.text() for p in phrases), f"{phrases!r} on screen", seconds
        )

    def cursor(self) -> tuple[int, int]:
        """Where the terminal cursor is: Textual puts it in the focused input."""
        return (-1, -1) if self.screen is None else (self.screen.cursor.x, self.screen.cursor.y)

    async def type(self, text: str) -> None:
        """Type ``text`` into the terminal, key by key."""
        await self.page.keyboard.type(text)

    async def insert(self, text: str) -> None:
        """Enter ``text`` as one input event (as an IME does): one websocket message."""
        await self.page.keyboard.insert_text(text)

    async def fill(self, value: str, drawn: bool = True) -> None:
        """Enter ``value`` into the focused (empty) input; with ``drawn``, wait until it shows.

        Wait before a Tab (``next_field`` watches the cursor, which must have
        stopped moving); an Enter after it needs no wait, it goes to the same input.
        """
        await self.insert(value)
        if drawn:
            await self.shows(value[-8:])

    async def next_field(self) -> None:
        """Tab to the next input and wait for the focus to get there.

        Keys sent right after Tab would otherwise land in the old input: Textual
        hands them to the focused widget before Tab comes back from it unused.
        """
        before = self.cursor()
        await self.press("Tab")
        await self.until(lambda: self.cursor() != before, "the focus to move")

    async def press(self, *keys: str) -> None:
        """Press keys by Playwright name (Enter, Tab, F4, Control+u)."""
        for key in keys:
            await self.page.keyboard.press(key)


async def open_tab(context: BrowserContext, url: str) -> DeskTab:
    """A new tab on ``url``, its terminal connected and focused."""
    page = await context.new_page()
    tab = DeskTab(page)
    await page.goto(url)
    await tab.until(lambda: tab.screen is not None, "the desk websocket")
    await page.locator(".xterm-helper-textarea").focus()
    return tab


async def new_context(browser: Browser, requests: Requests) -> BrowserContext:
    """A browser context recording every request and websocket of its pages."""
    context = await browser.new_context(viewport={"width": 1100, "height": 700})
    context.on("request", lambda request: requests.urls.append(request.url))
    context.on("page", lambda page: page.on("websocket", lambda ws: requests.urls.append(ws.url)))
    return context
