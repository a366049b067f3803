"""Health: one report of the database and the Slack connection, answered at ``GET /healthz``
in HTTP mode (on PORT, beside Slack's requests) and, with ``HEALTH_PORT`` set, on a port of
its own in either mode (Socket Mode has no HTTP server otherwise)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.config import ConfigError
from storage.db import Store

log = logging.getLogger("episode_bot.health")

HEALTH_PATH = "/healthz"


@dataclass
class SlackLink:
    """How the app is connected to Slack; Socket Mode fills in ``socket`` once it connects."""

    mode: str  # "socket" or "http"
    socket: Any = None  # the Socket Mode client (slack_sdk), with is_connected()

    async def status(self) -> dict[str, Any]:
        if self.mode == "http":
            # Slack connects to us: there is no connection to lose between requests.
            return {"mode": "http", "ok": True}
        connected = bool(self.socket is not None and await self.socket.is_connected())
        return {"mode": "socket", "ok": connected, "connected": connected}


async def health_report(store: Store, slack: SlackLink | None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body): 200 when the database answers and Slack is connected, else 503.

    Example:
        >>> await health_report(store, SlackLink("http"))  # doctest: +SKIP
        (200, {'ok': True, 'episodes': 200, 'database': 'ok', 'slack': {'mode': 'http', ...}})
    """
    body: dict[str, Any] = {"ok": True}
    try:
        row = await store.fetchone("SELECT count(*) FROM episodes")
        body.update(episodes=row[0], database="ok")
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        log.warning("health check: database not readable: %s", exc)
        body.update(ok=False, database="not readable")
    if slack is not None:
        try:
            body["slack"] = await slack.status()
        except Exception as exc:  # noqa: BLE001
            body["slack"] = {"mode": slack.mode, "ok": False, "error": type(exc).__name__}
        body["ok"] = body["ok"] and body["slack"]["ok"]
    return (200 if body["ok"] else 503), body


def health_route(report: Callable[[], Awaitable[tuple[int, dict[str, Any]]]]):  # noqa: ANN201
    """An aiohttp handler answering with ``report()``."""

    async def healthz(request: web.Request) -> web.Response:
        status, body = await report()
        return web.json_response(body, status=status)

    return healthz


async def start_health_server(
    host: str, port: int, report: Callable[[], Awaitable[tuple[int, dict[str, Any]]]]
) -> web.AppRunner:
    """``GET /healthz`` on ``host:port``; the caller cleans the returned runner up."""
    application = web.Application()
    application.router.add_get(HEALTH_PATH, health_route(report))
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"HEALTH_PORT={port}: cannot listen there ({exc.strerror})") from None
    return runner
