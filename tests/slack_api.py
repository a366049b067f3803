"""A local stand-in for Slack in tests: its Web API and response URLs, and the requests it sends.

Two halves, both on 127.0.0.1 only:

**Slack's side of the Web API.** :class:`SlackApi` is an aiohttp server on an ephemeral port that
answers Web API methods (``/api/<method>``) and response URLs (``/response/<key>``), records every
call, and can be programmed to answer badly (429 with ``Retry-After``, 500, ``ok: false``). Like
real Slack it refuses messages that break Block Kit limits (see :func:`block_kit_problems`), so any
test that posts through it also checks the message. Use the ``slack_api`` fixture
(tests/conftest.py)::

    async def test_post(slack_api):
        client = AsyncWebClient(token="xoxb-test", base_url=slack_api.api_url)
        slack_api.reply("chat.postMessage", status=429, headers={"Retry-After": "0"})  # once
        slack_api.reply("chat.postMessage", json={"ok": False, "error": "channel_not_found"})
        ...
        [call] = await slack_api.wait_for("chat.postMessage")
        assert call.args["channel"] == "C1"

Unprogrammed calls get a plausible success (``auth.test`` names the bot ``UBOT``/``BBOT``;
``chat.postMessage`` returns a fresh ``ts``). Calls to response URLs are recorded with method
``"response_url"`` and ``args["key"]`` set to the URL's key. ``hold(method)`` makes answers to
``method`` wait until released (to see what the bot does before Slack answers).

Socket Mode is there too: ``apps.connections.open`` hands out ``ws://127.0.0.1:<port>/socket-mode``;
``await slack_api.socket_send("slash_commands", payload)`` pushes an envelope to the connected app
and its acknowledgement is recorded as method ``"socket_ack"``.

**Slack's side of the bot's endpoint.** Slack signs every request it sends; :func:`signed_headers`
signs a body exactly as Slack does (``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}``), and
:func:`slash_command`, :func:`event_callback` and :func:`block_actions` build the bodies Slack sends
for a slash command, an Events API event and a button click. :func:`post_signed` sends one.

Every wait here is bounded; nothing leaves loopback.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0TEST"
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token"


@dataclass(frozen=True)
class Call:
    """One request the stand-in received, and what it answered."""

    method: str  # Web API method ("chat.postMessage"), or "response_url"
    args: dict[str, Any]  # query, form and JSON body merged; JSON-encoded form fields decoded
    headers: dict[str, str]
    status: int
    answer: Any
    at: float  # time.monotonic() when it arrived


@dataclass
class _Reply:
    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = 1  # None: for every later call


class SlackApi:
    """Slack's Web API and response URLs on ``127.0.0.1:<ephemeral port>``; see the module doc."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._programmed: dict[str, deque[_Reply]] = defaultdict(deque)
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._holds: dict[str, asyncio.Event] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._envelopes = itertools.count(1)
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> SlackApi:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_get("/socket-mode", self._socket_mode)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        for event in self._holds.values():
            event.set()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackApi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- addresses -----------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """The Web API base URL (what ``SLACK_API_URL`` is set to), ending in ``/``."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, key: str = "r1") -> str:
        """A response URL; calls to it are recorded with method ``"response_url"``."""
        return f"http://127.0.0.1:{self.port}/response/{key}"

    # -- programming ---------------------------------------------------------------------------
    def reply(
        self,
        method: str,
        *,
        status: int = 200,
        json: Any = None,  # noqa: A002 - mirrors aiohttp
        headers: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` this way (``None``: every later call).

        Programmed answers are used in the order given, then the default success resumes.
        ``method`` is a Web API method name or ``"response_url"``. ``json`` defaults to
        ``{"ok": true}`` for 200 and ``{"ok": false, "error": "..."}`` otherwise.
        """
        self._programmed[method].append(_Reply(status, json, dict(headers or {}), times))

    def hold(self, method: str) -> asyncio.Event:
        """Make answers to ``method`` wait until the returned event is set (at most 10 s)."""
        event = asyncio.Event()
        self._holds[method] = event
        return event

    def reset(self) -> None:
        """Forget recorded calls and programmed answers."""
        self.calls.clear()
        self._programmed.clear()

    # -- inspection ----------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """The calls to ``method`` once there are at least ``count``; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while len(self.calls_to(method)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(
                        f"expected {count} call(s) to {method} within {timeout}s; got {seen}"
                    )
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    pass
        return self.calls_to(method)

    async def quiet(self, seconds: float = 0.2) -> None:
        """Wait until no call has arrived for ``seconds`` (bounded: at most 5 s)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            last = self.calls[-1].at if self.calls else 0.0
            if time.monotonic() - last >= seconds:
                return
            await asyncio.sleep(seconds / 4)

    # -- serving -------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _request_args(request)
        default = self._default_answer(method, args)
        return await self._answer(request, method, args, default)

    async def _response_url(self, request: web.Request) -> web.Response:
        args = await _request_args(request)
        args["key"] = request.match_info["key"]
        problems = block_kit_problems(args) if not args.get("delete_original") else []
        default = {"ok": True} if not problems else {"ok": False, "error": "invalid_blocks"}
        return await self._answer(request, "response_url", args, default, 400 if problems else 200)

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({
            "type": "hello", "num_connections": len(self._sockets),
            "debug_info": {"host": "127.0.0.1"}, "connection_info": {"app_id": "A0APP"},
        })  # fmt: skip
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    ack = json.loads(msg.data)
                    call = Call("socket_ack", ack, {}, 200, None, time.monotonic())
                    async with self._changed:
                        self.calls.append(call)
                        self._changed.notify_all()
        finally:
            self._sockets.remove(ws)
        return ws

    async def socket_send(self, kind: str, payload: dict[str, Any], timeout: float = 5.0) -> str:
        """Push a Socket Mode envelope (``slash_commands``, ``events_api``, ``interactive``) to
        the connected app; its envelope id. Waits (bounded) for the app to connect."""
        deadline = time.monotonic() + timeout
        while not self._sockets:
            if time.monotonic() > deadline:
                raise AssertionError("no Socket Mode connection")
            await asyncio.sleep(0.02)
        envelope_id = f"env-{next(self._envelopes)}"
        await self._sockets[-1].send_json({
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api", "retry_attempt": 0,
        })  # fmt: skip
        return envelope_id

    def _default_answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket-mode"}
        if method == "users.info":
            user = str(args.get("user", ""))
            return {
                "ok": True, "user": {"id": user, "name": user.lower(), "real_name": "Ana Asker",
                                     "profile": {"display_name": "ana", "real_name": "Ana Asker"}},
            }  # fmt: skip
        if method == "auth.test":
            return {
                "ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "episode-bot",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
            }  # fmt: skip
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            return self._view_answer(method, args)
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            problems = block_kit_problems(args)
            if problems:
                return {"ok": False, "error": "invalid_blocks", "errors": problems}
            ts = f"{1700000000 + next(self._ts)}.000100"
            if method == "chat.postEphemeral":
                return {"ok": True, "message_ts": ts}
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": {"ts": ts}}
        return {"ok": True}

    def _view_answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """As Slack answers: the view checked, what identifies its target required."""
        view = args.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                view = None
        need = {"views.open": "trigger_id", "views.push": "trigger_id",
                "views.update": "view_id", "views.publish": "user_id"}[method]  # fmt: skip
        if method == "views.update" and args.get("external_id"):
            need = "external_id"
        if not args.get(need):
            return {"ok": False, "error": "invalid_arguments",
                    "response_metadata": {"messages": [f"[ERROR] missing {need}"]}}  # fmt: skip
        problems = view_problems(view)
        if method == "views.publish" and isinstance(view, dict) and view.get("type") != "home":
            problems.append("views.publish takes a home view")
        if method != "views.publish" and isinstance(view, dict) and view.get("type") != "modal":
            problems.append(f"{method} takes a modal view")
        if problems:
            return {"ok": False, "error": "invalid_arguments",
                    "response_metadata": {"messages": problems}}  # fmt: skip
        view_id = args.get("view_id") or f"V{next(self._ts):08d}"
        return {"ok": True, "view": {**view, "id": view_id, "hash": f"h{next(self._ts)}"}}

    async def _answer(
        self,
        request: web.Request,
        method: str,
        args: dict[str, Any],
        default: Any,
        default_status: int = 200,
    ) -> web.Response:
        status, body, headers = default_status, default, {}
        queue = self._programmed.get(method)
        if queue:
            programmed = queue[0]
            if programmed.times is not None:
                programmed.times -= 1
                if programmed.times <= 0:
                    queue.popleft()
            status, headers = programmed.status, programmed.headers
            body = programmed.json
            if body is None:
                body = {"ok": True} if status == 200 else {"ok": False, "error": f"http_{status}"}
        call = Call(method, args, dict(request.headers), status, body, time.monotonic())
        hold = self._holds.get(method)
        if hold is not None:
            try:
                await asyncio.wait_for(hold.wait(), 10)
            except TimeoutError:
                pass
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        return web.json_response(body, status=status, headers=headers)


async def _request_args(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    raw = await request.text()
    if raw:
        if request.content_type == "application/json":
            args.update(json.loads(raw))
        else:
            for key, value in parse_qsl(raw, keep_blank_values=True):
                # slack-sdk sends blocks and attachments as JSON strings in form posts
                if key in ("blocks", "attachments") and value.startswith("["):
                    value = json.loads(value)
                args[key] = value
    return args


# -- Block Kit limits ----------------------------------------------------------------------------
# https://docs.slack.dev/reference/block-kit/blocks (limits as documented)
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTION_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_URL = 3000
MAX_ID = 255
MAX_MESSAGE_TEXT = 40000
# Views (https://docs.slack.dev/reference/views/modal-views) and select menus.
MAX_VIEW_BLOCKS = 100
MAX_VIEW_TITLE = 24
MAX_METADATA = 3000
MAX_LABEL = 2000
MAX_PLACEHOLDER = 150
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
SELECTS = ("static_select", "external_select", "conversations_select", "channels_select",
           "users_select")  # fmt: skip


def block_kit_problems(message: dict[str, Any]) -> list[str]:
    """What in ``message`` (a chat.postMessage / response_url payload) breaks Slack's limits.

    Also requires the plain-text fallback ``text`` whenever there are blocks.
    """
    problems: list[str] = []
    blocks = message.get("blocks") or []
    text = message.get("text")
    if blocks and not (isinstance(text, str) and text.strip()):
        problems.append("blocks without a plain-text fallback `text`")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        problems.append(f"text is {len(text)} chars (> {MAX_MESSAGE_TEXT})")
    if not blocks and not (isinstance(text, str) and text.strip()):
        problems.append("empty message")
    return problems + _blocks_problems(blocks, MAX_BLOCKS, view=False)


def view_problems(view: Any) -> list[str]:
    """What in ``view`` (views.open / update / push / publish, or a response_action) breaks
    Slack's rules for views (https://docs.slack.dev/reference/views/modal-views).

    Checks the view's own fields (type, 24-character title / submit / close, a submit button
    when there are input blocks, 3,000 characters of private_metadata, 255-character ids) and
    its blocks as :func:`block_kit_problems` does, with up to 100 of them.
    """
    if not isinstance(view, dict):
        return ["view: not an object"]
    problems: list[str] = []
    kind = view.get("type")
    blocks = view.get("blocks")
    if kind not in ("modal", "home"):
        problems.append(f"view: type {kind!r} (modal or home)")
    if not isinstance(blocks, list):
        return problems + ["view: blocks missing"]
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    for name in ("title", "submit", "close"):
        obj = view.get(name)
        if obj is None:
            if kind == "modal" and (name == "title" or (name == "submit" and has_input)):
                problems.append(f"view: {name} missing")
            continue
        if kind == "home":
            problems.append(f"view: a home view has no {name}")
        if not isinstance(obj, dict) or obj.get("type") != "plain_text" or not obj.get("text"):
            problems.append(f"view {name}: must be non-empty plain_text")
        elif len(obj["text"]) > MAX_VIEW_TITLE:
            problems.append(f"view {name}: {len(obj['text'])} chars (> {MAX_VIEW_TITLE})")
    metadata = view.get("private_metadata", "")
    if not isinstance(metadata, str) or len(metadata) > MAX_METADATA:
        problems.append(f"view private_metadata: over {MAX_METADATA} chars or not a string")
    for name in ("callback_id", "external_id"):
        value = view.get(name, "")
        if not isinstance(value, str) or len(value) > MAX_ID:
            problems.append(f"view {name}: over {MAX_ID} chars or not a string")
    return problems + _blocks_problems(blocks, MAX_VIEW_BLOCKS, view=True)


def _blocks_problems(blocks: list[Any], max_blocks: int, *, view: bool) -> list[str]:
    """The blocks' problems. In a view, action ids need only be unique in their block (as
    Slack documents); in a message this checker asks more: unique in the whole message."""
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks (> {max_blocks})")
    block_ids: set[str] = set()
    action_ids: set[str] = set()

    def text_object(where: str, obj: Any, limit: int, *, plain_only: bool = False) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
            problems.append(f"{where}: not a text object")
            return
        if plain_only and obj["type"] != "plain_text":
            problems.append(f"{where}: must be plain_text")
        value = obj.get("text", "")
        if not value:
            problems.append(f"{where}: empty text")
        if len(value) > limit:
            problems.append(f"{where}: {len(value)} chars (> {limit})")

    def options(where: str, found: Any) -> list[str]:
        if not isinstance(found, list) or not 1 <= len(found) <= MAX_OPTIONS:
            problems.append(f"{where}: options must be 1..{MAX_OPTIONS}")
            return []
        for k, opt in enumerate(found):
            text_object(f"{where} option {k}", opt.get("text"), MAX_OPTION_TEXT, plain_only=True)
            value = opt.get("value")
            if not isinstance(value, str) or not 1 <= len(value) <= MAX_OPTION_VALUE:
                problems.append(f"{where} option {k}: value must be 1..{MAX_OPTION_VALUE} chars")
        return [opt.get("value") for opt in found]

    def element(where: str, el: dict[str, Any], *, in_input: bool = False) -> None:
        kind = el.get("type")
        if kind == "button":
            text_object(f"{where} text", el.get("text"), MAX_BUTTON_TEXT, plain_only=True)
            if len(el.get("value", "")) > MAX_BUTTON_VALUE:
                problems.append(f"{where}: value is {len(el['value'])} chars (> 2000)")
            if len(el.get("url", "")) > MAX_BUTTON_URL:
                problems.append(f"{where}: url too long")
            if "accessibility_label" in el and not 1 <= len(el["accessibility_label"]) <= 75:
                problems.append(f"{where}: accessibility_label must be 1-75 chars")
        elif kind in SELECTS or kind in ("datepicker", "plain_text_input"):
            if "placeholder" in el:
                text_object(f"{where} placeholder", el["placeholder"], MAX_PLACEHOLDER,
                            plain_only=True)  # fmt: skip
            if kind == "static_select":
                values = options(where, el.get("options"))
                if "initial_option" in el and el["initial_option"].get("value") not in values:
                    problems.append(f"{where}: initial_option is not one of the options")
            elif kind == "external_select":
                if "initial_option" in el:
                    options(f"{where} initial", [el["initial_option"]])
                mql = el.get("min_query_length", 3)
                if not isinstance(mql, int) or isinstance(mql, bool) or mql < 0:
                    problems.append(f"{where}: min_query_length must be a whole number >= 0")
            elif kind == "datepicker" and "initial_date" in el:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(el["initial_date"])):
                    problems.append(f"{where}: initial_date must be YYYY-MM-DD")
            elif kind == "plain_text_input":
                limit = el.get("max_length", 3000)
                if not isinstance(limit, int) or not 1 <= limit <= 3000:
                    problems.append(f"{where}: max_length must be 1..3000")
                elif len(el.get("initial_value", "")) > limit:
                    problems.append(f"{where}: initial_value longer than max_length")
            elif kind == "conversations_select":
                if el.get("response_url_enabled") and not in_input:
                    problems.append(f"{where}: response_url_enabled only works in input blocks")
                if el.get("initial_conversation") and el.get("default_to_current_conversation"):
                    problems.append(f"{where}: initial_conversation and default_to_current...")
        elif kind not in ("overflow", "checkboxes", "radio_buttons", "image"):
            problems.append(f"{where}: unknown element type {kind!r}")
        action_id = el.get("action_id")
        if action_id is not None:
            if len(action_id) > MAX_ID:
                problems.append(f"{where}: action_id too long")
            if action_id in action_ids:
                problems.append(f"{where}: duplicate action_id {action_id!r}")
            action_ids.add(action_id)

    for i, block in enumerate(blocks):
        if view:
            action_ids = set()  # unique within the block is what Slack asks of views
        where = f"block {i} ({block.get('type')})"
        block_id = block.get("block_id")
        if block_id is not None:
            if len(block_id) > MAX_ID or block_id in block_ids:
                problems.append(f"{where}: bad or duplicate block_id")
            block_ids.add(block_id)
        kind = block.get("type")
        if kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: needs text or fields")
            if "text" in block:
                text_object(where, block["text"], MAX_SECTION_TEXT)
            fields = block.get("fields") or []
            if len(fields) > MAX_FIELDS:
                problems.append(f"{where}: {len(fields)} fields (> {MAX_FIELDS})")
            for j, f in enumerate(fields):
                text_object(f"{where} field {j}", f, MAX_FIELD_TEXT)
            if "accessory" in block:
                element(f"{where} accessory", block["accessory"])
        elif kind == "header":
            text_object(where, block.get("text"), MAX_HEADER_TEXT, plain_only=True)
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
                problems.append(f"{where}: {len(elements)} elements (1..{MAX_CONTEXT_ELEMENTS})")
            for j, el in enumerate(elements):
                if el.get("type") in ("plain_text", "mrkdwn"):
                    text_object(f"{where} element {j}", el, MAX_SECTION_TEXT)
        elif kind == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > MAX_ACTION_ELEMENTS:
                problems.append(f"{where}: {len(elements)} elements (1..{MAX_ACTION_ELEMENTS})")
            for j, el in enumerate(elements):
                element(f"{where} element {j}", el)
        elif kind == "input":
            text_object(f"{where} label", block.get("label"), MAX_LABEL, plain_only=True)
            if "hint" in block:
                text_object(f"{where} hint", block["hint"], MAX_LABEL, plain_only=True)
            el = block.get("element")
            if not isinstance(el, dict):
                problems.append(f"{where}: element missing")
            else:
                element(f"{where} element", el, in_input=True)
        elif kind not in ("divider", "image", "rich_text", "file", "video"):
            problems.append(f"{where}: unknown block type")
    return problems


# -- what Slack sends to the bot -----------------------------------------------------------------
def signed_headers(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """The headers Slack adds to a request: its timestamp and its ``v0=`` signature of ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature or ""}


def slash_command_fields(
    text: str,
    *,
    command: str = "/episodes",
    user_id: str = "U0ASKER",
    channel_id: str = "C0GENERAL",
    channel_name: str = "general",
    response_url: str,
) -> dict[str, str]:
    """Fields Slack sends for ``/episodes <text>`` (form-encoded over HTTP, JSON in Socket Mode)."""
    return {
        "token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": "test",
        "channel_id": channel_id, "channel_name": channel_name, "user_id": user_id,
        "user_name": "asker", "command": command, "text": text, "api_app_id": "A0APP",
        "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": "123.456.abc",
    }  # fmt: skip


def slash_command(text: str, **fields: Any) -> tuple[str, str]:
    """The form body (and its content type) Slack posts for ``/episodes <text>``.

    Keyword arguments as for :func:`slash_command_fields` (``response_url`` is required).
    """
    return urlencode(slash_command_fields(text, **fields)), "application/x-www-form-urlencoded"


def event_callback(event: dict[str, Any], *, event_id: str = "Ev0001") -> tuple[str, str]:
    """The JSON body (and its content type) the Events API posts for ``event``."""
    body = json.dumps({
        "token": "legacy-verification-token", "team_id": TEAM_ID, "api_app_id": "A0APP",
        "event": event, "type": "event_callback", "event_id": event_id,
        "event_time": int(time.time()), "event_context": "4-test",
        "authorizations": [
            {"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True, "enterprise_id": None}
        ],
    })  # fmt: skip
    return body, "application/json"


def block_actions(
    action_id: str,
    value: str,
    *,
    user_id: str = "U0ASKER",
    channel_id: str = "C0GENERAL",
    response_url: str,
    ephemeral: bool = True,
    message: dict[str, Any] | None = None,
    thread_ts: str | None = None,
    message_ts: str = "1700000000.000001",
) -> tuple[str, str]:
    """The form body Slack posts when a button is clicked.

    A click on an ephemeral message arrives without the message (as with real Slack), so the
    handler has only the button's ``value`` to go on. ``thread_ts``: the message is in a thread
    (Slack's ``container.thread_ts``).
    """
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user_id, "username": "asker", "name": "asker", "team_id": TEAM_ID},
        "api_app_id": "A0APP",
        "token": "legacy-verification-token",
        "container": {
            "type": "message", "message_ts": message_ts, "channel_id": channel_id,
            "is_ephemeral": ephemeral, **({"thread_ts": thread_ts} if thread_ts else {}),
        },
        "trigger_id": "123.456.abc",
        "channel": {"id": channel_id, "name": "general"},
        "response_url": response_url,
        "actions": [{
            "action_id": action_id, "block_id": "b1", "text": {"type": "plain_text", "text": "x"},
            "value": value, "type": "button", "action_ts": f"{time.time():.6f}",
        }],
    }  # fmt: skip
    if not ephemeral:
        payload["message"] = message or {"ts": message_ts, "text": ""}
    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def _interaction(payload: dict[str, Any], user_id: str) -> tuple[str, str]:
    """An interactivity request as Slack posts it: ``payload=<JSON>``, form-encoded."""
    payload = {
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user_id, "username": "asker", "name": "asker", "team_id": TEAM_ID},
        "api_app_id": "A0APP", "token": "legacy-verification-token", **payload,
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def message_action(
    message: dict[str, Any],
    *,
    callback_id: str = "find_episodes",
    user_id: str = "U0ASKER",
    channel_id: str = "C0GENERAL",
    response_url: str,
) -> tuple[str, str]:
    """The form body Slack posts when a message shortcut is used on ``message`` (its ``ts``,
    ``text``, ``user``, ``blocks``, ``thread_ts`` if in a thread: the message as Slack has it)."""
    payload: dict[str, Any] = {
        "type": "message_action", "callback_id": callback_id, "trigger_id": "123.456.abc",
        "action_ts": f"{time.time():.6f}", "message_ts": message.get("ts"),
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user_id, "username": "asker", "name": "asker", "team_id": TEAM_ID},
        "channel": {"id": channel_id, "name": "general"},
        "message": {"type": "message", **message},
        "response_url": response_url, "token": "legacy-verification-token",
        "api_app_id": "A0APP", "is_enterprise_install": False, "enterprise": None,
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def app_home_opened(user_id: str = "U0ASKER", *, tab: str = "home") -> dict[str, Any]:
    """The ``app_home_opened`` event (wrap it with :func:`event_callback`)."""
    return {"type": "app_home_opened", "user": user_id, "channel": "D0BOTDM", "tab": tab,
            "event_ts": f"{time.time():.6f}"}  # fmt: skip


def global_shortcut(
    callback_id: str, *, user_id: str = "U0ASKER", trigger_id: str = "111.222.shortcut"
) -> tuple[str, str]:
    """What Slack posts when someone runs a global shortcut (no channel: it is global)."""
    payload = {"type": "shortcut", "callback_id": callback_id, "trigger_id": trigger_id,
               "action_ts": f"{time.time():.6f}"}  # fmt: skip
    return _interaction(payload, user_id)


def as_opened(view: dict[str, Any], view_id: str = "V0MODAL") -> dict[str, Any]:
    """``view`` as Slack holds it once opened (an id, a hash, app fields), with no state yet."""
    return {**view, "id": view_id, "team_id": TEAM_ID, "app_id": "A0APP", "bot_id": BOT_ID,
            "hash": "1700000000.abc", "root_view_id": view_id, "previous_view_id": None,
            "state": {"values": {}}}  # fmt: skip


def view_submission(
    view: dict[str, Any], values: dict[str, dict[str, Any]], *, user_id: str = "U0ASKER"
) -> tuple[str, str]:
    """Submitting the modal ``view`` (as opened) with ``values`` (block_id -> action_id ->
    state, e.g. ``{"q": {"words": {"type": "plain_text_input", "value": "argo"}}}``)."""
    view = {**view, "state": {"values": values}}
    return _interaction({"type": "view_submission", "trigger_id": "333.444.submit",
                         "view": view, "response_urls": []}, user_id)  # fmt: skip


def view_action(
    view: dict[str, Any],
    action_id: str,
    value: str | None = None,
    *,
    values: dict[str, dict[str, Any]] | None = None,
    user_id: str = "U0ASKER",
) -> tuple[str, str]:
    """A button pressed in a modal (or on the Home tab): the view comes with it, state and all."""
    view = {**view, "state": {"values": values or {}}}
    action: dict[str, Any] = {"action_id": action_id, "block_id": "b1", "type": "button",
                              "text": {"type": "plain_text", "text": "x"},
                              "action_ts": f"{time.time():.6f}"}  # fmt: skip
    if value is not None:
        action["value"] = value
    return _interaction({"type": "block_actions",
                         "container": {"type": "view", "view_id": view.get("id")},
                         "trigger_id": "555.666.button", "view": view,
                         "actions": [action]}, user_id)  # fmt: skip


def block_suggestion(
    view: dict[str, Any], action_id: str, typed: str, *, block_id: str, user_id: str = "U0ASKER"
) -> tuple[str, str]:
    """Slack asking for an external_select's options as the person types ``typed``."""
    return _interaction({"type": "block_suggestion", "action_id": action_id,
                         "block_id": block_id, "value": typed,
                         "container": {"type": "view", "view_id": view.get("id")},
                         "view": view}, user_id)  # fmt: skip


def rich_text(*elements: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``blocks`` Slack puts on a message a person typed: one rich_text section."""
    return [{
        "type": "rich_text", "block_id": "rt1",
        "elements": [{"type": "rich_text_section", "elements": list(elements)}],
    }]  # fmt: skip


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    body_and_type: tuple[str, str],
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    """POST a body to the bot as Slack would (signed); returns (status, response text)."""
    body, content_type = body_and_type
    all_headers = {"Content-Type": content_type, **signed_headers(body, secret=secret,
                   timestamp=timestamp), **(headers or {})}  # fmt: skip
    async with session.post(url, data=body.encode(), headers=all_headers) as resp:
        return resp.status, await resp.text()
