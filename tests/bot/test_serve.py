"""``serve`` end to end: HTTP mode on a real port, Socket Mode over the stand-in's WebSocket,
and the settings it refuses to start with (one clear line, no token in it)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.app import serve
from bot.cli import main
from bot.config import ConfigError, Settings, load_settings
from tests.bot.harness import test_settings
from tests.conftest import ROOT
from tests.slack_api import (
    BOT_USER_ID,
    post_signed,
    slash_command,
    slash_command_fields,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start(settings: Settings) -> tuple[asyncio.Task, asyncio.Event, str]:
    stop, ready = asyncio.Event(), asyncio.Event()
    lines: list[str] = []

    def on_ready(line: str) -> None:
        lines.append(line)
        ready.set()

    task = asyncio.create_task(serve(settings, stop=stop, ready=on_ready))
    done, _ = await asyncio.wait(
        {task, asyncio.create_task(ready.wait())}, timeout=10, return_when="FIRST_COMPLETED"
    )
    if task in done:
        task.result()  # raises what stopped it
    assert lines, "serve did not become ready"
    return task, stop, lines[0]


async def test_http_mode_serves_slack_and_health(bot_db, slack_api) -> None:
    port = free_port()
    settings = test_settings(bot_db, slack_api, port=port)
    task, stop, line = await start(settings)
    try:
        assert f"http://127.0.0.1:{port}/slack/events" in line
        assert slack_api.calls_to("auth.test")  # the token was checked at start
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
            body = slash_command("argo", response_url=slack_api.response_url())
            status, _ = await post_signed(http, f"http://127.0.0.1:{port}/slack/events", body)
            assert status == 200
        [reply] = await slack_api.wait_for("response_url")
        assert "Quotes 1–3" in reply.args["text"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_socket_mode_answers_over_the_socket(bot_db, slack_api) -> None:
    settings = test_settings(
        bot_db, slack_api, slack_app_token="xapp-1-test", slack_signing_secret=None
    )
    task, stop, line = await start(settings)
    try:
        assert "Socket Mode" in line
        [opened] = slack_api.calls_to("apps.connections.open")
        assert opened.headers["Authorization"] == "Bearer xapp-1-test"
        fields = slash_command_fields("argo", response_url=slack_api.response_url())
        envelope = await slack_api.socket_send("slash_commands", fields)
        [ack] = await slack_api.wait_for("socket_ack")
        assert ack.args["envelope_id"] == envelope
        [reply] = await slack_api.wait_for("response_url")
        assert reply.args["response_type"] == "ephemeral"
        event = {
            "type": "event_callback", "event_id": "EvSocket", "team_id": "T0TEST",
            "event": {"type": "app_mention", "user": "U0ASKER", "channel": "C0GENERAL",
                      "text": f"<@{BOT_USER_ID}> what is devrel?", "ts": "1700000500.000100"},
        }  # fmt: skip
        await slack_api.socket_send("events_api", event)
        [post] = await slack_api.wait_for("chat.postMessage")
        assert post.args["thread_ts"] == "1700000500.000100"
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_revoked_token_is_one_clear_error(bot_db, slack_api) -> None:
    slack_api.reply("auth.test", json={"ok": False, "error": "invalid_auth"})
    settings = test_settings(bot_db, slack_api, slack_bot_token="xoxb-revoked-SECRET")
    with pytest.raises(ConfigError) as err:
        await serve(settings, stop=asyncio.Event())
    assert str(err.value) == "Slack refused SLACK_BOT_TOKEN (invalid_auth); copy it again"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-s3cr3t-user-token"}, "SLACK_BOT_TOKEN must be a bot token"),
        ({"SLACK_BOT_TOKEN": "xoxb-s3cr3t"}, "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-s3cr3t", "SLACK_APP_TOKEN": "xoxb-s3cr3t2"}, "SLACK_APP_TOKEN"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-s3cr3t", "SLACK_APP_TOKEN": "xapp-s3cr3t", "PORT": "http"},
            "PORT",
        ),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL must be an http(s) URL"),
        ({"MAX_IN_FLIGHT": "0"}, "MAX_IN_FLIGHT must be between 1 and 1000"),
        ({"MAX_IN_FLIGHT": "many"}, "MAX_IN_FLIGHT must be a whole number"),
    ],
)
def test_serve_refuses_bad_settings_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, env, names
) -> None:
    for name in [n for n in os.environ if n.startswith(("SLACK_", "PORT", "LOG"))]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    assert main(["serve", "--db", str(tmp_path / "x.db")]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert names in err
    assert "s3cr3t" not in err + out
    assert "Traceback" not in err


def test_settings_from_env_file(tmp_path: Path, monkeypatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLASH_COMMAND", "SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / ".env"
    env.write_text(
        "SLACK_BOT_TOKEN=xoxb-from-file\nSLACK_APP_TOKEN=xapp-from-file\nSLASH_COMMAND=/ep\n"
        "SLACK_API_URL=http://127.0.0.1:9/api\n"
    )
    settings = load_settings(env)
    settings.check_for_serve()
    assert settings.socket_mode and settings.slash_command == "/ep"
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert "xoxb" not in repr(settings) and "xapp" not in repr(settings)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLASH_COMMAND", "SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)


async def test_make_run_serves_when_tokens_are_set(tmp_path: Path, slack_api) -> None:
    port = free_port()
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PORT", "LOG"))}
    env = {
        **keep, "PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": "xoxb-run-s3cr3t",
        "SLACK_SIGNING_SECRET": "run-s3cr3t", "SLACK_API_URL": slack_api.api_url,
        "PORT": str(port), "HOST": "127.0.0.1",
    }  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--db", str(tmp_path / "run.db"),
        cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        seen = b""
        while b"serving workspace" not in seen:
            line = await asyncio.wait_for(proc.stderr.readline(), 30)
            assert line, seen.decode()
            seen += line
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
    finally:
        proc.terminate()
        rest = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    assert b"s3cr3t" not in seen + rest[0] + rest[1]


def test_make_run_without_tokens_starts_the_console(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--db", str(tmp_path / "demo.db")],
        input="/episodes help\n", capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "To connect a workspace" in done.stdout and "manifest.yml" in done.stdout
    assert "/episodes latest — the newest episodes" in done.stdout


@pytest.mark.parametrize("command", ["serve", "console"])
def test_serve_and_console_refuse_a_database_that_does_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, slack_api,
    command: str,
) -> None:  # fmt: skip
    for name in [n for n in os.environ if n.startswith(("SLACK_", "PORT", "LOG"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-s3cr3t")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cr3t")
    monkeypatch.setenv("SLACK_API_URL", slack_api.api_url)
    monkeypatch.setenv("PORT", str(free_port()))
    monkeypatch.chdir(tmp_path)
    typo = tmp_path / "epsiodes.db"  # a mistyped DATABASE_PATH
    assert main([command, "--db", str(typo)]) == 2
    out, err = capsys.readouterr()
    assert err == f"error: no database at {typo}; ingest episodes first: " \
        f"python -m bot ingest PATH --db {typo}\n"  # fmt: skip
    assert not typo.exists()  # nothing made on the way out
