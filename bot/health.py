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


HEALTH_TIMEOUT = 3.0  # seconds; a check that takes longer reports unhealthy
_last_problem: dict[int, str | None] = {}  # per store: logged when it changes, not every probe


async def health_report(store: Store, slack: SlackLink | None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body): 200 when the database can be read and written (within
    :data:`HEALTH_TIMEOUT`) and Slack is connected, else 503 with a one-line ``error``.

    An empty catalogue is healthy (``episodes: 0``); another process writing (an ingest) is
    no fault.

    Example:
        >>> await health_report(store, SlackLink("http"))  # doctest: +SKIP
        (200, {'ok': True, 'episodes': 200, 'database': 'ok', 'slack': {'mode': 'http', ...}})
    """
    health = await store.health(timeout=HEALTH_TIMEOUT)
    previous = _last_problem.get(id(store))
    if health.problem != previous:
        if health.problem:
            log.warning("health check: %s (%s)", health.problem, store.path)
        elif previous:
            log.info("health check: the database is usable again")
        _last_problem[id(store)] = health.problem
    body: dict[str, Any] = {"ok": health.ok}
    if health.ok:
        body.update(episodes=health.episodes, database="ok")
        if health.writer_busy:
            body["note"] = "another process is writing to the database"
    else:
        body.update(database="unusable", error=health.problem)
    if slack is not None:
        try:
            body["slack"] = await slack.status()
        except Exception as exc:  # noqa: BLE001
            body["slack"] = {"mode": slack.mode, "ok": False, "error": type(exc).__name__}
        if not body["slack"]["ok"]:
            body["ok"] = False
            body.setdefault("error", "not connected to Slack")
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
