"""Settings from the environment and ``.env`` (the real environment wins)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

from bot.schedule import ScheduleError, check_schedule, parse_timezone
from handlers.slack_ids import is_channel_id, is_user_id


class ConfigError(Exception):
    """A missing or malformed setting; the message names the variable (never its value)."""


@dataclass(frozen=True)
class Settings:
    database_path: str = "data/episodes.db"
    glossary_path: str | None = None
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_api_url: str = "https://slack.com/api/"
    slash_command: str = "/episodes"
    port: int = 3000
    host: str = "0.0.0.0"  # noqa: S104 - HTTP mode must be reachable by Slack
    log_level: str = "INFO"
    # Requests worked on at once (handlers/overload.py); past it and a short queue: "busy".
    max_in_flight: int = 8
    # The weekly digest and new-episode announcements (bot/schedule.py, bot/scheduler.py).
    digest_channel: str | None = None
    digest_schedule: str = "mon 09:00"
    digest_timezone: str = "UTC"
    digest_skip_empty: bool = True
    admin_user_ids: frozenset[str] = frozenset()
    announce_channel: str | None = None
    # Keeping the catalogue current (bot/feeds.py) and running it for real.
    feeds: tuple[str, ...] = ()
    feed_poll_minutes: float = 60  # a whole number from the environment; tests poll faster
    watch_dirs: tuple[str, ...] = ()
    health_port: int | None = None
    log_format: str = "text"
    # A reaction (emoji name, no colons) that asks the bot to answer a message in its thread.
    reaction_emoji: str | None = None

    @property
    def has_slack(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    def check_for_serve(self) -> None:
        """Raise ConfigError naming the first setting ``serve`` cannot work with.

        Socket Mode needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN; HTTP mode needs SLACK_BOT_TOKEN
        and SLACK_SIGNING_SECRET.
        """
        if not self.slack_bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: put the bot token (xoxb-...) in .env "
                "(README, 'Connect to Slack'), or try the bot locally: python -m bot console"
            )
        if not self.slack_bot_token.startswith("xoxb-"):
            raise ConfigError(
                "SLACK_BOT_TOKEN must be a bot token starting with xoxb- "
                "(OAuth & Permissions -> Bot User OAuth Token)"
            )
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            raise ConfigError(
                "SLACK_APP_TOKEN must be an app-level token starting with xapp- "
                "(Basic Information -> App-Level Tokens, scope connections:write)"
            )
        if not self.slack_app_token and self.health_port == self.port:
            raise ConfigError(
                "HEALTH_PORT is the same as PORT: HTTP mode already answers GET /healthz on "
                "PORT; leave HEALTH_PORT unset, or give it another port"
            )
        if not self.slack_app_token and not self.slack_signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify Slack's requests "
                "(Basic Information -> App Credentials), or set SLACK_APP_TOKEN for Socket Mode"
            )


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_LOG_FORMATS = ("text", "json")


def _list(raw: str) -> list[str]:
    """A comma- (or space-) separated setting's items."""
    return [i for i in re.split(r"[\s,]+", raw.strip()) if i]


def _feeds(name: str) -> tuple[str, ...]:
    from urllib.parse import urlsplit

    urls = _list(os.environ.get(name, ""))
    for n, url in enumerate(urls, 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"{name}: entry {n} is not an http(s) URL; list feed URLs such as "
                "https://example.com/feed.xml, separated by commas"
            )
    return tuple(dict.fromkeys(urls))


def _folders(name: str) -> tuple[str, ...]:
    folders = _list(os.environ.get(name, ""))
    for n, folder in enumerate(folders, 1):
        if not Path(folder).is_dir():
            raise ConfigError(
                f"{name}: entry {n} is not a folder that exists; list folders of transcripts, "
                "separated by commas"
            )
    return tuple(dict.fromkeys(folders))


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number") from None


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE | _FALSE:
        return raw in _TRUE
    raise ConfigError(f"{name} must be true or false")


def _channel(name: str) -> str | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    if not is_channel_id(raw.upper()):
        raise ConfigError(
            f"{name} must be a channel ID such as C0123ABCDE (in Slack: open the channel, click "
            "its name; the ID is at the bottom of the About tab), not a channel name"
        )
    return raw.upper()


def _user_ids(name: str) -> frozenset[str]:
    items = _list(os.environ.get(name, ""))
    for n, item in enumerate(items, 1):
        if not is_user_id(item.upper()):
            raise ConfigError(
                f"{name}: entry {n} is not a Slack user ID; list IDs such as U0123ABCDE, "
                "separated by commas (in Slack: a profile's ⋮ menu -> Copy member ID)"
            )
    return frozenset(i.upper() for i in items)


def _emoji(name: str) -> str | None:
    raw = os.environ.get(name, "").strip().strip(":")
    if not raw:
        return None
    if not re.fullmatch(r"[a-z0-9_+'-]{1,100}", raw):
        raise ConfigError(
            f"{name} must be an emoji's name as Slack writes it, such as mag or question "
            "(lower case, no spaces; colons are optional)"
        )
    return raw


def _digest_schedule(schedule: str, timezone: str) -> None:
    """Check DIGEST_TIMEZONE and DIGEST_SCHEDULE the way the scheduler will read them."""
    try:
        parse_timezone(timezone)
    except ScheduleError as exc:
        raise ConfigError(f"DIGEST_TIMEZONE {exc}") from None
    try:
        check_schedule(schedule, timezone)
    except ScheduleError as exc:
        raise ConfigError(f"DIGEST_SCHEDULE: {exc}") from None


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read settings; ``.env`` fills in only what the environment does not already set."""
    if env_file and Path(env_file).is_file():
        load_dotenv(env_file, override=False)

    def get(name: str) -> str | None:
        value = os.environ.get(name, "").strip()
        return value or None

    command = get("SLASH_COMMAND") or "/episodes"
    if not command.startswith("/"):
        raise ConfigError("SLASH_COMMAND must start with '/' (for example /episodes)")
    api_url = get("SLACK_API_URL") or "https://slack.com/api/"
    if not api_url.startswith(("http://", "https://")):
        raise ConfigError("SLACK_API_URL must be an http(s) URL")
    port = _int("PORT", 3000)
    if not 1 <= port <= 65535:
        raise ConfigError("PORT must be between 1 and 65535")
    max_in_flight = _int("MAX_IN_FLIGHT", 8)
    if not 1 <= max_in_flight <= 1000:
        raise ConfigError("MAX_IN_FLIGHT must be between 1 and 1000")
    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}")
    log_format = (get("LOG_FORMAT") or "text").lower()
    if log_format not in _LOG_FORMATS:
        raise ConfigError("LOG_FORMAT must be text or json")
    poll_minutes = _int("FEED_POLL_MINUTES", 60)
    if not 1 <= poll_minutes <= 7 * 24 * 60:
        raise ConfigError("FEED_POLL_MINUTES must be between 1 and 10080 (a week)")
    health_port = _int("HEALTH_PORT", 0) or None
    if health_port is not None and not 1 <= health_port <= 65535:
        raise ConfigError("HEALTH_PORT must be between 1 and 65535")
    digest_schedule = get("DIGEST_SCHEDULE") or "mon 09:00"
    digest_timezone = get("DIGEST_TIMEZONE") or "UTC"
    _digest_schedule(digest_schedule, digest_timezone)
    return Settings(
        database_path=get("DATABASE_PATH") or "data/episodes.db",
        glossary_path=get("GLOSSARY_PATH"),
        slack_bot_token=get("SLACK_BOT_TOKEN"),
        slack_app_token=get("SLACK_APP_TOKEN"),
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
        slash_command=command,
        port=port,
        host=get("HOST") or "0.0.0.0",  # noqa: S104
        log_level=log_level,
        max_in_flight=max_in_flight,
        digest_channel=_channel("DIGEST_CHANNEL"),
        digest_schedule=digest_schedule,
        digest_timezone=digest_timezone,
        digest_skip_empty=_bool("DIGEST_SKIP_EMPTY", True),
        admin_user_ids=_user_ids("ADMIN_USER_IDS"),
        announce_channel=_channel("ANNOUNCE_CHANNEL"),
        feeds=_feeds("FEEDS"),
        feed_poll_minutes=poll_minutes,
        watch_dirs=_folders("WATCH_DIRS"),
        health_port=health_port,
        log_format=log_format,
        reaction_emoji=_emoji("REACTION_EMOJI"),
    )
