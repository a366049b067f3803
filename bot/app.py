"""The Slack app: builds the Bolt ``AsyncApp``, registers the handlers, serves it.

``serve`` connects by Socket Mode when SLACK_APP_TOKEN is set, else listens for HTTP on PORT
(``POST /slack/events`` for Slack, ``GET /healthz`` for checks). In HTTP mode every request's
size, timestamp and signature are checked here, before Bolt sees it, and a refusal is one short
log line (Bolt's own check logs the whole body). slack-sdk's retry handlers deal with 429
(honouring Retry-After) and 5xx.

Example:
    >>> await serve(load_settings())  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import time
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ConfigError, Settings
from bot.feeds import start_feed_poller
from bot.health import HEALTH_PATH, SlackLink, health_report, health_route, start_health_server
from bot.scheduler import Poster, start_scheduler
from handlers import actions, commands, digest, home, mentions, search_form, shortcuts
from handlers.context import Deps, HandlerSettings
from handlers.overload import Capacity, LogBudget
from storage.clock import Clock
from storage.db import Store
from storage.search import search_cache

log = logging.getLogger("episode_bot")

EVENTS_PATH = "/slack/events"
__all__ = ["EVENTS_PATH", "HEALTH_PATH", "build_app", "build_client", "build_deps", "serve"]
# Slack's requests are a few KB (a button on a long message: some hundred); anything bigger is
# refused with 413 before it is read further.
MAX_REQUEST_BYTES = 1024 * 1024
_LIMIT = "1 MB"
# Slack's own rule: a request more than five minutes from now is refused (replays).
MAX_CLOCK_SKEW_SECONDS = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def retry_handlers() -> list[AsyncRetryHandler]:
    """slack-sdk's own: connection resets, 429 (waits Retry-After), 500/503 (with backoff)."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


def build_client(
    settings: Settings, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL as base URL, retry handlers installed."""
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        session=session,
        timeout=15,
        retry_handlers=retry_handlers(),
    )


def handler_settings(settings: Settings) -> HandlerSettings:
    """The part of the settings the handlers read."""
    return HandlerSettings(
        slash_command=settings.slash_command,
        admin_user_ids=settings.admin_user_ids,
        digest_channel=settings.digest_channel,
        digest_skip_empty=settings.digest_skip_empty,
        reaction_emoji=settings.reaction_emoji,
    )


def build_deps(store: Store, settings: Settings) -> Deps:
    """What the handlers run on, for Slack and the console alike: the store, their settings,
    and the digest's poster (bound to these settings)."""

    def digest_poster(store: Store, client: AsyncWebClient | None) -> Poster:
        return Poster.from_settings(store, client, settings)

    return Deps(
        store,
        handler_settings(settings),
        digest_poster=digest_poster,
        capacity=Capacity(settings.max_in_flight),
    )


def register_handlers(app: AsyncApp, deps: Deps) -> None:
    """Every handler module's listeners, on ``app`` (the starter template's register_listeners)."""
    commands.register(app, deps)
    mentions.register(app, deps)
    actions.register(app, deps)
    digest.register(app, deps)
    home.register(app, deps)
    search_form.register(app, deps)
    shortcuts.register(app, deps)


def build_app(settings: Settings, deps: Deps, *, client: AsyncWebClient | None = None) -> AsyncApp:
    """The Bolt app with every handler module registered.

    Bolt's own request verification is off: :func:`web_app` checks every HTTP request before
    it reaches Bolt (Bolt's check logs each rejected body at INFO, a 500 for a timestamp that
    is not a number); Socket Mode requests come over the authenticated socket.
    """
    client = client or build_client(settings)
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=False,
        logger=logging.getLogger("episode_bot.bolt"),
    )
    register_handlers(app, deps)

    @app.error
    async def on_error(error: Exception, body: dict) -> None:
        # Handlers catch their own failures (handlers/context.py: guarded); this is the net.
        kind = body.get("type") or body.get("command") or "request"
        log.error("unhandled %s: %s: %s", kind, type(error).__name__, error)

    return app


class RequestCheck:
    """Is this request from Slack? Its timestamp and ``v0=`` signature, checked as Slack says
    (https://docs.slack.dev/authentication/verifying-requests-from-slack/).

    :meth:`refusal` names what is wrong in a few words, never echoing the request.
    """

    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time):
        self.verifier = SignatureVerifier(signing_secret)
        self.clock = clock

    def refusal(self, timestamp: str | None, signature: str | None, body: bytes) -> str | None:
        if not timestamp or not signature:
            return "no X-Slack-Request-Timestamp or X-Slack-Signature header"
        if not _TIMESTAMP.fullmatch(timestamp):
            return "X-Slack-Request-Timestamp is not a Unix time"
        skew = abs(self.clock() - int(timestamp))
        if skew > MAX_CLOCK_SKEW_SECONDS:
            return f"timestamp {skew:.0f} s from now (over 5 minutes: a replay, or a clock off)"
        if not _SIGNATURE.fullmatch(signature):
            return "X-Slack-Signature is not a v0= signature"
        if not self.verifier.is_valid(body, timestamp, signature):
            return "bad signature (if every request is refused, check SLACK_SIGNING_SECRET)"
        return None


def web_app(app: AsyncApp, deps: Deps, signing_secret: str) -> web.Application:
    """HTTP mode: Slack's requests at POST /slack/events, health at GET /healthz
    (bot/health.py: the same report HEALTH_PORT serves).

    A request too big (413), or whose timestamp or signature is missing, malformed, stale or
    wrong (401), is refused before Bolt sees it, with one short log line (no body, no headers;
    a few a minute at most, then a count): a flood of forged requests cannot fill the log.
    """
    check = RequestCheck(signing_secret)
    refused = LogBudget(log, "requests refused")

    async def slack_events(request: web.Request) -> web.Response:
        body = b""
        too_big = (request.content_length or 0) > MAX_REQUEST_BYTES  # refused unread
        if not too_big:
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:  # no Content-Length, or a false one
                too_big = True
        if too_big:
            refused.log("refused a request from %s: body over %s", request.remote, _LIMIT)
            return web.json_response({"error": "request too large"}, status=413)
        reason = check.refusal(
            request.headers.get("X-Slack-Request-Timestamp"),
            request.headers.get("X-Slack-Signature"),
            body,
        )
        if reason is not None:
            refused.log("refused a request from %s: %s", request.remote, reason)
            return web.json_response({"error": "invalid request"}, status=401)
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    link = SlackLink("http")
    web_application = web.Application(client_max_size=MAX_REQUEST_BYTES)
    web_application.router.add_post(EVENTS_PATH, slack_events)
    web_application.router.add_get(
        HEALTH_PATH, health_route(lambda: health_report(deps.store, link))
    )
    return web_application


# -- background jobs -----------------------------------------------------------------------------
# Started by `serve` only (not by the console or tests), after the app is built. A job is an async
# function taking the open store, the settings and the Web API client; it returns an async "stop"
# function (or None). bot/scheduler.py's start_scheduler posts the weekly digest and new-episode
# announcements.
Stop = Callable[[], Awaitable[None]]
BackgroundJob = Callable[[Store, Settings, AsyncWebClient], Awaitable[Stop | None]]
# The scheduler first: it sets the announcement watermark before any feed is polled.
BACKGROUND_JOBS: list[BackgroundJob] = [start_scheduler, start_feed_poller]


async def start_background_jobs(
    store: Store, settings: Settings, client: AsyncWebClient
) -> list[Stop]:
    """Start every job in :data:`BACKGROUND_JOBS`; returns their stop functions."""
    stops = []
    for job in BACKGROUND_JOBS:
        stop = await job(store, settings, client)
        if stop is not None:
            stops.append(stop)
    return stops


# -- serving -------------------------------------------------------------------------------------
async def check_bot_token(client: AsyncWebClient, settings: Settings) -> dict:
    """auth.test at start, so a revoked or mistyped token is one clear line, not a failed reply."""
    try:
        return dict((await client.auth_test()).data)  # type: ignore[arg-type]
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else "unknown"
        raise ConfigError(f"Slack refused SLACK_BOT_TOKEN ({error}); copy it again") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise ConfigError(
            f"cannot reach Slack at SLACK_API_URL={settings.slack_api_url} ({type(exc).__name__})"
        ) from None


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    ready: Callable[[str], None] | None = None,
    clock: Clock | None = None,
) -> None:
    """Serve until ``stop`` is set (or SIGINT/SIGTERM). ``ready`` gets a line saying where.

    ``clock`` sets the time the database stamps rows with and the digest runs by (tests).
    """
    settings.check_for_serve()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, say
            pass
    try:
        await _serve(settings, stop, ready, clock)
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


async def _serve(settings: Settings, stop: asyncio.Event, ready, clock) -> None:  # noqa: ANN001
    # Only an existing database: a mistyped DATABASE_PATH must not serve an empty catalogue.
    async with await Store.open(settings.database_path, create=False, clock=clock) as store:
        async with aiohttp.ClientSession() as session:
            client = build_client(settings, session)
            auth = await check_bot_token(client, settings)
            deps = build_deps(store, settings)
            app = build_app(settings, deps, client=client)
            # Build search's vocabulary now, so the first member to search doesn't wait for it.
            await search_cache(store)
            link = SlackLink("socket" if settings.socket_mode else "http")
            health = None
            if settings.health_port:
                health = await start_health_server(
                    settings.host, settings.health_port, lambda: health_report(store, link)
                )
                log.info(
                    "health at http://%s:%d%s", settings.host, settings.health_port, HEALTH_PATH
                )
            stops = await start_background_jobs(store, settings, client)
            try:
                if settings.socket_mode:
                    await _serve_socket_mode(app, settings, stop, auth, ready, link)
                else:
                    await _serve_http(app, deps, settings, stop, auth, ready)
            finally:
                for stop_job in stops:
                    await stop_job()
                await deps.activity.close()  # the searches and shares still queued, written
                if health is not None:
                    await health.cleanup()


async def _serve_socket_mode(app, settings, stop, auth, ready, link) -> None:  # noqa: ANN001
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(app, settings.slack_app_token)
    link.socket = handler.client
    try:
        await handler.connect_async()
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else "unknown"
        raise ConfigError(f"Slack refused SLACK_APP_TOKEN ({error}); copy it again") from None
    line = f"connected to Slack workspace {auth.get('team')!r} as @{auth.get('user')} (Socket Mode)"
    log.info(line)
    if ready:
        ready(line)
    try:
        await stop.wait()
    finally:
        await handler.close_async()


async def _serve_http(app, deps, settings, stop, auth, ready) -> None:  # noqa: ANN001
    runner = web.AppRunner(web_app(app, deps, settings.slack_signing_secret), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(
                f"PORT={settings.port}: cannot listen there ({exc.strerror})"
            ) from None
        line = (
            f"serving workspace {auth.get('team')!r} as @{auth.get('user')}: Slack requests at "
            f"http://{settings.host}:{settings.port}{EVENTS_PATH}, health at {HEALTH_PATH}"
        )
        log.info(line)
        if ready:
            ready(line)
        await stop.wait()
    finally:
        await runner.cleanup()
