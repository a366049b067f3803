"""The real Slack app on loopback for tests: HTTP mode on an ephemeral port, Web API stand-in.

Usage::

    async with running_bot(db_path, slack_api) as bot:
        status, _ = await bot.send(slash_command("argo", response_url=slack_api.response_url()))
        [reply] = await slack_api.wait_for("response_url")

Everything is the production wiring (bot.app: build_client, build_deps, build_app, web_app);
only the addresses differ: the Web API is the stand-in, and the server listens on
127.0.0.1:<free port>.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import EVENTS_PATH, build_app, build_client, build_deps, web_app
from bot.config import Settings
from handlers.context import Deps
from handlers.overload import Capacity
from storage.clock import Clock
from storage.db import Store
from tests.slack_api import BOT_TOKEN, SIGNING_SECRET, SlackApi, post_signed


@dataclass
class BotUnderTest:
    url: str  # http://127.0.0.1:<port>
    deps: Deps
    http: aiohttp.ClientSession

    @property
    def store(self) -> Store:
        return self.deps.store

    async def send(self, body_and_type: tuple[str, str], **kwargs: Any) -> tuple[int, str]:
        """POST a Slack request to /slack/events, signed (see tests.slack_api.post_signed)."""
        return await post_signed(self.http, self.url + EVENTS_PATH, body_and_type, **kwargs)


def test_settings(db_path: Path | str, slack_api: SlackApi, **overrides: Any) -> Settings:
    base = Settings(
        database_path=str(db_path),
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_api.api_url,
        host="127.0.0.1",
        port=0,
    )
    return replace(base, **overrides)


test_settings.__test__ = False  # type: ignore[attr-defined] - a helper, not a test


@asynccontextmanager
async def running_bot(
    db_path: Path | str,
    slack_api: SlackApi,
    *,
    clock: Clock | None = None,
    capacity: Capacity | None = None,
    **overrides: Any,
) -> AsyncIterator[BotUnderTest]:
    """The app serving HTTP on 127.0.0.1; ``clock`` sets its store's time (stamps, the digest);
    ``capacity``: instead of the one MAX_IN_FLIGHT makes (to set its queue and deadline)."""
    settings = test_settings(db_path, slack_api, **overrides)
    async with await Store.open(settings.database_path, clock=clock) as store:
        async with aiohttp.ClientSession() as session:
            deps = build_deps(store, settings)
            if capacity is not None:
                deps = replace(deps, capacity=capacity)
            app = build_app(settings, deps, client=build_client(settings, session))
            runner = web.AppRunner(
                web_app(app, deps, settings.slack_signing_secret or ""), access_log=None
            )
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            try:
                yield BotUnderTest(f"http://127.0.0.1:{port}", deps, session)
            finally:
                await runner.cleanup()
                await deps.activity.close()
