"""manifest.yml asks for what the handlers listen to, and only the scopes they need."""

from __future__ import annotations

import yaml

from bot.config import Settings
from tests.conftest import ROOT


def test_manifest_matches_the_app() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == Settings().slash_command
    assert command["should_escape"] is False
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention", "message.im", "app_home_opened",
    }  # fmt: skip
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands", "app_mentions:read", "chat:write", "chat:write.public", "im:history",
        "users:read",
    }  # fmt: skip
    # the message shortcut, with the callback_id the app listens for
    from handlers.shortcuts import FIND_EPISODES

    [shortcut] = [s for s in manifest["features"]["shortcuts"] if s["type"] == "message"]
    assert shortcut["callback_id"] == FIND_EPISODES
    assert len(shortcut["name"]) <= 24 and len(shortcut["description"]) <= 150
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_manifest_declares_the_search_shortcut() -> None:
    from handlers.views import SEARCH_SHORTCUT

    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    shortcuts = {s["callback_id"]: s for s in manifest["features"]["shortcuts"]}
    assert shortcuts[SEARCH_SHORTCUT]["type"] == "global"
    assert len(shortcuts[SEARCH_SHORTCUT]["name"]) <= 24
