"""Async httpx client for the Zalo Bot Platform API (transport layer only).

Method names mirror the ``python-zalo-bot`` SDK (``get_me``, ``get_update``,
``send_message`` ...), but the behaviour follows what the API is known to do
(see ``shared/api/zalo-bot-api.md``):

* Every call is ``POST {base_url}/bot{token}/{Method}`` with a JSON body; keys whose
  value is ``None`` are dropped.
* Success is decided by the envelope's ``ok`` field, never by the HTTP status: Zalo
  answers the empty long poll with HTTP 200 and ``{"ok": false, "error_code": 408}``,
  and other errors may come with any status, with or without a JSON body.
* ``getUpdates`` hands out **one** update per call, has no offsets and removes the
  update from Zalo's queue once returned (at-most-once delivery: the caller must
  persist what it received before acknowledging anything to the citizen).
* Nothing here retries. Errors are raised as :class:`ZaloError` subclasses so the
  caller (adapter / outbox) decides what to do.

Never log or print the request URL: it contains the bot token. Note that httpx itself
logs every request URL at INFO level on the ``httpx`` logger, so keep that logger at
WARNING or above in production.
"""

from __future__ import annotations

import hmac
import json
import re
import unicodedata
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Self

import httpx

__all__ = [
    "CHAT_ACTION_TYPING",
    "DEFAULT_BASE_URL",
    "EVENT_IMAGE",
    "EVENT_STICKER",
    "EVENT_TEXT",
    "EVENT_UNSUPPORTED",
    "EVENT_VOICE",
    "LEGACY_BASE_URL",
    "TEXT_LIMIT",
    "WEBHOOK_SECRET_HEADER",
    "ZaloApiError",
    "ZaloBadRequest",
    "ZaloBotClient",
    "ZaloBotInfo",
    "ZaloConflict",
    "ZaloError",
    "ZaloForbidden",
    "ZaloMessage",
    "ZaloNetworkError",
    "ZaloNotFound",
    "ZaloRateLimited",
    "ZaloSentMessage",
    "ZaloServerError",
    "ZaloTimeout",
    "ZaloUnauthorized",
    "ZaloUpdate",
    "ZaloWebhookInfo",
    "parse_update",
    "secret_matches",
    "split_text",
    "utf16_len",
]

DEFAULT_BASE_URL: Final = "https://bot-api.zaloplatforms.com"
#: Older host, still the default of both official SDKs; some bots only receive
#: updates there (research notes, U1).
LEGACY_BASE_URL: Final = "https://bot-api.zapps.me"

#: Documented limit of ``text`` (sendMessage) and ``caption`` (sendPhoto).
TEXT_LIMIT: Final = 2000

#: Header carrying the ``secret_token`` given to ``setWebhook`` on webhook deliveries.
WEBHOOK_SECRET_HEADER: Final = "X-Bot-Api-Secret-Token"

CHAT_ACTION_TYPING: Final = "typing"

EVENT_TEXT: Final = "message.text.received"
EVENT_IMAGE: Final = "message.image.received"
EVENT_STICKER: Final = "message.sticker.received"
#: Sent instead of the real content for users in protected groups; carries no content.
EVENT_UNSUPPORTED: Final = "message.unsupported.received"
#: Only in 2026 sources; unverified.
EVENT_VOICE: Final = "message.voice.received"

#: Extra read time given to a long poll on top of the poll ``timeout``.
POLL_READ_MARGIN: Final = 10.0

#: Epoch values below this are taken as seconds, not milliseconds (1e11 ms is 1973).
_SECONDS_THRESHOLD: Final = 100_000_000_000


# --------------------------------------------------------------------------- errors


class ZaloError(Exception):
    """Base of every error raised by :class:`ZaloBotClient`."""


class ZaloApiError(ZaloError):
    """Zalo answered with ``ok: false`` (or with a non-envelope error response).

    ``error_code`` is the envelope's ``error_code`` when there is one, otherwise the
    HTTP status. ``http_status`` is the HTTP status actually received.
    """

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        method: str | None = None,
        http_status: int | None = None,
    ) -> None:
        self.error_code = error_code
        self.description = description
        self.method = method
        self.http_status = http_status
        where = f" in {method}" if method else ""
        super().__init__(f"Zalo API error {error_code}{where}: {description}")


class ZaloBadRequest(ZaloApiError):
    """400: invalid parameters, wrong path or unknown method. Do not retry as is."""


class ZaloUnauthorized(ZaloApiError):
    """401: the token is invalid or was reset in Zalo Bot Creator."""


class ZaloForbidden(ZaloApiError):
    """403. The docs' error table calls it "Internal server error" (likely a docs
    mistake); treat it as "not allowed to send to this chat" but do not draw
    permanent conclusions from a single one."""


class ZaloNotFound(ZaloApiError):
    """404: "invalid access request" (e.g. unknown chat)."""


class ZaloConflict(ZaloApiError):
    """409: e.g. polling while a webhook is set (PTB-style; not documented by Zalo)."""


class ZaloRateLimited(ZaloApiError):
    """429: quota exceeded. ``retry_after`` (seconds) when the response gave one."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        method: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(error_code, description, method=method, http_status=http_status)
        self.retry_after = retry_after


class ZaloServerError(ZaloApiError):
    """5xx, a response that is not a Zalo envelope, or any other error code."""


class ZaloNetworkError(ZaloError):
    """The request failed at the transport level (connection, protocol, ...).

    ``request_sent`` is False when the request certainly never reached Zalo (connect
    failure, pool timeout): then resending cannot duplicate a message. When it is True
    the request may or may not have been processed.
    """

    def __init__(self, method: str, detail: str, *, request_sent: bool) -> None:
        self.method = method
        self.request_sent = request_sent
        super().__init__(f"Zalo {method} failed: {detail}")


class ZaloTimeout(ZaloNetworkError):
    """The request timed out (connect, write, read or pool timeout)."""


_ERRORS_BY_CODE: Final[dict[int, type[ZaloApiError]]] = {
    400: ZaloBadRequest,
    401: ZaloUnauthorized,
    403: ZaloForbidden,
    404: ZaloNotFound,
    409: ZaloConflict,
}


def _make_error(
    error_code: int,
    description: str,
    *,
    method: str,
    http_status: int,
    retry_after: float | None,
) -> ZaloApiError:
    if error_code == 429:
        return ZaloRateLimited(
            error_code,
            description,
            method=method,
            http_status=http_status,
            retry_after=retry_after,
        )
    cls = _ERRORS_BY_CODE.get(error_code, ZaloServerError)
    return cls(error_code, description, method=method, http_status=http_status)


# --------------------------------------------------------------------------- models


@dataclass(frozen=True, slots=True)
class ZaloBotInfo:
    """Result of ``getMe``."""

    id: str
    account_name: str
    account_type: str
    can_join_groups: bool
    display_name: str | None


@dataclass(frozen=True, slots=True)
class ZaloSentMessage:
    """Result of ``sendMessage`` / ``sendPhoto`` / ``sendSticker``.

    ``message_id`` is ``""`` and ``date`` is None if Zalo said ``ok`` without a result.
    """

    message_id: str
    date: datetime | None


@dataclass(frozen=True, slots=True)
class ZaloWebhookInfo:
    """Result of ``getWebhookInfo`` / ``setWebhook``. ``url`` is ``""`` when none is set."""

    url: str
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class ZaloMessage:
    """The ``message`` of an update, flattened.

    ``date`` is an aware UTC datetime (Zalo sends epoch milliseconds), None if absent.
    ``chat_id`` is what to reply to (equal to ``sender_id`` in private chats).
    ``sender_name`` is ``from.display_name``, else ``from.name``, else ``from.first_name``.
    ``photo_url`` comes from ``photo_url`` (real traffic) or ``photo`` (the docs). It is a
    public URL that expires: download it on receipt. ``raw`` is the message object as
    received (e.g. for ``voice_url`` or sticker ``url``).
    """

    message_id: str
    date: datetime | None
    chat_id: str
    chat_type: str | None
    sender_id: str
    sender_name: str | None
    is_bot: bool
    text: str | None
    photo_url: str | None
    caption: str | None
    sticker: str | None
    message_type: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ZaloUpdate:
    """One update (``{event_name, message}``), from ``getUpdates`` or a webhook.

    ``message`` is None when the update has no usable message (no chat or sender id).
    ``raw`` is the unwrapped update object as received.
    """

    event_name: str
    message: ZaloMessage | None
    raw: dict[str, Any] = field(repr=False, compare=False)


# --------------------------------------------------------------------------- parsing


def _as_str(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _as_mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _ms_to_datetime(value: object) -> datetime | None:
    """Epoch milliseconds (int, float or digit string) to an aware UTC datetime.

    Values below 1e11 are taken as seconds, to survive a sender that uses seconds.
    """
    if isinstance(value, bool):
        return None
    number: float
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if number < 0:
        return None
    seconds = number if number < _SECONDS_THRESHOLD else number / 1000.0
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _parse_message(data: Mapping[str, Any]) -> ZaloMessage | None:
    sender = _as_mapping(data.get("from"))
    chat = _as_mapping(data.get("chat"))
    sender_id = _as_str(sender.get("id"))
    chat_id = _as_str(chat.get("id"))
    if chat_id is None:
        chat_id = sender_id
    if sender_id is None:
        sender_id = chat_id
    if chat_id is None or sender_id is None:
        return None
    sender_name = None
    for key in ("display_name", "name", "first_name"):
        name = _as_str(sender.get(key))
        if name:
            sender_name = name
            break
    photo_url = _as_str(data.get("photo_url")) or _as_str(data.get("photo"))
    return ZaloMessage(
        message_id=_as_str(data.get("message_id")) or "",
        date=_ms_to_datetime(data.get("date")),
        chat_id=chat_id,
        chat_type=_as_str(chat.get("chat_type")) or _as_str(chat.get("type")),
        sender_id=sender_id,
        sender_name=sender_name,
        is_bot=sender.get("is_bot") is True,
        text=_as_str(data.get("text")),
        photo_url=photo_url or None,
        caption=_as_str(data.get("caption")),
        sticker=_as_str(data.get("sticker")),
        message_type=_as_str(data.get("message_type")),
        raw=dict(data),
    )


def _update_from_object(obj: object) -> ZaloUpdate | None:
    if not isinstance(obj, Mapping):
        return None
    if "event_name" not in obj and "message" not in obj:
        return None
    message_data = obj.get("message")
    message = _parse_message(message_data) if isinstance(message_data, Mapping) else None
    return ZaloUpdate(
        event_name=_as_str(obj.get("event_name")) or "",
        message=message,
        raw=dict(obj),
    )


def parse_update(body: Mapping[str, Any] | None) -> ZaloUpdate | None:
    """Parse a webhook body (or one ``getUpdates`` response) into an update.

    Accepts the wrapped form ``{"ok": true, "result": {event_name, message}}`` shown in
    the docs and the unwrapped ``{event_name, message}`` seen in real traffic. Returns
    None for an empty or probe body, for ``ok: false`` and for anything that is not an
    update. If ``result`` is a list, the first update is returned.
    """
    if not isinstance(body, Mapping) or not body:
        return None
    if "event_name" not in body and ("result" in body or "ok" in body):
        if body.get("ok") is False:
            return None
        inner = body.get("result")
        if isinstance(inner, list):
            for item in inner:
                update = _update_from_object(item)
                if update is not None:
                    return update
            return None
        return _update_from_object(inner)
    return _update_from_object(body)


def _parse_bot_info(result: object) -> ZaloBotInfo:
    data = _as_mapping(result)
    return ZaloBotInfo(
        id=_as_str(data.get("id")) or "",
        account_name=_as_str(data.get("account_name")) or _as_str(data.get("name")) or "",
        account_type=_as_str(data.get("account_type")) or "",
        can_join_groups=data.get("can_join_groups") is True,
        display_name=_as_str(data.get("display_name")) or _as_str(data.get("name")),
    )


def _parse_sent(result: object) -> ZaloSentMessage:
    data = _as_mapping(result)
    return ZaloSentMessage(
        message_id=_as_str(data.get("message_id")) or "",
        date=_ms_to_datetime(data.get("date")),
    )


def _parse_webhook_info(result: object, *, default_url: str = "") -> ZaloWebhookInfo:
    data = _as_mapping(result)
    url = _as_str(data.get("url"))
    return ZaloWebhookInfo(
        url=default_url if url is None else url,
        updated_at=_ms_to_datetime(data.get("updated_at")),
    )


def secret_matches(received: str | None, expected: str) -> bool:
    """Constant-time check of the ``X-Bot-Api-Secret-Token`` header of a webhook call."""
    if received is None or not expected:
        return False
    return hmac.compare_digest(received.encode("utf-8"), expected.encode("utf-8"))


# --------------------------------------------------------------------------- text splitting


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what JavaScript's ``length`` counts)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_JOINERS = frozenset({"\u200d", "\u034f"})


def _fitting_prefix(text: str, limit: int) -> int:
    """Number of code points of ``text`` whose UTF-16 length is at most ``limit``."""
    units = 0
    for index, ch in enumerate(text[:limit]):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return index
    return min(len(text), limit)


def _is_cluster_continuation(ch: str) -> bool:
    """True for characters that must not start a part (combining marks, joiners,
    variation selectors, emoji modifiers)."""
    if ch in _JOINERS or unicodedata.combining(ch):
        return True
    code = ord(ch)
    return (
        0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF
        or unicodedata.category(ch) in ("Mn", "Me", "Mc")
    )


def _hard_cut(text: str, cut: int) -> int:
    """Move ``cut`` back (a little) so that it does not split a grapheme cluster."""
    pos = cut
    floor = max(1, cut - 16)
    while pos > floor and (_is_cluster_continuation(text[pos]) or text[pos - 1] in _JOINERS):
        pos -= 1
    if _is_cluster_continuation(text[pos]) or text[pos - 1] in _JOINERS:
        return cut
    return pos


def _break_position(window: str, min_pos: int) -> int | None:
    """Best place (index into ``window``) to end a part, or None.

    Tries, in order: the last line break, the last sentence end, the last whitespace;
    each only counts if it lies at or after ``min_pos``.
    """
    newline = window.rfind("\n")
    if newline >= min_pos and window[:newline].strip():
        return newline
    sentence_end = None
    for match in _SENTENCE_END.finditer(window):
        sentence_end = match.end()
    if sentence_end is not None and sentence_end >= min_pos:
        return sentence_end
    for index in range(len(window) - 1, min_pos - 1, -1):
        if window[index].isspace() and window[:index].strip():
            return index
    return None


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split ``text`` into parts that each fit Zalo's message limit.

    The limit is counted in **UTF-16 code units**: one source says Zalo counts UTF-16
    (like JavaScript), the docs just say "characters". UTF-16 units are never fewer
    than code points, so parts fit under either reading; an emoji outside the BMP
    counts 2, Vietnamese letters (precomposed or combining) count 1 per code point.

    Preference for where a part ends: a line break, else a sentence end, else a space,
    looking in the second half of the allowed window first and then anywhere in it;
    only text without any of these is hard-cut (never inside a surrogate pair and, when
    possible, not inside a grapheme cluster). Whitespace at a split point is dropped.
    Text that fits is returned unchanged; an empty or blank text gives ``[]``.
    No part is empty.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2 UTF-16 code units")
    if not text.strip():
        return []
    if utf16_len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text.strip()
    while utf16_len(rest) > limit:
        cut = _fitting_prefix(rest, limit)
        # A boundary right after the window (e.g. the space ending the last word) is
        # as good as one inside it.
        window = rest[: cut + 1] if cut < len(rest) and rest[cut].isspace() else rest[:cut]
        pos = _break_position(window, max(1, cut // 2))
        if pos is None:
            pos = _break_position(window, 1)
        if pos is None:
            pos = _hard_cut(rest, cut)
        part = rest[:pos].rstrip()
        if part:
            parts.append(part)
        rest = rest[pos:].lstrip()
    if rest:
        parts.append(rest)
    return parts


# --------------------------------------------------------------------------- client


class ZaloBotClient:
    """Async client for the Zalo Bot Platform API.

    One instance per token; it owns an ``httpx.AsyncClient``. Call :meth:`close` (or
    use ``async with``) when done. Not meant for concurrent ``get_update`` calls: run a
    single poller. Sending methods may be called concurrently.

    ``timeout`` is the default for connect/read/write/pool. ``get_update`` reads for
    ``poll timeout + 10 s``. ``send_photo`` reads for ``photo_timeout`` (default
    ``3 * timeout``) because Zalo downloads the photo before answering.
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        photo_timeout: float | None = None,
    ) -> None:
        if not token or "/" in token:
            raise ValueError("invalid Zalo bot token")
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._photo_timeout = photo_timeout if photo_timeout is not None else 3 * timeout
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Accept": "application/json"},
        )
        self._pending: deque[ZaloUpdate] = deque()

    def __repr__(self) -> str:
        bot_id = self._token.split(":", 1)[0]
        return f"ZaloBotClient(bot_id={bot_id!r}, base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def pending_updates(self) -> int:
        """Updates received in a list response and not handed out yet."""
        return len(self._pending)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ----------------------------------------------------------------- low level

    async def call(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        http_timeout: httpx.Timeout | float | None = None,
    ) -> Any:
        """Call ``method`` and return the envelope's ``result`` (None if absent).

        Raises :class:`ZaloApiError` subclasses for ``ok: false`` / error responses and
        :class:`ZaloNetworkError` / :class:`ZaloTimeout` for transport failures.
        """
        payload = {key: value for key, value in (params or {}).items() if value is not None}
        url = f"{self._base_url}/bot{self._token}/{method}"
        try:
            response = await self._http.post(
                url,
                json=payload,
                timeout=httpx.USE_CLIENT_DEFAULT if http_timeout is None else http_timeout,
            )
        except httpx.TimeoutException as exc:
            sent = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            raise ZaloTimeout(method, type(exc).__name__, request_sent=sent) from exc
        except httpx.HTTPError as exc:
            sent = not isinstance(exc, httpx.ConnectError | httpx.UnsupportedProtocol)
            detail = self._redact(f"{type(exc).__name__}: {exc}")
            raise ZaloNetworkError(method, detail, request_sent=sent) from exc
        return self._result(method, response)

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "<token>")

    def _result(self, method: str, response: httpx.Response) -> Any:
        status = response.status_code
        try:
            data = json.loads(response.content)
        except ValueError:
            data = None
        if isinstance(data, Mapping) and ("ok" in data or "error_code" in data):
            if data.get("ok") is True:
                return data.get("result")
            code = data.get("error_code")
            if isinstance(code, str) and code.strip().isdigit():
                code = int(code)
            if not isinstance(code, int) or isinstance(code, bool):
                code = status if status >= 400 else 0
            description = _as_str(data.get("description")) or response.reason_phrase
            raise _make_error(
                code,
                self._redact(description or "unknown error"),
                method=method,
                http_status=status,
                retry_after=_retry_after(data, response),
            )
        if 200 <= status < 300:
            raise ZaloServerError(
                status,
                "malformed response (not a Zalo envelope)",
                method=method,
                http_status=status,
            )
        raise _make_error(
            status,
            f"HTTP {status} {response.reason_phrase}".strip(),
            method=method,
            http_status=status,
            retry_after=_retry_after(None, response),
        )

    # ----------------------------------------------------------------- API methods

    async def get_me(self) -> ZaloBotInfo:
        return _parse_bot_info(await self.call("getMe"))

    async def get_update(self, timeout: int = 30) -> ZaloUpdate | None:  # noqa: ASYNC109 (SDK name; Zalo poll seconds)
        """Long-poll for **one** update; None when none arrived within ``timeout`` s.

        Zalo removes the update from its queue once it has been returned, so the
        caller must store it before doing anything that could fail. If a response
        ever carries a list, the first update is returned and the others are handed
        out by the next calls without a request.
        """
        if self._pending:
            return self._pending.popleft()
        read_timeout = httpx.Timeout(self._timeout, read=timeout + POLL_READ_MARGIN)
        try:
            result = await self.call(
                "getUpdates", {"timeout": str(timeout)}, http_timeout=read_timeout
            )
        except ZaloApiError as exc:
            if exc.error_code == 408:
                return None
            raise
        items = result if isinstance(result, list) else [result]
        updates = [u for u in map(_update_from_object, items) if u is not None]
        if not updates:
            return None
        self._pending.extend(updates[1:])
        return updates[0]

    async def send_message(self, chat_id: str, text: str) -> ZaloSentMessage:
        """Send one text message (one request; split long texts with :func:`split_text`)."""
        result = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
        return _parse_sent(result)

    async def send_photo(
        self, chat_id: str, *, photo: str, caption: str | None = None
    ) -> ZaloSentMessage:
        """Send a photo by **public http(s) URL** (Zalo downloads it; no uploads).

        Keyword-only to avoid the SDK's ``(chat_id, caption, photo)`` positional trap.
        """
        read_timeout = httpx.Timeout(self._timeout, read=self._photo_timeout)
        result = await self.call(
            "sendPhoto",
            {"chat_id": chat_id, "photo": photo, "caption": caption},
            http_timeout=read_timeout,
        )
        return _parse_sent(result)

    async def send_sticker(self, chat_id: str, sticker: str) -> ZaloSentMessage:
        result = await self.call("sendSticker", {"chat_id": chat_id, "sticker": sticker})
        return _parse_sent(result)

    async def send_chat_action(self, chat_id: str, action: str = CHAT_ACTION_TYPING) -> bool:
        """Show e.g. "typing". Zalo answers ``{"ok": true}`` without a result."""
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})
        return True

    async def set_webhook(self, url: str, secret_token: str) -> ZaloWebhookInfo:
        """Register ``url``; Zalo then POSTs updates there with the
        ``X-Bot-Api-Secret-Token`` header (8-256 chars). Polling stops working."""
        if not 8 <= len(secret_token) <= 256:
            raise ValueError("secret_token must be 8-256 characters")
        result = await self.call("setWebhook", {"url": url, "secret_token": secret_token})
        return _parse_webhook_info(result, default_url=url)

    async def delete_webhook(self) -> bool:
        """Remove the webhook (succeeds when none is set). The result is ``true`` in the
        docs' prose and ``{"url": "", "updated_at": ...}`` in their sample; both work."""
        await self.call("deleteWebhook")
        return True

    async def get_webhook_info(self) -> ZaloWebhookInfo:
        """Current webhook URL (``""`` when none); the secret is never returned."""
        return _parse_webhook_info(await self.call("getWebhookInfo"))


def _retry_after(data: Mapping[str, Any] | None, response: httpx.Response) -> float | None:
    candidates: list[object] = []
    if data is not None:
        candidates.append(_as_mapping(data.get("parameters")).get("retry_after"))
        candidates.append(data.get("retry_after"))
    candidates.append(response.headers.get("Retry-After"))
    for value in candidates:
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            return float(value) if value >= 0 else None
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                continue
            return number if number >= 0 else None
    return None
