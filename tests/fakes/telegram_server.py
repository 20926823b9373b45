"""A fake Telegram Bot API server for tests and benchmarks.

The real python-telegram-bot client talks real HTTP to it on 127.0.0.1::

    async with FakeTelegramServer() as tg:
        app = (
            Application.builder()
            .token(tg.token)
            .base_url(tg.base_url)
            .base_file_url(tg.base_file_url)
            .build()
        )
        ...
        tg.add_text(1001, "/start")
        [reply] = await tg.wait_for(chat_id=1001)

It serves ``/bot{token}/{method}`` (JSON, url-encoded and multipart bodies), file downloads
under ``/file/bot{token}/{file_path}``, and control endpoints under ``/_control/`` for a test
process that did not start it (see ``ControlClient``). Everything is kept in memory.

What it emulates: long polling with offsets (confirming = asking for a later offset), webhook
delivery with the secret-token header and retries, file ids and downloads, inline keyboards
and callback queries, edits, Telegram's JSON error bodies, injected faults (``fail``, ``delay``,
``block_chat``) and, optionally, the flood limits (30 messages/s overall, one per second per
private chat, 20 per minute per group).

Known differences from the real Bot API: HTTP webhook URLs are accepted; unknown file ids are
accepted (the recorded bytes are then ``None``); text limits count code points; the
HTML/MarkdownV2 checks catch the common mistakes (unknown or unclosed tags, a raw ``<``,
unescaped reserved characters) rather than re-implementing Telegram's parser; a sendMediaGroup
counts as one message for the flood limits.

Standalone, for benchmarks and crash tests::

    python -m tests.fakes.telegram_server --port 0     # prints the port, serves until killed
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import collections
import contextlib
import hashlib
import io
import itertools
import json
import math
import os
import re
import signal
import socket
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

JSONDict = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_GET_FILE_SIZE = 20 * 1024 * 1024
"""getFile refuses files bigger than this ("Bad Request: file is too big"), as Telegram does."""

DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
"""Descriptions used by ``fail`` when none is given (429 is "Too Many Requests: retry after N")."""

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"

# Parameters whose form values are always plain strings (never JSON-decoded).
_TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "secret_token",
        "callback_query_id",
        "inline_message_id",
        "action",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "sticker",
        "animation",
        "thumbnail",
        "file_id",
        "file_name",
        "title",
        "description",
        "short_description",
        "emoji",
        "phone_number",
        "first_name",
        "last_name",
        "vcard",
        "address",
        "business_connection_id",
        "message_effect_id",
        "language_code",
        "ip_address",
    }
)
# Parameters that hold JSON objects or arrays; a JSON body may carry them as strings too.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "media",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "allowed_updates",
        "commands",
        "scope",
    }
)
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?")
_SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendLocation"}
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_HTML_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})
_MARKDOWN_V2_RESERVED = ".!-=+#{}>"
_WEBHOOK_WORKERS = 16
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


# --------------------------------------------------------------------------------------------
# Records


@dataclass
class SentMessage:
    """One message the bot sent or changed, as recorded by the server.

    ``method`` is the API method ("sendMessage", "sendPhoto", "sendDocument",
    "sendMediaGroup" (one record per item), "sendLocation", "editMessageText",
    "editMessageCaption", "editMessageReplyMarkup" or "deleteMessage"); ``text`` is the text,
    or the caption for media (for an edit of the keyboard only: the message's current text);
    ``reply_markup`` the parsed keyboard; ``photo``/``document`` the uploaded bytes (for a file
    id the stored bytes, for a local URL the fetched bytes, else ``None``); ``params`` every
    parameter as received (JSON values decoded, files replaced by their file names); ``at`` the
    server clock (``time.monotonic`` unless a clock was injected) when it was received.
    """

    method: str
    chat_id: int
    message_id: int
    text: str | None
    reply_markup: dict[str, Any] | None
    photo: bytes | None
    document: bytes | None
    filename: str | None
    params: dict[str, Any]
    at: float

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """The inline keyboard flattened to (text, callback_data) pairs, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            (button.get("text", ""), button.get("callback_data")) for row in rows for button in row
        ]

    def describe(self) -> str:
        """A one-line human-readable summary, used in failure messages."""
        text = self.text if self.text is None or len(self.text) <= 200 else self.text[:200] + "…"
        parts = [f"{self.method} #{self.message_id} to {self.chat_id}: {text!r}"]
        if self.buttons:
            parts.append(f"buttons={self.buttons}")
        if self.photo is not None:
            parts.append(f"photo={len(self.photo)} bytes")
        if self.document is not None:
            parts.append(f"document={self.filename!r} {len(self.document)} bytes")
        return " ".join(parts)

    def to_json(self) -> JSONDict:
        """A JSON-able dict (bytes as ``{"$bytes": base64}``), used by ``/_control/sent``."""
        return {
            "method": self.method,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "text": self.text,
            "reply_markup": self.reply_markup,
            "photo": _encode_bytes(self.photo),
            "document": _encode_bytes(self.document),
            "filename": self.filename,
            "params": self.params,
            "at": self.at,
        }

    @classmethod
    def from_json(cls, data: JSONDict) -> SentMessage:
        """The inverse of ``to_json``."""
        return cls(
            method=data["method"],
            chat_id=data["chat_id"],
            message_id=data["message_id"],
            text=data["text"],
            reply_markup=data["reply_markup"],
            photo=_decode_bytes(data["photo"]),
            document=_decode_bytes(data["document"]),
            filename=data["filename"],
            params=data["params"],
            at=data["at"],
        )


@dataclass
class RejectedCall:
    """A call the server answered with an error (injected, blocked chat, flood, validation)."""

    method: str
    chat_id: int | None
    status: int
    description: str
    params: dict[str, Any]
    at: float


@dataclass
class WebhookDelivery:
    """One attempt to POST an update to the webhook: HTTP ``status`` (``None`` when the
    connection failed, see ``error``) and whether it counted as delivered (2xx)."""

    update_id: int
    attempt: int
    url: str
    status: int | None
    ok: bool
    error: str | None
    at: float


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    file_size: int
    data: bytes


@dataclass
class _Fault:
    status: int
    description: str
    retry_after: int | None


@dataclass
class _Upload:
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class _Call:
    method: str
    params: JSONDict
    uploads: dict[str, _Upload] = field(default_factory=dict)
    delayed: bool = False


class _ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def _encode_bytes(data: bytes | None) -> JSONDict | None:
    return None if data is None else {"$bytes": base64.b64encode(data).decode("ascii")}


def _decode_bytes(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$bytes"}:
        return base64.b64decode(value["$bytes"])
    return value


# --------------------------------------------------------------------------------------------
# Small helpers


class _Pulse:
    """A broadcast signal: ``wait`` returns at the next ``notify`` (or after its timeout)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await event.wait()


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _ok(result: Any) -> Response:
    return Response(_dumps({"ok": True, "result": result}), media_type="application/json")


def _error(status: int, description: str, retry_after: int | None = None) -> Response:
    body: JSONDict = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return Response(_dumps(body), status_code=status, media_type="application/json")


def _default_description(status: int, retry_after: int | None) -> str:
    if status == 429:
        return f"Too Many Requests: retry after {retry_after}"
    if status in DEFAULT_DESCRIPTIONS:
        return DEFAULT_DESCRIPTIONS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _decode_form_value(name: str, value: str) -> Any:
    """PTB sends every non-string value JSON-encoded (numbers, booleans, keyboards, lists)."""
    if name in _TEXT_PARAMS or not value:
        return value
    if value[0] in "{[" or value in ("true", "false", "null") or _JSON_NUMBER.fullmatch(value):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def _read_params(request: Request) -> tuple[JSONDict, dict[str, _Upload]]:
    """Parameters of an API call from its query string and its JSON, url-encoded or multipart
    body; uploaded files are returned apart and replaced by their file names in the params."""
    params: JSONDict = {k: _decode_form_value(k, v) for k, v in request.query_params.items()}
    uploads: dict[str, _Upload] = {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.body()
        if body:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("a JSON body must be an object")
            for key, value in data.items():
                if key in _JSON_PARAMS and isinstance(value, str):
                    with contextlib.suppress(ValueError):
                        value = json.loads(value)
                params[key] = value
    elif content_type.startswith("application/x-www-form-urlencoded"):
        body = await request.body()
        for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
            params[key] = _decode_form_value(key, value)
    elif content_type.startswith("multipart/form-data"):
        async with request.form(max_part_size=50 * 1024 * 1024) as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    filename = value.filename or key
                    uploads[key] = _Upload(filename, value.content_type, await value.read())
                    params[key] = filename
                else:
                    params[key] = _decode_form_value(key, value)
    return params, uploads


def _image_size(data: bytes) -> tuple[int, int] | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:16]


def _update_kind(update: JSONDict) -> str:
    return next((key for key in update if key != "update_id"), "")


def _update_user_id(update: JSONDict) -> int | None:
    """The id of the user an update comes from, if any."""
    for value in update.values():
        if isinstance(value, dict):
            sender = value.get("from")
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return int(sender["id"])
    return None


def _update_chat_key(update: JSONDict) -> int:
    """The chat an update belongs to (to keep one chat's webhook deliveries in order)."""
    for value in update.values():
        if isinstance(value, dict):
            chat = value.get("chat") or (value.get("message") or {}).get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
    return _update_user_id(update) or 0


class _TelegramHTMLChecker(HTMLParser):
    """Checks text for parse_mode=HTML the way Telegram rejects it, and extracts the plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.error: str | None = None
        self.plain: list[str] = []

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = message

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            self._fail(f'Unsupported start tag "{tag}"')
        elif tag == "span" and ("class", "tg-spoiler") not in attrs:
            self._fail('Unsupported start tag "span"')
        elif tag == "a" and not dict(attrs).get("href"):
            self._fail('Can\'t find "href" attribute of tag "a"')
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f'Unsupported start tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self._fail(f'Unmatched end tag "{tag}"')
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data:
            self._fail('Unsupported start tag "" (a raw "<" must be written as &lt;)')
        self.plain.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in _HTML_ENTITIES:
            self._fail(f'Unsupported HTML entity "&{name};"')
        self.plain.append("x")

    def handle_charref(self, name: str) -> None:
        self.plain.append("x")

    def check(self, text: str) -> tuple[str | None, int]:
        """(error or None, length of the text once the markup is removed)."""
        self.feed(text)
        self.close()
        if self.stack:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1]}"')
        return self.error, sum(map(len, self.plain))


def _check_markdown_v2(text: str) -> tuple[str | None, int]:
    """(error or None, approximate plain length) for parse_mode=MarkdownV2: reserved characters
    outside code spans and link URLs must be escaped with a backslash."""
    i, plain, n = 0, 0, len(text)
    at_line_start = True
    while i < n:
        char = text[i]
        if char == "\\":
            i, plain, at_line_start = i + 2, plain + 1, False
            continue
        if char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = text.find(fence, i + len(fence))
            if end < 0:
                return "Can't find end of Pre entity" if len(
                    fence
                ) == 3 else "Can't find end of Code entity", plain
            plain += end - i - len(fence)
            i = end + len(fence)
            at_line_start = False
            continue
        if char == "]" and text.startswith("](", i):
            end = text.find(")", i + 2)
            if end < 0:
                return "Can't find end of a URL", plain
            i, at_line_start = end + 1, False
            continue
        if char == ">" and at_line_start:
            i += 1
            continue
        if char in _MARKDOWN_V2_RESERVED:
            return (
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'",
                plain,
            )
        if char not in "_*[]()~|":
            plain += 1
        at_line_start = char == "\n"
        i += 1
    return None, plain


def _plain_length(text: str, parse_mode: Any) -> int:
    """The length Telegram counts for ``text``; raises a 400 if the markup does not parse."""
    mode = str(parse_mode).lower() if parse_mode else ""
    if mode == "html":
        error, length = _TelegramHTMLChecker().check(text)
    elif mode == "markdownv2":
        error, length = _check_markdown_v2(text)
    else:
        error, length = None, len(text)
    if error:
        raise _ApiError(400, f"Bad Request: can't parse entities: {error}")
    return length


def _check_reply_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return markup  # reply keyboards, ReplyKeyboardRemove, ForceReply
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _ApiError(
            400, "Bad Request: can't parse inline keyboard button: field must be an Array"
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise _ApiError(
                    400, "Bad Request: can't parse inline keyboard button: Text must be non-empty"
                )
            actions = [name for name in _BUTTON_ACTIONS if name in button]
            if len(actions) != 1:
                raise _ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if "callback_data" in button and (
                not isinstance(data, str)
                or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _int_param(params: JSONDict, name: str) -> int:
    value = params.get(name)
    if value is None or value == "":
        raise _ApiError(400, f"Bad Request: {name} is empty")
    if isinstance(value, bool):
        raise _ApiError(400, f"Bad Request: wrong parameter {name}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _ApiError(400, f"Bad Request: wrong parameter {name}") from None


def _float_param(params: JSONDict, name: str) -> float:
    try:
        return float(params[name])
    except (KeyError, TypeError, ValueError):
        raise _ApiError(400, f"Bad Request: wrong parameter {name}") from None


def _chat_id(params: JSONDict) -> int:
    value = params.get("chat_id")
    if value is None or value == "":
        raise _ApiError(400, "Bad Request: chat_id is empty")
    try:
        chat_id = int(value)
    except (TypeError, ValueError):
        raise _ApiError(400, "Bad Request: chat not found") from None
    if chat_id == 0:
        raise _ApiError(400, "Bad Request: chat not found")
    return chat_id


# --------------------------------------------------------------------------------------------
# uvicorn in the current event loop


class _LoopServer(uvicorn.Server):
    """uvicorn.Server running as a task of the current event loop: it installs no signal
    handlers, reports readiness through ``ready`` and starts and stops without polling."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()
        self._exit_requested = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.ready.set()

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter += 10  # on_tick refreshes the Date header when counter % 10 == 0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._exit_requested.wait()

    def request_exit(self) -> None:
        self.should_exit = True
        self._exit_requested.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        tasks = set(self.server_state.tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.config.timeout_graceful_shutdown)
            for task in pending:
                task.cancel()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                for server in self.servers:
                    await server.wait_closed()
        await self.lifespan.shutdown()


class LocalAsgiServer:
    """Serves an ASGI app with uvicorn on 127.0.0.1 as a task of the current event loop.

    ``port=0`` picks a free port; ``port`` and ``url`` are known once ``start`` returns. Used by
    ``FakeTelegramServer`` and handy for a test's own webhook receiver.
    """

    def __init__(self, app: Any, *, port: int = 0, graceful_timeout: float = 2.0) -> None:
        self.app = app
        self.port = port
        self._graceful_timeout = graceful_timeout
        self._server: _LoopServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The task running uvicorn (done when the server has stopped or failed)."""
        return self._task

    async def start(self) -> None:
        """Binds the socket and returns once uvicorn accepts connections."""
        if self._task is not None:
            raise RuntimeError("server already started")
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only then, and
        # without it every response waits ~40 ms for a delayed ACK (Nagle).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,  # longer than httpx's 5 s, so the client closes idle ones
            timeout_graceful_shutdown=math.ceil(self._graceful_timeout),
        )
        self._server = _LoopServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        ready = asyncio.create_task(self._server.ready.wait())
        await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            failure = self._task.exception() if not self._task.cancelled() else None
            self._task = None
            sock.close()
            raise RuntimeError("uvicorn did not start") from failure

    async def stop(self) -> None:
        """Stops accepting, lets running requests finish (cancelled after the graceful
        timeout) and returns when uvicorn is done."""
        if self._task is None or self._server is None:
            return
        self._server.request_exit()
        task, self._task = self._task, None
        await task


# --------------------------------------------------------------------------------------------
# The fake Telegram server


class FakeTelegramServer:
    """A fake Telegram Bot API server on 127.0.0.1 (see the module docstring).

    Injection methods (``add_*``, ``press_button``, ``add_update``) and fault methods are plain
    functions to call from the event loop that runs the server; each injection returns the
    update id. Observe with ``sent``, ``calls``, ``answered_callbacks``, ``rejected``,
    ``flood_violations``, ``webhook_deliveries`` and the ``wait_*`` coroutines.

    ``clock`` (default ``time.monotonic``) times the flood limits and ``SentMessage.at``, so a
    test can advance time by hand; ``wall_clock`` (default ``time.time``) gives message dates.
    With ``require_started``, sending to a private chat that never wrote to the bot answers
    403 "Forbidden: bot can't initiate conversation with a user", as Telegram does.
    """

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "pakn_test_bot",
        enforce_flood_limits: bool = False,
        per_chat_interval: float = 1.0,
        overall_per_second: int = 30,
        per_group_per_minute: int = 20,
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        require_started: bool = False,
        webhook_max_attempts: int = 4,
        webhook_backoff: float = 0.05,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.enforce_flood_limits = enforce_flood_limits
        self.per_chat_interval = per_chat_interval
        self.overall_per_second = overall_per_second
        self.per_group_per_minute = per_group_per_minute
        self.require_started = require_started
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_backoff = webhook_backoff
        self._clock = clock
        self._wall_clock = wall_clock
        bot_id = token.split(":", 1)[0]
        self.bot_user: JSONDict = {
            "id": int(bot_id) if bot_id.isdigit() else 123456,
            "is_bot": True,
            "first_name": "PAKN Test Bot",
            "username": bot_username,
        }
        self._handlers: dict[str, Callable[[_Call], Coroutine[Any, Any, Any]]] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendMediaGroup": self._send_media_group,
            "sendLocation": self._send_location,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
        }
        self._canonical = {name.lower(): name for name in self._handlers}
        self._asgi = LocalAsgiServer(self._build_app(), port=port)
        self._http: httpx.AsyncClient | None = None
        self._webhook_queues: list[asyncio.Queue[JSONDict]] = []
        self._webhook_tasks: list[asyncio.Task[None]] = []
        self._closing = asyncio.Event()
        self._changed = _Pulse()
        self._updates_arrived = _Pulse()
        # Counters stay monotonic across reset(): a running bot keeps its offset and ids.
        self._next_update_id = 1
        self._file_seq = itertools.count(1)
        self._callback_seq = itertools.count(1)
        self._message_ids: dict[int, int] = {}
        self._poll_generation = 0
        self.pollers_waiting = 0
        """getUpdates calls currently waiting for updates (long polling)."""
        self._webhook_pending = 0  # queued or being delivered
        self._init_state()

    def _init_state(self) -> None:
        self.sent: list[SentMessage] = []
        """Every message sent, edited or deleted by the bot, in order."""
        self.calls: collections.Counter[str] = collections.Counter()
        """How many times each API method was called (including failed calls)."""
        self.answered_callbacks: list[JSONDict] = []
        """Parameters of each successful answerCallbackQuery."""
        self.rejected: list[RejectedCall] = []
        """Calls answered with an error."""
        self.flood_violations: list[str] = []
        """With enforce_flood_limits: each send that broke a limit (it was answered 429)."""
        self.webhook_deliveries: list[WebhookDelivery] = []
        """Each attempt to deliver an update to the webhook."""
        self.commands: list[JSONDict] = []
        """The commands stored by setMyCommands."""
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_max_connections = 40
        self.allowed_updates: list[str] | None = None
        self._queue: list[JSONDict] = []  # updates not yet confirmed, by update_id
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._photo_sizes: dict[str, list[JSONDict]] = {}
        self._users: dict[int, JSONDict] = {}
        self._started_users: set[int] = set()
        self._bot_messages: dict[tuple[int, int], JSONDict] = {}
        self._bot_message_ids: dict[int, list[int]] = collections.defaultdict(list)
        self._user_messages: dict[tuple[int, int], JSONDict] = {}
        self._callback_queries: dict[str, bool] = {}  # id -> answered
        self._faults: dict[str, collections.deque[_Fault]] = collections.defaultdict(
            collections.deque
        )
        self._delays: dict[str, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self._blocked: set[int] = set()
        self._recent_sends: collections.deque[float] = collections.deque()
        self._last_send_to: dict[int, float] = {}
        self._group_sends: dict[int, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self._last_webhook_error: tuple[int, str] | None = None

    # ---------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        """The TCP port (known after ``start``)."""
        return self._asgi.port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the control endpoints live under ``/_control/``)."""
        return self._asgi.url

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url`` / ``Bot(base_url=...)``; PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder.base_file_url`` / ``Bot(base_file_url=...)``."""
        return f"{self.url}/file/bot"

    async def start(self) -> None:
        """Starts serving; returns once the server accepts connections."""
        self._closing = asyncio.Event()
        self._changed = _Pulse()
        self._updates_arrived = _Pulse()
        self._http = httpx.AsyncClient(trust_env=False, timeout=10.0)
        self._webhook_queues = [asyncio.Queue() for _ in range(_WEBHOOK_WORKERS)]
        self._webhook_tasks = [
            asyncio.create_task(self._webhook_worker(q)) for q in self._webhook_queues
        ]
        try:
            await self._asgi.start()
        except BaseException:
            await self._stop_background()
            raise

    async def stop(self) -> None:
        """Wakes long polls and delayed calls, stops the server and the webhook workers."""
        self._closing.set()
        self._updates_arrived.notify()
        self._changed.notify()
        await self._asgi.stop()
        await self._stop_background()

    async def _stop_background(self) -> None:
        for task in self._webhook_tasks:
            task.cancel()
        await asyncio.gather(*self._webhook_tasks, return_exceptions=True)
        self._webhook_tasks = []
        self._webhook_queues = []
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def reset(self) -> None:
        """Forgets everything recorded and injected (sent messages, calls, queued updates,
        faults, blocked chats, webhook, files, users); update and message ids keep counting."""
        self._init_state()
        for queue in self._webhook_queues:  # deliveries in flight finish on their own
            while not queue.empty():
                queue.get_nowait()
                self._webhook_pending -= 1
        self._updates_arrived.notify()
        self._changed.notify()

    # ---------------------------------------------------------------- HTTP layer

    def _build_app(self) -> Starlette:
        async def not_found(request: Request, exc: Exception) -> Response:
            return _error(404, "Not Found")

        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{file_path:path}", self._download, methods=["GET"]),
                Route("/_control/updates", self._control_updates, methods=["POST"]),
                Route("/_control/call", self._control_call, methods=["POST"]),
                Route("/_control/sent", self._control_sent, methods=["GET"]),
                Route("/_control/state", self._control_state, methods=["GET"]),
                Route("/_control/wait_consumed", self._control_wait_consumed, methods=["POST"]),
                Route("/_control/reset", self._control_reset, methods=["POST"]),
            ],
            exception_handlers={404: not_found},
        )

    async def _api(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        name = request.path_params["method"]
        method = self._canonical.get(name.lower(), name)
        self.calls[method] += 1
        handler = self._handlers.get(method)
        if handler is None:
            self._changed.notify()
            return _error(404, "Not Found")
        try:
            params, uploads = await _read_params(request)
        except ValueError as exc:
            return _error(400, f"Bad Request: can't parse request: {exc}")
        call = _Call(method, params, uploads)
        delays = self._delays.get(method)
        if delays:
            # Shielded: the call is still handled if the client gives up and disconnects.
            return await asyncio.shield(self._handle_delayed(call, handler, delays.popleft()))
        return await self._handle(call, handler)

    async def _handle_delayed(
        self, call: _Call, handler: Callable[[_Call], Coroutine[Any, Any, Any]], seconds: float
    ) -> Response:
        started = asyncio.get_running_loop().time()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._closing.wait()
        call.delayed = True
        if call.method == "getUpdates":  # the delay used up part of the long-poll time
            elapsed = asyncio.get_running_loop().time() - started
            call.params["timeout"] = max(0.0, float(call.params.get("timeout") or 0) - elapsed)
        return await self._handle(call, handler)

    async def _handle(
        self, call: _Call, handler: Callable[[_Call], Coroutine[Any, Any, Any]]
    ) -> Response:
        try:
            faults = self._faults.get(call.method)
            if faults:
                fault = faults.popleft()
                raise _ApiError(fault.status, fault.description, fault.retry_after)
            chat_id = call.params.get("chat_id")
            if chat_id is not None and self._blocked and _safe_int(chat_id) in self._blocked:
                raise _ApiError(403, BLOCKED)
            result = await handler(call)
        except _ApiError as err:
            self.rejected.append(
                RejectedCall(
                    call.method,
                    _safe_int(call.params.get("chat_id")),
                    err.status,
                    err.description,
                    call.params,
                    self._clock(),
                )
            )
            self._changed.notify()
            return _error(err.status, err.description, err.retry_after)
        self._changed.notify()
        return _ok(result)

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        stored = self._files_by_path.get(request.path_params["file_path"])
        if stored is None:
            return _error(404, "Not Found")
        return Response(stored.data, media_type="application/octet-stream")

    # ---------------------------------------------------------------- control endpoints

    async def _control_updates(self, request: Request) -> Response:
        body = await request.json()
        if isinstance(body, list):
            return _ok([self.add_update(update) for update in body])
        return _ok(self.add_update(body))

    _CONTROL_CALLS = frozenset(
        {
            "add_text",
            "add_photo",
            "add_document",
            "add_sticker",
            "add_voice",
            "add_video",
            "add_video_note",
            "add_location",
            "add_contact",
            "press_button",
            "fail",
            "delay",
            "block_chat",
            "unblock_chat",
        }
    )

    async def _control_call(self, request: Request) -> Response:
        body = await request.json()
        name = body.get("method")
        if name not in self._CONTROL_CALLS:
            return _error(400, f"Bad Request: unknown control call {name!r}")
        kwargs = {key: _decode_bytes(value) for key, value in (body.get("kwargs") or {}).items()}
        try:
            result = getattr(self, name)(**kwargs)
        except (TypeError, ValueError, LookupError) as exc:
            return _error(400, f"Bad Request: {exc}")
        return _ok(result)

    async def _control_sent(self, request: Request) -> Response:
        query = request.query_params
        chat_id = int(query["chat_id"]) if "chat_id" in query else None
        min_count = int(query.get("min_count", "0"))
        timeout = float(query.get("timeout", "0"))

        def selected() -> list[SentMessage]:
            return self.sent if chat_id is None else self.messages_to(chat_id)

        if min_count:
            with contextlib.suppress(AssertionError):
                await self.wait_until(lambda: len(selected()) >= min_count, timeout=timeout)
        return _ok([message.to_json() for message in selected()])

    async def _control_state(self, request: Request) -> Response:
        return _ok(
            {
                "calls": dict(self.calls),
                "pending_update_ids": self.pending_update_ids,
                "flood_violations": self.flood_violations,
                "answered_callbacks": self.answered_callbacks,
                "webhook_url": self.webhook_url,
                "rejected": [
                    {
                        "method": r.method,
                        "chat_id": r.chat_id,
                        "status": r.status,
                        "description": r.description,
                    }
                    for r in self.rejected
                ],
            }
        )

    async def _control_wait_consumed(self, request: Request) -> Response:
        try:
            await self.wait_until_consumed(timeout=float(request.query_params.get("timeout", "10")))
        except AssertionError as exc:
            return _error(408, str(exc))
        return _ok(True)

    async def _control_reset(self, request: Request) -> Response:
        self.reset()
        return _ok(True)

    # ---------------------------------------------------------------- updates: injection

    def add_update(self, update: JSONDict) -> int:
        """Injects a raw Update (``update_id`` is assigned when missing); returns its id.
        It is queued for getUpdates, or POSTed to the webhook when one is set."""
        update = dict(update)
        if update.get("update_id") is None:
            update["update_id"] = self._next_update_id
        update_id = int(update["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
        user_id = _update_user_id(update)
        if user_id is not None:
            self._started_users.add(user_id)
        if self.webhook_url is not None and self._webhook_queues:
            self._webhook_pending += 1
            queues = self._webhook_queues
            queues[_update_chat_key(update) % len(queues)].put_nowait(update)
        else:
            self._enqueue(update)
        return update_id

    def _enqueue(self, update: JSONDict) -> None:
        if self._queue and self._queue[-1]["update_id"] > update["update_id"]:
            bisect.insort(self._queue, update, key=lambda u: u["update_id"])
        else:
            self._queue.append(update)
        self._updates_arrived.notify()
        self._changed.notify()

    def _remember_user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSONDict:
        known = self._users.get(user_id)
        if known is not None and first_name is None:
            return known
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name or "Lan"}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        user["language_code"] = "vi"
        self._users[user_id] = user
        return user

    def _chat(self, chat_id: int) -> JSONDict:
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}
        user = self._users.get(chat_id)
        chat: JSONDict = {"id": chat_id, "type": "private", "first_name": "User"}
        if user is not None:
            chat.update({k: user[k] for k in ("first_name", "last_name", "username") if k in user})
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        message_id = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = message_id
        return message_id

    def _add_user_message(
        self, user_id: int, content: JSONDict, user: JSONDict | None = None
    ) -> int:
        user = user or self._remember_user(user_id)
        message_id = self._next_message_id(user_id)
        message: JSONDict = {
            "message_id": message_id,
            "from": user,
            "chat": self._chat(user_id),
            "date": int(self._wall_clock()),
            **content,
        }
        self._user_messages[(user_id, message_id)] = message
        return self.add_update({"message": message})

    def add_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Lan",
        last_name: str | None = None,
        username: str | None = None,
    ) -> int:
        """A private text message from ``user_id`` (a leading ``/command`` gets its
        bot_command entity, which PTB's CommandHandler needs)."""
        user = self._remember_user(user_id, first_name, last_name, username)
        content: JSONDict = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._add_user_message(user_id, content, user)

    def add_photo(
        self,
        user_id: int,
        data: bytes,
        *,
        caption: str | None = None,
        declared_size: int | None = None,
    ) -> int:
        """A photo: several PhotoSize (largest last) whose file ids all resolve to ``data``;
        the largest has ``file_size = declared_size or len(data)``."""
        content: JSONDict = {"photo": self._store_photo(data, declared_size)}
        if caption is not None:
            content["caption"] = caption
        return self._add_user_message(user_id, content)

    def add_document(
        self,
        user_id: int,
        data: bytes,
        *,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        declared_size: int | None = None,
    ) -> int:
        """A file sent as a document; getFile and the download return ``data``."""
        stored = self._store_file(data, "documents", os.path.splitext(file_name)[1], declared_size)
        content: JSONDict = {
            "document": {**self._file_json(stored), "file_name": file_name, "mime_type": mime_type}
        }
        if caption is not None:
            content["caption"] = caption
        return self._add_user_message(user_id, content)

    def add_sticker(self, user_id: int, *, emoji: str = "👍") -> int:
        """A (static) sticker."""
        stored = self._store_file(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "stickers", ".webp")
        sticker = {
            **self._file_json(stored),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._add_user_message(user_id, {"sticker": sticker})

    def add_voice(self, user_id: int, *, duration: int = 3) -> int:
        """A voice message (placeholder OGG bytes)."""
        stored = self._store_file(b"OggS\x00fake-voice", "voice", ".oga")
        voice = {**self._file_json(stored), "duration": duration, "mime_type": "audio/ogg"}
        return self._add_user_message(user_id, {"voice": voice})

    def add_video(self, user_id: int, *, duration: int = 5, caption: str | None = None) -> int:
        """A video (placeholder MP4 bytes)."""
        stored = self._store_file(b"\x00\x00\x00\x18ftypmp42fake-video", "videos", ".mp4")
        video = {
            **self._file_json(stored),
            "width": 640,
            "height": 360,
            "duration": duration,
            "mime_type": "video/mp4",
        }
        content: JSONDict = {"video": video}
        if caption is not None:
            content["caption"] = caption
        return self._add_user_message(user_id, content)

    def add_video_note(self, user_id: int, *, duration: int = 3) -> int:
        """A round video note (placeholder bytes)."""
        stored = self._store_file(b"\x00\x00\x00\x18ftypmp42fake-note", "video_notes", ".mp4")
        note = {**self._file_json(stored), "length": 240, "duration": duration}
        return self._add_user_message(user_id, {"video_note": note})

    def add_location(self, user_id: int, latitude: float, longitude: float) -> int:
        """A shared location."""
        return self._add_user_message(
            user_id, {"location": {"latitude": latitude, "longitude": longitude}}
        )

    def add_contact(
        self, user_id: int, phone_number: str, first_name: str = "Lan", *, own: bool = True
    ) -> int:
        """A shared contact; ``own`` (the default, as from a request_contact button) sets
        ``contact.user_id`` to the sender."""
        contact: JSONDict = {"phone_number": phone_number, "first_name": first_name}
        if own:
            contact["user_id"] = user_id
        return self._add_user_message(user_id, {"contact": contact})

    def press_button(
        self, user_id: int, callback_data: str, *, message_id: int | None = None
    ) -> int:
        """A callback query, as if ``user_id`` pressed an inline button with ``callback_data``.

        Its ``.message`` is the bot message ``message_id`` in that private chat; without it, the
        latest bot message whose keyboard has that callback data, else the latest bot message.
        Raises LookupError when there is no such message.
        """
        ids = self._bot_message_ids.get(user_id) or []
        if message_id is None:
            for candidate in reversed(ids):
                markup = self._bot_messages.get((user_id, candidate), {}).get("reply_markup") or {}
                rows = markup.get("inline_keyboard") or []
                if any(
                    button.get("callback_data") == callback_data for row in rows for button in row
                ):
                    message_id = candidate
                    break
            else:
                message_id = next(
                    (i for i in reversed(ids) if (user_id, i) in self._bot_messages), None
                )
        message = self._bot_messages.get((user_id, message_id)) if message_id is not None else None
        if message is None:
            raise LookupError(
                f"no bot message {message_id or ''} in chat {user_id} to press a button on"
            )
        query_id = f"{user_id}{next(self._callback_seq):06d}"
        self._callback_queries[query_id] = False
        query = {
            "id": query_id,
            "from": self._remember_user(user_id),
            "message": dict(message),
            "chat_instance": str(-abs(user_id) * 7919),
            "data": callback_data,
        }
        return self.add_update({"callback_query": query})

    # ---------------------------------------------------------------- files

    def _store_file(
        self,
        data: bytes,
        folder: str,
        extension: str,
        declared_size: int | None = None,
        unique: str | None = None,
    ) -> _StoredFile:
        number = next(self._file_seq)
        stored = _StoredFile(
            file_id=f"{folder}-{number}",
            file_unique_id=unique or _digest(data),
            file_path=f"{folder}/file_{number}{extension}",
            file_size=len(data) if declared_size is None else declared_size,
            data=data,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _file_json(stored: _StoredFile) -> JSONDict:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }

    def _store_photo(self, data: bytes, declared_size: int | None = None) -> list[JSONDict]:
        width, height = _image_size(data) or (1280, 960)
        full_size = len(data) if declared_size is None else declared_size
        longest = max(width, height, 1)
        # Telegram's thumbnails are 90/320/800/1280 px on the longest side; always >= 2 sizes.
        sides = [side for side in (90, 320, 800, 1280) if side < longest] or [max(1, longest // 2)]
        sides.append(longest)
        digest = _digest(data)
        sizes: list[JSONDict] = []
        for index, side in enumerate(sides):
            scale = side / longest
            size = full_size if side == longest else max(1, int(full_size * scale * scale))
            stored = self._store_file(data, "photos", ".jpg", size, unique=f"{digest}{index}")
            sizes.append(
                {
                    **self._file_json(stored),
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                }
            )
        for photo_size in sizes:
            self._photo_sizes[photo_size["file_id"]] = sizes
        return sizes

    async def _fetch_url(self, url: str) -> bytes | None:
        """The content at a 127.0.0.1 URL (400 if it cannot be fetched); None for other hosts,
        which this server never contacts."""
        if urlsplit(url).hostname not in _LOCAL_HOSTS or self._http is None:
            return None
        try:
            response = await self._http.get(url)
        except httpx.HTTPError:
            raise _ApiError(400, "Bad Request: failed to get HTTP URL content") from None
        if response.status_code != 200:
            raise _ApiError(400, "Bad Request: failed to get HTTP URL content")
        return response.content

    async def _resolve_media(
        self, call: _Call, value: Any, what: str
    ) -> tuple[bytes | None, str | None, str | None]:
        """(bytes, filename, file id) of a media parameter: an upload, an ``attach://`` name,
        a file id or a URL."""
        upload = call.uploads.get(what)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = call.uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise _ApiError(400, f"Bad Request: file {value} not found in the request")
        if upload is not None:
            if not upload.data:
                raise _ApiError(400, "Bad Request: file must be non-empty")
            return upload.data, upload.filename, None
        if not isinstance(value, str) or not value:
            raise _ApiError(400, f"Bad Request: there is no {what} in the request")
        if value.startswith(("http://", "https://")):
            return await self._fetch_url(value), None, None
        stored = self._files.get(value)
        return (stored.data if stored else None), None, value

    # ---------------------------------------------------------------- updates: polling & webhook

    @property
    def pending_update_ids(self) -> list[int]:
        """Ids of updates injected but not yet confirmed (polling) or delivered (webhook)."""
        return [update["update_id"] for update in self._queue]

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            keep = -offset
            self._queue = self._queue[-keep:] if keep else []
        elif offset > 0:
            index = bisect.bisect_left(self._queue, offset, key=lambda u: u["update_id"])
            if index:
                del self._queue[:index]

    async def _get_updates(self, call: _Call) -> list[JSONDict]:
        if self.webhook_url is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        params = call.params
        if params.get("offset") is not None:
            self._confirm(_int_param(params, "offset"))
            self._changed.notify()
        limit = max(1, min(100, _int_param(params, "limit") if params.get("limit") else 100))
        timeout = max(0.0, _float_param(params, "timeout") if params.get("timeout") else 0.0)
        if isinstance(params.get("allowed_updates"), list):
            self.allowed_updates = params["allowed_updates"] or None
        # A newer getUpdates terminates an older one that is still waiting, as Telegram does;
        # a delayed one (whose client has probably given up already) terminates nobody.
        if not call.delayed:
            self._poll_generation += 1
            self._updates_arrived.notify()
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._select_updates(limit) and not self._closing.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self.pollers_waiting += 1
            self._changed.notify()
            try:
                await self._updates_arrived.wait(remaining)
            finally:
                self.pollers_waiting -= 1
            if generation != self._poll_generation:
                raise _ApiError(409, DEFAULT_DESCRIPTIONS[409])
        return self._select_updates(limit)

    def _select_updates(self, limit: int) -> list[JSONDict]:
        if self.allowed_updates:
            allowed = set(self.allowed_updates)
            kept = [u for u in self._queue if _update_kind(u) in allowed]
            if len(kept) != len(self._queue):
                self._queue = kept  # Telegram drops updates of types not asked for
                self._changed.notify()
        return self._queue[:limit]

    async def _webhook_worker(self, queue: asyncio.Queue[JSONDict]) -> None:
        while True:
            update = await queue.get()
            try:
                await self._deliver(update)
            finally:
                self._webhook_pending -= 1
                self._changed.notify()

    async def _deliver(self, update: JSONDict) -> None:
        body = _dumps(update)
        for attempt in range(1, self.webhook_max_attempts + 1):
            url = self.webhook_url
            if url is None or self._http is None:
                self._enqueue(update)  # webhook removed meanwhile: available to getUpdates again
                return
            headers = {"Content-Type": "application/json"}
            if self.webhook_secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
            status: int | None = None
            error: str | None = None
            try:
                response = await self._http.post(url, content=body, headers=headers)
                status = response.status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            ok = status is not None and 200 <= status < 300
            self.webhook_deliveries.append(
                WebhookDelivery(update["update_id"], attempt, url, status, ok, error, self._clock())
            )
            self._changed.notify()
            if ok:
                return
            self._last_webhook_error = (
                int(self._wall_clock()),
                error or f"Wrong response from the webhook: {status}",
            )
            if attempt < self.webhook_max_attempts:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.webhook_backoff * 2 ** (attempt - 1)):
                        await self._closing.wait()
                if self._closing.is_set():
                    return

    # ---------------------------------------------------------------- observing

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """Everything recorded in ``sent`` for one chat."""
        return [message for message in self.sent if message.chat_id == chat_id]

    def texts_to(self, chat_id: int) -> list[str | None]:
        """Texts (captions for media) of the new messages sent to one chat, without edits."""
        return [m.text for m in self.sent if m.chat_id == chat_id and m.method in _SEND_METHODS]

    async def wait_until(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float = 10.0,
        what: str = "condition",
    ) -> None:
        """Waits until ``condition()`` is true, re-checking after every API call, injection
        and webhook delivery; raises AssertionError after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await self._changed.wait(remaining)

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool] | None = None,
        *,
        chat_id: int | None = None,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[SentMessage]:
        """The first ``count`` messages in ``sent`` (already there or still to come) that are to
        ``chat_id`` (if given) and satisfy ``predicate`` (if given). On timeout raises
        AssertionError listing what was sent to that chat."""
        matches: list[SentMessage] = []
        scanned = 0
        sent = self.sent
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.sent is not sent or len(sent) < scanned:  # reset() meanwhile
                sent, scanned, matches = self.sent, 0, []
            for message in sent[scanned:]:
                if (chat_id is None or message.chat_id == chat_id) and (
                    predicate is None or predicate(message)
                ):
                    matches.append(message)
            scanned = len(sent)
            if len(matches) >= count:
                return matches[:count]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    self._describe_wait_failure(chat_id, count, len(matches), timeout)
                )
            await self._changed.wait(remaining)

    def _describe_wait_failure(
        self, chat_id: int | None, count: int, found: int, timeout: float
    ) -> str:
        where = "any chat" if chat_id is None else f"chat {chat_id}"
        messages = self.sent if chat_id is None else self.messages_to(chat_id)
        lines = [
            f"timed out after {timeout} s waiting for {count} matching message(s) to {where}; found {found}."
        ]
        lines.append(f"Sent to {where} ({len(messages)}):")
        lines += [f"  {m.describe()}" for m in messages[-30:]] or ["  (nothing)"]
        rejected = [r for r in self.rejected if chat_id is None or r.chat_id == chat_id]
        if rejected:
            lines.append("Rejected calls:")
            lines += [f"  {r.method} -> {r.status} {r.description}" for r in rejected[-10:]]
        lines.append(
            f"Calls: {dict(self.calls)}; updates not yet confirmed: {self.pending_update_ids}"
        )
        return "\n".join(lines)

    async def wait_until_consumed(self, timeout: float = 10.0) -> None:
        """Waits until every injected update has been fetched and confirmed (a later getUpdates
        offset) or, with a webhook, delivered (or given up)."""
        try:
            await self.wait_until(
                lambda: not self._queue and self._webhook_pending == 0, timeout=timeout
            )
        except AssertionError:
            raise AssertionError(
                f"timed out after {timeout} s waiting for updates to be consumed; unconfirmed "
                f"update ids: {self.pending_update_ids}, webhook deliveries pending: "
                f"{self._webhook_pending}, getUpdates calls: {self.calls['getUpdates']}"
            ) from None

    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        *,
        timeout: float = 10.0,
    ) -> None:
        """Waits until ``method`` has been called at least ``count`` times in total."""
        await self.wait_until(
            lambda: self.calls[method] >= count,
            timeout=timeout,
            what=f"{count} call(s) of {method}",
        )

    # ---------------------------------------------------------------- faults

    def fail(
        self,
        method: str,
        *,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` answer HTTP ``status`` with Telegram's error
        body; for 429, ``parameters.retry_after`` is ``retry_after`` (default 1)."""
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            if retry_after < 1:
                raise ValueError("retry_after must be >= 1 (PTB ignores 0)")
        else:
            retry_after = None
        fault = _Fault(
            status, description or _default_description(status, retry_after), retry_after
        )
        self._faults[self._canonical.get(method.lower(), method)].extend([fault] * times)

    def delay(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` are handled only after ``seconds`` (so that a
        client with a shorter read timeout gives up); they are still carried out afterwards."""
        self._delays[self._canonical.get(method.lower(), method)].extend([seconds] * times)

    def block_chat(self, chat_id: int) -> None:
        """Every call with this chat_id answers 403 "Forbidden: bot was blocked by the user"."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        """Undoes ``block_chat``."""
        self._blocked.discard(chat_id)

    # ---------------------------------------------------------------- sending helpers

    def _check_recipient(self, chat_id: int) -> None:
        if self.require_started and chat_id > 0 and chat_id not in self._started_users:
            raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")

    def _check_flood(self, chat_id: int) -> None:
        if not self.enforce_flood_limits:
            return
        now = self._clock()
        recent = self._recent_sends
        while recent and now - recent[0] >= 1.0:
            recent.popleft()
        if len(recent) >= self.overall_per_second:
            retry_after = max(1, math.ceil(1.0 - (now - recent[0])))
            self._flood(
                f"overall: message to chat {chat_id} would be #{len(recent) + 1} within 1 s "
                f"(limit {self.overall_per_second}/s)",
                retry_after,
            )
        if chat_id > 0:
            last = self._last_send_to.get(chat_id)
            if last is not None and now - last < self.per_chat_interval:
                gap = now - last
                self._flood(
                    f"chat {chat_id}: two messages {gap:.3f} s apart (limit one per {self.per_chat_interval} s)",
                    max(1, math.ceil(self.per_chat_interval - gap)),
                )
        else:
            group = self._group_sends[chat_id]
            while group and now - group[0] >= 60.0:
                group.popleft()
            if len(group) >= self.per_group_per_minute:
                self._flood(
                    f"group {chat_id}: more than {self.per_group_per_minute} messages per minute",
                    max(1, math.ceil(60.0 - (now - group[0]))),
                )
            group.append(now)
        recent.append(now)
        self._last_send_to[chat_id] = now

    def _flood(self, violation: str, retry_after: int) -> None:
        self.flood_violations.append(violation)
        raise _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def _check_text(self, value: Any, parse_mode: Any, *, caption: bool) -> str | None:
        """The text or caption, checked like Telegram does (empty, too long, bad markup)."""
        if value is None or value == "":
            if caption:
                return None
            raise _ApiError(400, "Bad Request: message text is empty")
        text = str(value)
        length = _plain_length(text, parse_mode)
        if not caption and not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if caption and length > MAX_CAPTION_LENGTH:
            raise _ApiError(400, "Bad Request: message caption is too long")
        if not caption and length > MAX_TEXT_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        return text

    def _new_bot_message(
        self, chat_id: int, content: JSONDict, markup: dict[str, Any] | None
    ) -> JSONDict:
        message_id = self._next_message_id(chat_id)
        message: JSONDict = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": self._chat(chat_id),
            "date": int(self._wall_clock()),
            **{k: v for k, v in content.items() if v is not None},
        }
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # Telegram echoes inline keyboards only
        self._bot_messages[(chat_id, message_id)] = message
        self._bot_message_ids[chat_id].append(message_id)
        return message

    def _record(
        self,
        call: _Call,
        chat_id: int,
        message_id: int,
        text: str | None,
        markup: dict[str, Any] | None,
        *,
        photo: bytes | None = None,
        document: bytes | None = None,
        filename: str | None = None,
    ) -> None:
        self.sent.append(
            SentMessage(
                method=call.method,
                chat_id=chat_id,
                message_id=message_id,
                text=text,
                reply_markup=markup,
                photo=photo,
                document=document,
                filename=filename,
                params=call.params,
                at=self._clock(),
            )
        )

    def _editable(self, params: JSONDict) -> tuple[int, int, JSONDict]:
        chat_id = _chat_id(params)
        message_id = _int_param(params, "message_id")
        message = self._bot_messages.get((chat_id, message_id))
        if message is None:
            if (chat_id, message_id) in self._user_messages:
                raise _ApiError(400, "Bad Request: message can't be edited")
            raise _ApiError(400, "Bad Request: message to edit not found")
        return chat_id, message_id, message

    # ---------------------------------------------------------------- API methods

    async def _true(self, call: _Call) -> bool:
        return True

    async def _get_me(self, call: _Call) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _set_webhook(self, call: _Call) -> bool:
        params = call.params
        url = params.get("url") or ""
        if not url:
            return await self._delete_webhook(call)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise _ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook_url = url
        self.webhook_secret = secret
        self.webhook_max_connections = int(params.get("max_connections") or 40)
        if isinstance(params.get("allowed_updates"), list):
            self.allowed_updates = params["allowed_updates"] or None
        pending, self._queue = self._queue, []
        if not params.get("drop_pending_updates"):
            for update in pending:
                self.add_update(update)
        return True

    async def _delete_webhook(self, call: _Call) -> bool:
        self.webhook_url = None
        self.webhook_secret = None
        if call.params.get("drop_pending_updates"):
            self._queue = []
        return True

    async def _get_webhook_info(self, call: _Call) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue) + self._webhook_pending,
        }
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
            if self.allowed_updates:
                info["allowed_updates"] = self.allowed_updates
            if self._last_webhook_error:
                info["last_error_date"], info["last_error_message"] = self._last_webhook_error
        return info

    async def _send_message(self, call: _Call) -> JSONDict:
        params = call.params
        chat_id = _chat_id(params)
        text = self._check_text(params.get("text"), params.get("parse_mode"), caption=False)
        markup = _check_reply_markup(params.get("reply_markup"))
        self._check_recipient(chat_id)
        self._check_flood(chat_id)
        message = self._new_bot_message(chat_id, {"text": text}, markup)
        self._record(call, chat_id, message["message_id"], text, markup)
        return message

    async def _send_photo(self, call: _Call) -> JSONDict:
        params = call.params
        chat_id = _chat_id(params)
        caption = self._check_text(params.get("caption"), params.get("parse_mode"), caption=True)
        markup = _check_reply_markup(params.get("reply_markup"))
        data, filename, file_id = await self._resolve_media(call, params.get("photo"), "photo")
        if data is not None and file_id is None and _image_size(data) is None:
            raise _ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        self._check_recipient(chat_id)
        self._check_flood(chat_id)
        sizes = self._photo_sizes_for(data, file_id)
        message = self._new_bot_message(chat_id, {"photo": sizes, "caption": caption}, markup)
        self._record(
            call, chat_id, message["message_id"], caption, markup, photo=data, filename=filename
        )
        return message

    def _photo_sizes_for(self, data: bytes | None, file_id: str | None) -> list[JSONDict]:
        if file_id is not None:
            known = self._photo_sizes.get(file_id)
            if known is not None:
                return known
            return [
                {
                    "file_id": file_id,
                    "file_unique_id": _digest(file_id.encode()),
                    "width": 1280,
                    "height": 960,
                }
            ]
        if data is not None:
            return self._store_photo(data)
        return [
            {"file_id": "url-photo", "file_unique_id": "url-photo", "width": 1280, "height": 960}
        ]

    def _document_json(
        self, data: bytes | None, filename: str | None, file_id: str | None, mime: str | None
    ) -> JSONDict:
        if file_id is not None:
            stored = self._files.get(file_id)
            document: JSONDict = (
                self._file_json(stored)
                if stored
                else {"file_id": file_id, "file_unique_id": _digest(file_id.encode())}
            )
        elif data is not None:
            document = self._file_json(
                self._store_file(data, "documents", os.path.splitext(filename or "")[1])
            )
        else:
            document = {"file_id": "url-document", "file_unique_id": "url-document"}
        if filename:
            document["file_name"] = filename
        if mime:
            document["mime_type"] = mime
        return document

    async def _send_document(self, call: _Call) -> JSONDict:
        params = call.params
        chat_id = _chat_id(params)
        caption = self._check_text(params.get("caption"), params.get("parse_mode"), caption=True)
        markup = _check_reply_markup(params.get("reply_markup"))
        data, filename, file_id = await self._resolve_media(
            call, params.get("document"), "document"
        )
        self._check_recipient(chat_id)
        self._check_flood(chat_id)
        upload = call.uploads.get("document")
        document = self._document_json(
            data, filename, file_id, upload.content_type if upload else None
        )
        message = self._new_bot_message(chat_id, {"document": document, "caption": caption}, markup)
        self._record(
            call, chat_id, message["message_id"], caption, markup, document=data, filename=filename
        )
        return message

    async def _send_media_group(self, call: _Call) -> list[JSONDict]:
        params = call.params
        chat_id = _chat_id(params)
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _ApiError(400, "Bad Request: media group must contain 2-10 items")
        items: list[tuple[str, str | None, bytes | None, str | None, str | None]] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in (
                "photo",
                "video",
                "document",
                "audio",
            ):
                raise _ApiError(400, "Bad Request: wrong media type in the media group")
            caption = self._check_text(item.get("caption"), item.get("parse_mode"), caption=True)
            data, filename, file_id = await self._resolve_media(call, item.get("media"), "media")
            items.append((item["type"], caption, data, filename, file_id))
        self._check_recipient(chat_id)
        self._check_flood(chat_id)
        group_id = str(next(self._file_seq))
        messages = []
        for kind, caption, data, filename, file_id in items:
            if kind == "photo":
                content: JSONDict = {"photo": self._photo_sizes_for(data, file_id)}
            else:
                content = {"document": self._document_json(data, filename, file_id, None)}
            content.update({"caption": caption, "media_group_id": group_id})
            message = self._new_bot_message(chat_id, content, None)
            messages.append(message)
            is_photo = kind == "photo"
            self._record(
                call,
                chat_id,
                message["message_id"],
                caption,
                None,
                photo=data if is_photo else None,
                document=None if is_photo else data,
                filename=filename,
            )
        return messages

    async def _send_location(self, call: _Call) -> JSONDict:
        params = call.params
        chat_id = _chat_id(params)
        try:
            location = {
                "latitude": float(params["latitude"]),
                "longitude": float(params["longitude"]),
            }
        except (KeyError, TypeError, ValueError):
            raise _ApiError(400, "Bad Request: wrong latitude or longitude") from None
        markup = _check_reply_markup(params.get("reply_markup"))
        self._check_recipient(chat_id)
        self._check_flood(chat_id)
        message = self._new_bot_message(chat_id, {"location": location}, markup)
        self._record(call, chat_id, message["message_id"], None, markup)
        return message

    async def _edit_message_text(self, call: _Call) -> JSONDict | bool:
        params = call.params
        text = self._check_text(params.get("text"), params.get("parse_mode"), caption=False)
        markup = _check_reply_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        chat_id, message_id, message = self._editable(params)
        if "text" not in message:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        if message["text"] == text and message.get("reply_markup") == markup:
            raise _ApiError(400, NOT_MODIFIED)
        message["text"] = text
        self._set_markup(message, markup)
        self._record(call, chat_id, message_id, text, markup)
        return message

    async def _edit_message_caption(self, call: _Call) -> JSONDict | bool:
        params = call.params
        caption = self._check_text(params.get("caption"), params.get("parse_mode"), caption=True)
        markup = _check_reply_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        chat_id, message_id, message = self._editable(params)
        if "text" in message:
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        if message.get("caption") == caption and message.get("reply_markup") == markup:
            raise _ApiError(400, NOT_MODIFIED)
        if caption is None:
            message.pop("caption", None)
        else:
            message["caption"] = caption
        self._set_markup(message, markup)
        self._record(call, chat_id, message_id, caption, markup)
        return message

    async def _edit_message_reply_markup(self, call: _Call) -> JSONDict | bool:
        params = call.params
        markup = _check_reply_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        chat_id, message_id, message = self._editable(params)
        if message.get("reply_markup") == markup:
            raise _ApiError(400, NOT_MODIFIED)
        self._set_markup(message, markup)
        self._record(call, chat_id, message_id, message.get("text", message.get("caption")), markup)
        return message

    def _set_markup(self, message: JSONDict, markup: dict[str, Any] | None) -> None:
        # Editing without reply_markup removes the inline keyboard, as on Telegram.
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(self._wall_clock())

    async def _delete_message(self, call: _Call) -> bool:
        chat_id = _chat_id(call.params)
        message_id = _int_param(call.params, "message_id")
        message = self._bot_messages.pop((chat_id, message_id), None)
        if message is None and self._user_messages.pop((chat_id, message_id), None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        self._record(call, chat_id, message_id, None, None)
        return True

    async def _answer_callback_query(self, call: _Call) -> bool:
        query_id = str(call.params.get("callback_query_id") or "")
        if self._callback_queries.get(query_id, True):  # unknown or already answered
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = call.params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._callback_queries[query_id] = True
        self.answered_callbacks.append(call.params)
        return True

    async def _send_chat_action(self, call: _Call) -> bool:
        chat_id = _chat_id(call.params)
        if call.params.get("action") not in _CHAT_ACTIONS:
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        self._check_recipient(chat_id)
        return True

    async def _get_file(self, call: _Call) -> JSONDict:
        stored = self._files.get(str(call.params.get("file_id") or ""))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if stored.file_size > MAX_GET_FILE_SIZE:
            raise _ApiError(400, "Bad Request: file is too big")
        return {**self._file_json(stored), "file_path": stored.file_path}

    async def _set_my_commands(self, call: _Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        self.commands = commands
        return True

    async def _get_my_commands(self, call: _Call) -> list[JSONDict]:
        return self.commands

    async def _delete_my_commands(self, call: _Call) -> bool:
        self.commands = []
        return True


def _safe_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------------------------
# Driving a server that runs in another process


class ControlClient:
    """Drives a FakeTelegramServer in another process through its ``/_control/`` endpoints.

    ``url`` is the server's ``http://127.0.0.1:PORT``. Injection and fault methods take the
    same arguments as FakeTelegramServer's (bytes are sent base64-encoded)::

        async with ControlClient(f"http://127.0.0.1:{port}") as tg:
            await tg.call("add_text", user_id=5, text="/start")
            sent = await tg.sent(chat_id=5, min_count=1, timeout=10)
    """

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.url, trust_env=False, timeout=60.0)

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Closes the HTTP client."""
        await self._http.aclose()

    @staticmethod
    def _result(response: httpx.Response) -> Any:
        body = response.json()
        if not body.get("ok"):
            raise AssertionError(f"control call failed: {body.get('description')}")
        return body["result"]

    async def add_update(self, update: JSONDict) -> int:
        """Injects a raw Update; returns its update_id."""
        result: int = self._result(await self._http.post("/_control/updates", json=update))
        return result

    async def call(self, name: str, /, **kwargs: Any) -> Any:
        """Calls an injection or fault method (``add_text``, ``add_photo``, ``press_button``,
        ``fail``, ``delay``, ``block_chat``, ...) on the server; returns its result."""
        encoded = {
            key: _encode_bytes(value) if isinstance(value, bytes) else value
            for key, value in kwargs.items()
        }
        response = await self._http.post("/_control/call", json={"method": name, "kwargs": encoded})
        return self._result(response)

    async def add_text(self, user_id: int, text: str, **kwargs: Any) -> int:
        """Same as FakeTelegramServer.add_text."""
        result: int = await self.call("add_text", user_id=user_id, text=text, **kwargs)
        return result

    async def press_button(self, user_id: int, callback_data: str, **kwargs: Any) -> int:
        """Same as FakeTelegramServer.press_button."""
        result: int = await self.call(
            "press_button", user_id=user_id, callback_data=callback_data, **kwargs
        )
        return result

    async def sent(
        self,
        chat_id: int | None = None,
        *,
        min_count: int = 0,
        timeout: float = 0.0,
    ) -> list[SentMessage]:
        """Messages recorded by the server (to ``chat_id`` if given), waiting up to ``timeout``
        seconds for at least ``min_count`` of them (fewer are returned if they do not come)."""
        query: dict[str, Any] = {"min_count": min_count, "timeout": timeout}
        if chat_id is not None:
            query["chat_id"] = chat_id
        response = await self._http.get("/_control/sent", params=query, timeout=timeout + 30)
        return [SentMessage.from_json(item) for item in self._result(response)]

    async def state(self) -> JSONDict:
        """calls, pending_update_ids, flood_violations, answered_callbacks, webhook_url, rejected."""
        result: JSONDict = self._result(await self._http.get("/_control/state"))
        return result

    async def wait_until_consumed(self, timeout: float = 10.0) -> None:
        """Same as FakeTelegramServer.wait_until_consumed (AssertionError on timeout)."""
        response = await self._http.post(
            "/_control/wait_consumed", params={"timeout": timeout}, timeout=timeout + 30
        )
        self._result(response)

    async def reset(self) -> None:
        """Same as FakeTelegramServer.reset."""
        self._result(await self._http.post("/_control/reset"))


# --------------------------------------------------------------------------------------------
# Standalone process


async def _serve_forever(args: argparse.Namespace) -> None:
    server = FakeTelegramServer(
        token=args.token,
        bot_username=args.bot_username,
        enforce_flood_limits=args.enforce_flood_limits,
        per_chat_interval=args.per_chat_interval,
        overall_per_second=args.overall_per_second,
        port=args.port,
    )
    await server.start()
    print(server.port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    stopping = asyncio.create_task(stop.wait())
    assert server._asgi.task is not None
    await asyncio.wait({stopping, server._asgi.task}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    await server.stop()


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.fakes.telegram_server --port N``: serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--bot-username", default="pakn_test_bot")
    parser.add_argument("--enforce-flood-limits", action="store_true")
    parser.add_argument("--per-chat-interval", type=float, default=1.0)
    parser.add_argument("--overall-per-second", type=int, default=30)
    asyncio.run(_serve_forever(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
