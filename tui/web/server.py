"""``callgate serve``: the desk in a browser, one app process per tab (textual-serve).

textual-serve's ``Server`` runs a command per websocket and relays the
terminal over it. This subclass adds what an operator needs around it, and is
the one home for those limits:

- at most ``web_max_sessions`` tabs at once: past it, the page is a refusal
  (HTTP 503) and the websocket is refused too;
- a tab without input (a key, a click, the mouse moving over it) for
  ``web_idle_minutes`` is ended;
- a websocket opened by another site's page (its Origin) is refused, and so is
  one whose Origin is no URL (a 403, never a crash; read by ``tui.web.origin``),
  and a request whose Host header is no host[:port] is a 400;
- the terminal a page asks for is at most ``MAX_WIDTH`` x ``MAX_HEIGHT`` cells
  (when it connects and at every resize), and a message over
  ``MAX_MESSAGE_BYTES`` closes its websocket: a page cannot make its desk
  draw gigabytes;
- each session's start and end is an audit event (``db.web_sessions``); the
  remote address goes to the server log only, never to the chain.

The page is callgate's own template: no font host, every file from this
server (the fonts are the ones textual-serve ships in its static folder).
Closing a tab ends its app process; everything that matters is already in the
database, so the agent's next sign-in offers to resume an open call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from sqlalchemy.orm import Session, sessionmaker
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from db.settings import Settings
from db.types import utcnow
from db.web_sessions import EndReason, session_ended, session_started
from tui.web.origin import same_page, valid_host

log = logging.getLogger("callgate.serve")
TEMPLATES = Path(__file__).resolve().parent / "templates"
# How often idle tabs are looked for; an idle tab lives at most this much past its limit.
SWEEP_SECONDS = 30.0
# How long a desk may take to quit once its tab is gone.
QUIT_SECONDS = 10.0
# The terminal a page may ask for, in cells: a desk draws every cell of it, so a
# page asking for 20000x20000 would take gigabytes. Wider than any screen shows.
MAX_WIDTH, MAX_HEIGHT = 500, 200
MIN_WIDTH, MIN_HEIGHT = 10, 5
# Largest websocket message a page may send: keys, a paste, a resize; never a file.
MAX_MESSAGE_BYTES = 64 * 1024


def terminal_size(width: object, height: object) -> tuple[int, int]:
    """The terminal a page asked for, within ``MIN_``/``MAX_WIDTH`` and ``_HEIGHT``.

    A value that is not a whole number is the default 80x24's.
    """
    columns = min(max(to_int(str(width), 80), MIN_WIDTH), MAX_WIDTH)
    rows = min(max(to_int(str(height), 24), MIN_HEIGHT), MAX_HEIGHT)
    return columns, rows


@dataclass
class Tab:
    """One open browser session: its websocket and when it last sent a key."""

    id: str
    websocket: web.WebSocketResponse
    started_at: datetime
    last_input: float
    end_reason: EndReason = EndReason.CLOSED


class DeskService(AppService):
    """textual-serve's app process, started with callgate's environment added."""

    def __init__(self, command: str, environment: dict[str, str], **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self._extra_environment = environment

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return {**super()._build_environment(width, height), **self._extra_environment}

    async def stop(self) -> None:
        """Ask the desk to quit, then wait for it; one that does not quit is killed."""
        await super().stop()
        process = self._process
        if process is None:
            return
        try:
            await asyncio.wait_for(process.wait(), timeout=QUIT_SECONDS)
        except TimeoutError:
            log.warning("a desk process ignored quit: killing it")
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


@dataclass
class Limits:
    """The operator's limits, from the settings."""

    max_sessions: int
    idle_seconds: float

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits the settings name."""
        return cls(settings.web_max_sessions, settings.web_idle_minutes * 60.0)


@dataclass
class _State:
    tabs: dict[str, Tab] = field(default_factory=dict)
    sweeper: asyncio.Task[None] | None = None


class DeskServer(Server):
    """The web server: textual-serve with callgate's page and the operator's limits."""

    def __init__(
        self,
        command: str,
        environment: dict[str, str],
        settings: Settings,
        factory: sessionmaker[Session],
        *,
        host: str,
        port: int,
        public_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(command, host=host, port=port, title="callgate", public_url=public_url)
        self.templates_path = TEMPLATES
        self.environment = environment
        self.limits = Limits.of(settings)
        self.factory = factory
        self.clock = clock
        self._state = _State()

    @property
    def tabs(self) -> dict[str, Tab]:
        """The sessions open now, by id."""
        return self._state.tabs

    def page_origin(self, origin: str) -> bool:
        """Whether a websocket's Origin header is this server's page.

        The page's own origin is ``public_url``'s; on loopback, also the same
        page opened as localhost or 127.0.0.1, which the operator cannot tell
        apart. Any other site's page, or an Origin that is no URL, is refused.
        """
        return same_page(self.public_url, origin)

    def full(self) -> bool:
        """Whether another tab would exceed ``web_max_sessions``."""
        return len(self.tabs) >= self.limits.max_sessions

    async def _make_app(self) -> web.Application:
        """textual-serve's routes, less the static folder's listing and the file downloads.

        The desk delivers no files to the browser, so /download is not served.
        """
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    def serve(self, debug: bool = False) -> None:
        """Serve until SIGINT or SIGTERM; an address already in use raises OSError."""
        self.debug = debug
        self.initialize_logging()
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        runner = web.AppRunner(await self._make_app())
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
            # Said once listening, so the line is never printed for a port in use.
            self.console.print(
                f"callgate serve: {self.public_url} (at most {self.limits.max_sessions} tabs,"
                f" idle tabs ended after {self.limits.idle_seconds / 60:g} min); Ctrl+C stops",
                highlight=False,
            )
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await stop.wait()
        finally:
            await runner.cleanup()

    async def on_startup(self, app: web.Application) -> None:
        """Start looking for idle tabs."""
        self._state.sweeper = asyncio.create_task(self._sweep_forever())

    async def on_shutdown(self, app: web.Application) -> None:
        """End every tab, recording why, before the server goes."""
        if self._state.sweeper is not None:
            self._state.sweeper.cancel()
        for tab in list(self.tabs.values()):
            tab.end_reason = EndReason.SHUTDOWN
            await tab.websocket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopped")

    async def _sweep_forever(self) -> None:
        interval = min(SWEEP_SECONDS, self.limits.idle_seconds / 4)
        while True:
            await asyncio.sleep(interval)
            await self.end_idle_sessions(time.monotonic())

    async def end_idle_sessions(self, now: float) -> int:
        """Close every tab whose last key is ``idle_seconds`` before ``now``; how many."""
        idle = [t for t in self.tabs.values() if now - t.last_input >= self.limits.idle_seconds]
        for tab in idle:
            tab.end_reason = EndReason.IDLE
            log.info("session %s idle: ending it", tab.id)
            await tab.websocket.close(code=WSCloseCode.GOING_AWAY, message=b"idle")
        return len(idle)

    async def handle_index(self, request: web.Request) -> web.Response:
        """The desk's page, or the refusal page when every session is taken."""
        _require_valid_host(request)
        if self.full():
            context = {"max_sessions": self.limits.max_sessions}
            return aiohttp_jinja2.render_template("refused.html", request, context, status=503)
        page = aiohttp_jinja2.render_template("app_index.html", request, self._page(request))
        # Never inside another site's frame: a framed desk would take the agent's keys.
        page.headers["X-Frame-Options"] = "DENY"
        page.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        page.headers["Cache-Control"] = "no-store"
        return page

    def _page(self, request: web.Request) -> dict[str, Any]:
        """The template's values, as textual-serve computes them: URLs under public_url."""
        router = request.app.router
        static = f"{self.public_url}{router['static'].url_for(filename='/')}".rstrip("/") + "/"
        websocket = f"{self.public_url}{router['websocket'].url_for()}"
        scheme = "wss:" if self.public_url.startswith("https") else "ws:"
        return {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": scheme + websocket.split(":", 1)[1],
            "config": {"static": {"url": static}},
            "application": {"name": self.title},
        }

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """Run one desk process for this tab, within the limits, recording start and end."""
        _require_valid_host(request)
        origin = request.headers.get("Origin")
        if origin is not None and not self.page_origin(origin):
            # Another site's page in the agent's browser must not drive a desk.
            log.warning("refused a session from %s: page of %s", request.remote, origin)
            raise web.HTTPForbidden(text="this desk serves its own page only")
        if self.full():
            log.warning("refused a session from %s: %d open", request.remote, len(self.tabs))
            raise web.HTTPServiceUnavailable(text="every desk session is in use")
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE_BYTES)
        tab = Tab(uuid.uuid4().hex[:16], websocket, self.clock(), time.monotonic())
        # Registered before the first await, so two tabs racing cannot both take the last place.
        self.tabs[tab.id] = tab
        try:
            await websocket.prepare(request)
            await asyncio.to_thread(session_started, self.factory, tab.id, tab.started_at)
            log.info("session %s opened from %s", tab.id, request.remote)
            await self._run_desk(request, tab)
        except Exception:
            log.exception("session %s failed", tab.id)
        finally:
            del self.tabs[tab.id]
            with contextlib.suppress(Exception):
                await websocket.close()
            await self._record_end(tab)
        return websocket

    async def _run_desk(self, request: web.Request, tab: Tab) -> None:
        service = DeskService(
            self.command,
            self.environment,
            write_bytes=tab.websocket.send_bytes,
            write_str=tab.websocket.send_str,
            close=tab.websocket.close,
            download_manager=self.download_manager,
        )
        width, height = terminal_size(request.query.get("width"), request.query.get("height"))
        await service.start(width, height)
        try:
            await self._relay(tab, service)
        finally:
            # Asks the desk to quit; an open call stays open in the database.
            await service.stop()

    async def _relay(self, tab: Tab, service: DeskService) -> None:
        """Browser to desk, as textual-serve does; every key counts as activity."""
        async for message in tab.websocket:
            if message.type == WSMsgType.ERROR:
                # aiohttp closes a websocket whose message is over MAX_MESSAGE_BYTES.
                log.warning("session %s: %s, closing it", tab.id, message.data)
                continue
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
            except ValueError:
                continue  # not textual.js: nothing to relay
            if not isinstance(envelope, list) or not envelope:
                continue
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                tab.last_input = time.monotonic()
                await service.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await service.set_terminal_size(
                    *terminal_size(data.get("width"), data.get("height"))
                )
            elif kind == "ping":
                await tab.websocket.send_json(["pong", data])
            elif kind == "blur":
                await service.blur()
            elif kind == "focus":
                await service.focus()

    async def _record_end(self, tab: Tab) -> None:
        ended = self.clock()
        try:
            await asyncio.to_thread(
                session_ended, self.factory, tab.id, tab.end_reason, tab.started_at, ended
            )
        except Exception:
            log.exception("session %s: its end could not be recorded", tab.id)
        log.info("session %s ended (%s)", tab.id, tab.end_reason.value)


def _require_valid_host(request: web.Request) -> None:
    """A request whose Host header is no host[:port] is a 400, as HTTP/1.1 asks."""
    if not valid_host(request.headers.get("Host", "")):
        raise web.HTTPBadRequest(text="bad Host header")
