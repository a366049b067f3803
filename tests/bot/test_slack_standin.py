"""The Slack stand-in itself: records calls, answers as programmed, enforces Block Kit limits."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_api import SIGNING_SECRET, block_kit_problems, signed_headers, slash_command


async def test_records_calls_and_answers_defaults(slack_api) -> None:
    client = AsyncWebClient(token="xoxb-t", base_url=slack_api.api_url)
    auth = await client.auth_test()
    assert auth["user_id"] == "UBOT"
    posted = await client.chat_postMessage(channel="C1", text="hello")
    assert posted["ts"]
    [call] = await slack_api.wait_for("chat.postMessage")
    assert call.args == {"channel": "C1", "text": "hello"}
    assert call.headers["Authorization"] == "Bearer xoxb-t"


async def test_programmed_429_then_default_success(slack_api) -> None:
    client = AsyncWebClient(
        token="xoxb-t",
        base_url=slack_api.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack_api.reply("chat.postMessage", status=429, headers={"Retry-After": "0"})
    await client.chat_postMessage(channel="C1", text="hi")
    assert [c.status for c in slack_api.calls_to("chat.postMessage")] == [429, 200]


async def test_programmed_error_every_time(slack_api) -> None:
    client = AsyncWebClient(token="xoxb-t", base_url=slack_api.api_url)
    slack_api.reply("chat.postMessage", json={"ok": False, "error": "nope"}, times=None)
    for _ in range(2):
        with pytest.raises(SlackApiError, match="nope"):
            await client.chat_postMessage(channel="C1", text="hi")


async def test_response_url_and_block_limits(slack_api) -> None:
    too_many = [{"type": "divider"}] * 51
    async with aiohttp.ClientSession() as session:
        async with session.post(slack_api.response_url("k"), json={"text": "ok"}) as resp:
            assert resp.status == 200
        async with session.post(slack_api.response_url("k"), json={"blocks": too_many}) as resp:
            assert resp.status == 400
    calls = slack_api.calls_to("response_url")
    assert [c.args["key"] for c in calls] == ["k", "k"]
    problems = block_kit_problems({"blocks": too_many})
    assert any("fallback" in p for p in problems) and any("51 blocks" in p for p in problems)


def test_signed_headers_verify_like_slack() -> None:
    body, _ = slash_command("argo", response_url="http://127.0.0.1:9/response/x")
    headers = signed_headers(body)
    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
