"""Requests not from Slack are refused before Bolt sees them, each in one short log line.

Forged, stale, malformed and oversized requests are posted to the real app on 127.0.0.1 and the
log is captured at DEBUG: no body, no signature, no token in it, whatever the request carried.
"""

from __future__ import annotations

import logging
import time

import pytest

from bot.app import MAX_REQUEST_BYTES
from tests.slack_api import BOT_TOKEN, SIGNING_SECRET, signed_headers, slash_command

MARKER = "FORGEDBODYMARKER"
LEGACY_TOKEN = "legacy-verification-token"  # what slash_command() puts in the body's `token`


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]


async def post_raw(bot, data: bytes, headers: dict[str, str]) -> int:
    async with bot.http.post(bot.url + "/slack/events", data=data, headers=headers) as resp:
        await resp.read()
        return resp.status


async def test_forged_requests_are_one_short_line_each(bot, slack_api, caplog) -> None:
    """20 forged 900 KB posts: 401 each, a few short lines, none of the body (was 18 MB)."""
    body = ("text=" + MARKER * (900_000 // len(MARKER))).encode()
    with caplog.at_level(logging.DEBUG):
        for _ in range(20):
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                **signed_headers(body.decode(), secret="not-the-signing-secret"),
            }
            assert await post_raw(bot, body, headers) == 401
    lines = refusal_lines(caplog)
    assert 1 <= len(lines) <= 20
    assert all(len(line) < 200 and "bad signature" in line for line in lines)
    assert MARKER not in caplog.text and headers["X-Slack-Signature"] not in caplog.text
    assert len(caplog.text) < 20 * 300
    await slack_api.quiet(0.1)
    assert slack_api.calls == []


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"X-Slack-Request-Timestamp": "not-a-number"}, "not a Unix time"),
        ({"X-Slack-Request-Timestamp": "1e9"}, "not a Unix time"),
        ({"X-Slack-Request-Timestamp": "-1"}, "not a Unix time"),
        ({"X-Slack-Request-Timestamp": "9" * 40}, "not a Unix time"),
        ({"X-Slack-Request-Timestamp": ""}, "no X-Slack-Request-Timestamp"),
        ({"X-Slack-Signature": ""}, "no X-Slack-Request-Timestamp or X-Slack-Signature"),
        ({"X-Slack-Signature": "v0=zz"}, "not a v0= signature"),
        ({"X-Slack-Signature": "v1=" + "0" * 64}, "not a v0= signature"),
        ({"X-Slack-Request-Timestamp": str(int(time.time()) + 3600)}, "over 5 minutes"),
    ],
)
async def test_bad_timestamps_and_headers_get_401_in_one_line(
    bot, slack_api, caplog, headers, reason
) -> None:
    body, content_type = slash_command("argo", response_url=slack_api.response_url())
    sent = {"Content-Type": content_type, **signed_headers(body), **headers}
    with caplog.at_level(logging.DEBUG):
        assert await post_raw(bot, body.encode(), sent) == 401
    [line] = refusal_lines(caplog)
    assert reason in line and len(line) < 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text and LEGACY_TOKEN not in caplog.text
    await slack_api.quiet(0.1)
    assert slack_api.calls_to("response_url") == []


async def test_missing_headers_get_401(bot, slack_api, caplog) -> None:
    body, content_type = slash_command("argo", response_url=slack_api.response_url())
    with caplog.at_level(logging.INFO):
        assert await post_raw(bot, body.encode(), {"Content-Type": content_type}) == 401
    [line] = refusal_lines(caplog)
    assert "no X-Slack-Request-Timestamp or X-Slack-Signature header" in line


async def test_oversized_request_is_413_in_one_line(bot, slack_api, caplog) -> None:
    body = ("text=" + MARKER * (2 * MAX_REQUEST_BYTES // len(MARKER))).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body.decode())}
    with caplog.at_level(logging.DEBUG):
        assert await post_raw(bot, body, headers) == 413
        # streamed without a Content-Length: refused once the limit is read past
        chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))

        async def stream():
            for chunk in chunks:
                yield chunk

        assert await post_raw(bot, stream(), headers) == 413
    lines = refusal_lines(caplog)
    assert len(lines) == 2 and all("body over 1 MB" in x for x in lines)
    assert MARKER not in caplog.text


async def test_refusals_beyond_the_budget_are_counted_not_logged(bot, slack_api, caplog) -> None:
    body, content_type = slash_command("argo", response_url=slack_api.response_url())
    headers = {"Content-Type": content_type, **signed_headers(body, secret="wrong")}
    with caplog.at_level(logging.INFO):
        for _ in range(30):
            assert await post_raw(bot, body.encode(), headers) == 401
    assert len(refusal_lines(caplog)) == 10  # the rest are counted in the next minute's line


async def test_a_signed_request_still_goes_through(bot, slack_api, caplog) -> None:
    """At DEBUG, with the libraries logging all they do: no token, no request body."""
    body = slash_command("argo", response_url=slack_api.response_url())
    with caplog.at_level(logging.DEBUG):
        status, _ = await bot.send(body)
        [reply] = await slack_api.wait_for("response_url")
    assert status == 200 and "Quotes 1–3" in reply.args["text"]
    assert caplog.records
    for secret in (BOT_TOKEN, SIGNING_SECRET, LEGACY_TOKEN, "trigger_id", "team_domain"):
        assert secret not in caplog.text
