"""Unit tests of the Zalo Bot API client against recorded payload shapes
(shared/api/zalo-bot-api.md §7), served by httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.channels.zalo_client import (
    ZaloApiError,
    ZaloBadRequest,
    ZaloConflict,
    ZaloForbidden,
    ZaloNetworkError,
    ZaloNotFound,
    ZaloRateLimited,
    ZaloServerError,
    ZaloTimeout,
    ZaloUnauthorized,
    parse_update,
    secret_matches,
    split_text,
    utf16_len,
)
from bot.channels.zalo_client import (
    ZaloBotClient as Client,
)

TOKEN = "12345689:abc-xyz"

# --- payloads as recorded in zalo-bot-api.md §7 -------------------------------------

TEXT_UPDATE_WRAPPED: dict[str, Any] = {
    "ok": True,
    "result": {
        "event_name": "message.text.received",
        "message": {
            "message_id": "2d758cb5e222177a4e35",
            "date": 1750316131602,
            "from": {"id": "6ede9afa66b88fe6d6a9", "display_name": "Ted", "is_bot": False},
            "chat": {"id": "6ede9afa66b88fe6d6a9", "chat_type": "PRIVATE"},
            "text": "Xin chào",
        },
    },
}

IMAGE_UPDATE_UNWRAPPED: dict[str, Any] = {
    "event_name": "message.image.received",
    "message": {
        "message_id": "m1a2b3c4d5e6f7081920",
        "date": 1789033572455,
        "message_type": "CHAT_PHOTO",
        "from": {"id": "a1b2c3d4e5f60718293a", "display_name": "Lan", "is_bot": False},
        "chat": {"id": "a1b2c3d4e5f60718293a", "chat_type": "PRIVATE"},
        "photo_url": "https://photo-stal-1.zdn.vn/.../abc.jpg",
        "caption": "ai đây",
    },
}

SEND_MESSAGE_OK = {
    "ok": True,
    "result": {"message_id": "82599fa32f56d00e8941", "date": 1749632637199},
}
POLL_TIMEOUT = {"ok": False, "error_code": 408, "description": "Request timeout"}
UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}
GET_ME_OK = {
    "ok": True,
    "result": {
        "id": "1459232241454765289",
        "account_name": "bot.VDKyGxQvc",
        "account_type": "BASIC",
        "can_join_groups": False,
    },
}


class Recorder:
    """MockTransport handler answering queued (status, body) pairs; records requests."""

    def __init__(self, *responses: tuple[int, Any]) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body = self.responses.pop(0)
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers={"content-type": "text/html"})
        if isinstance(body, httpx.Response):
            return body
        return httpx.Response(status, json=body)

    def body(self, index: int = -1) -> dict[str, Any]:
        data = json.loads(self.requests[index].content)
        assert isinstance(data, dict)
        return data


def make_client(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> Client:
    return Client(TOKEN, transport=httpx.MockTransport(handler), **kw)


# --- requests -------------------------------------------------------------------------


async def test_send_message_posts_json_to_token_url_and_parses_result():
    rec = Recorder((200, SEND_MESSAGE_OK))
    async with make_client(rec) as client:
        sent = await client.send_message("6ede9afa66b88fe6d6a9", "Hello")
    request = rec.requests[0]
    assert request.method == "POST"
    assert str(request.url) == f"https://bot-api.zaloplatforms.com/bot{TOKEN}/sendMessage"
    assert request.headers["content-type"] == "application/json"
    assert rec.body() == {"chat_id": "6ede9afa66b88fe6d6a9", "text": "Hello"}
    assert sent.message_id == "82599fa32f56d00e8941"
    assert sent.date == datetime.fromtimestamp(1749632637.199, tz=UTC)


async def test_base_url_configurable_and_none_params_dropped():
    rec = Recorder((200, SEND_MESSAGE_OK))
    async with make_client(rec, base_url="https://bot-api.zapps.me/") as client:
        await client.send_photo("c1", photo="https://example.org/a.jpg")
    assert str(rec.requests[0].url) == f"https://bot-api.zapps.me/bot{TOKEN}/sendPhoto"
    assert rec.body() == {"chat_id": "c1", "photo": "https://example.org/a.jpg"}


async def test_repr_hides_token():
    client = make_client(Recorder())
    assert "abc-xyz" not in repr(client)
    await client.close()


async def test_get_me():
    rec = Recorder((200, GET_ME_OK))
    async with make_client(rec) as client:
        me = await client.get_me()
    assert me.id == "1459232241454765289"
    assert me.account_name == "bot.VDKyGxQvc"
    assert me.account_type == "BASIC"
    assert me.can_join_groups is False
    assert me.display_name is None
    assert rec.body() == {}


# --- envelope and errors -----------------------------------------------------------------


async def test_ok_false_with_http_200_raises():
    rec = Recorder((200, {"ok": False, "error_code": 400, "description": "chat_id is invalid"}))
    async with make_client(rec) as client:
        with pytest.raises(ZaloBadRequest) as info:
            await client.send_message("x", "hi")
    assert info.value.error_code == 400
    assert info.value.http_status == 200
    assert info.value.description == "chat_id is invalid"
    assert info.value.method == "sendMessage"


@pytest.mark.parametrize(
    ("status", "body", "error_type", "code"),
    [
        (401, UNAUTHORIZED, ZaloUnauthorized, 401),
        (403, {"ok": False, "error_code": 403, "description": "Forbidden"}, ZaloForbidden, 403),
        (404, {"ok": False, "error_code": 404, "description": "Not found"}, ZaloNotFound, 404),
        (409, {"ok": False, "error_code": 409, "description": "Conflict"}, ZaloConflict, 409),
        (
            429,
            {"ok": False, "error_code": 429, "description": "Quota exceeded"},
            ZaloRateLimited,
            429,
        ),
        (500, {"ok": False, "error_code": 500, "description": "oops"}, ZaloServerError, 500),
        (
            200,
            {"ok": False, "error_code": 408, "description": "Request timeout"},
            ZaloServerError,
            408,
        ),
        (502, b"<html><body>502 Bad Gateway</body></html>", ZaloServerError, 502),
        (429, b"Too Many Requests", ZaloRateLimited, 429),
        (401, b"", ZaloUnauthorized, 401),
        (200, b"<html>captive portal</html>", ZaloServerError, 200),
        (200, {"unexpected": True}, ZaloServerError, 200),
        (503, {"ok": False, "description": "no code"}, ZaloServerError, 503),
    ],
)
async def test_errors_are_typed(status, body, error_type, code):
    rec = Recorder((status, body))
    async with make_client(rec) as client:
        with pytest.raises(error_type) as info:
            await client.send_message("c", "hi")
    assert isinstance(info.value, ZaloApiError)
    assert info.value.error_code == code
    assert info.value.http_status == status
    assert TOKEN not in str(info.value)


async def test_rate_limited_retry_after_from_parameters_or_header():
    body = {"ok": False, "error_code": 429, "description": "x", "parameters": {"retry_after": 7}}
    with_header = httpx.Response(
        429,
        json={"ok": False, "error_code": 429, "description": "x"},
        headers={"Retry-After": "3"},
    )
    rec = Recorder(
        (429, body), (0, with_header), (200, {"ok": False, "error_code": 429, "description": "x"})
    )
    async with make_client(rec) as client:
        retry_afters = []
        for _ in range(3):
            with pytest.raises(ZaloRateLimited) as info:
                await client.send_message("c", "hi")
            retry_afters.append(info.value.retry_after)
    assert retry_afters == [7.0, 3.0, None]


async def test_read_timeout_raises_zalo_timeout_with_request_sent():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with make_client(handler) as client:
        with pytest.raises(ZaloTimeout) as info:
            await client.send_message("c", "hi")
    assert info.value.request_sent is True
    assert isinstance(info.value, ZaloNetworkError)


async def test_connect_errors_are_network_errors_not_sent():
    def connect_timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    def connect_error(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    async with make_client(connect_timeout) as client:
        with pytest.raises(ZaloTimeout) as timeout_info:
            await client.get_me()
    async with make_client(connect_error) as client:
        with pytest.raises(ZaloNetworkError) as error_info:
            await client.get_me()
    assert timeout_info.value.request_sent is False
    assert not isinstance(error_info.value, ZaloTimeout)
    assert error_info.value.request_sent is False
    assert TOKEN not in str(error_info.value)  # the URL in the message is redacted


# --- getUpdates --------------------------------------------------------------------------


async def test_get_update_single_object_then_408_is_none():
    rec = Recorder((200, TEXT_UPDATE_WRAPPED), (200, POLL_TIMEOUT))
    async with make_client(rec) as client:
        update = await client.get_update(timeout=25)
        nothing = await client.get_update(timeout=25)
    assert rec.body(0) == {"timeout": "25"}
    assert update is not None
    assert update.event_name == "message.text.received"
    msg = update.message
    assert msg is not None
    assert msg.message_id == "2d758cb5e222177a4e35"
    assert msg.date == datetime(2025, 6, 19, 6, 55, 31, 602000, tzinfo=UTC)
    assert msg.chat_id == msg.sender_id == "6ede9afa66b88fe6d6a9"
    assert msg.chat_type == "PRIVATE"
    assert msg.sender_name == "Ted"
    assert msg.is_bot is False
    assert msg.text == "Xin chào"
    assert msg.photo_url is None
    assert update.raw == TEXT_UPDATE_WRAPPED["result"]
    assert nothing is None


async def test_get_update_408_with_non_200_status_is_also_none():
    rec = Recorder((408, POLL_TIMEOUT))
    async with make_client(rec) as client:
        assert await client.get_update(timeout=1) is None


async def test_get_update_read_timeout_is_longer_than_poll():
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json=POLL_TIMEOUT)

    async with make_client(handler, timeout=5.0) as client:
        await client.get_update(timeout=30)
    assert seen[0]["read"] == 40.0
    assert seen[0]["connect"] == 5.0


async def test_get_update_list_returns_first_and_queues_rest():
    second = {**IMAGE_UPDATE_UNWRAPPED}
    rec = Recorder((200, {"ok": True, "result": [TEXT_UPDATE_WRAPPED["result"], second]}))
    async with make_client(rec) as client:
        first = await client.get_update(timeout=1)
        assert client.pending_updates == 1
        queued = await client.get_update(timeout=1)
        assert client.pending_updates == 0
    assert len(rec.requests) == 1  # the second update came from the client's queue
    assert first is not None and first.event_name == "message.text.received"
    assert queued is not None and queued.event_name == "message.image.received"


async def test_get_update_empty_list_or_empty_result_is_none():
    rec = Recorder((200, {"ok": True, "result": []}), (200, {"ok": True, "result": {}}))
    async with make_client(rec) as client:
        assert await client.get_update(timeout=1) is None
        assert await client.get_update(timeout=1) is None


async def test_get_update_other_errors_raise():
    rec = Recorder((401, UNAUTHORIZED))
    async with make_client(rec) as client:
        with pytest.raises(ZaloUnauthorized):
            await client.get_update(timeout=1)


# --- other methods -------------------------------------------------------------------------


async def test_send_chat_action_without_result():
    rec = Recorder((200, {"ok": True}))
    async with make_client(rec) as client:
        assert await client.send_chat_action("c") is True
    assert rec.body() == {"chat_id": "c", "action": "typing"}


async def test_send_sticker():
    rec = Recorder((200, SEND_MESSAGE_OK))
    async with make_client(rec) as client:
        sent = await client.send_sticker("c", "0e078a2fb66a5f34067b")
    assert rec.body() == {"chat_id": "c", "sticker": "0e078a2fb66a5f34067b"}
    assert sent.message_id == "82599fa32f56d00e8941"


async def test_send_message_ok_without_result_is_tolerated():
    rec = Recorder((200, {"ok": True}))
    async with make_client(rec) as client:
        sent = await client.send_message("c", "hi")
    assert sent.message_id == ""
    assert sent.date is None


@pytest.mark.parametrize(
    "result", [True, {"url": "", "updated_at": 1749632637199}, None], ids=["true", "obj", "none"]
)
async def test_delete_webhook_accepts_true_or_object(result):
    body = {"ok": True} if result is None else {"ok": True, "result": result}
    rec = Recorder((200, body))
    async with make_client(rec) as client:
        assert await client.delete_webhook() is True


async def test_set_and_get_webhook():
    rec = Recorder(
        (200, {"ok": True, "result": {"url": "https://x.vn/hook", "updated_at": 1749632637199}}),
        (200, {"ok": True, "result": {"url": "https://x.vn/hook", "updated_at": 1749632637199}}),
        (200, {"ok": True, "result": True}),
    )
    async with make_client(rec) as client:
        info = await client.set_webhook("https://x.vn/hook", "s3cret-token")
        assert rec.body() == {"url": "https://x.vn/hook", "secret_token": "s3cret-token"}
        again = await client.get_webhook_info()
        legacy = await client.set_webhook("https://y.vn/hook", "s3cret-token")
        with pytest.raises(ValueError):
            await client.set_webhook("https://x.vn/hook", "short")
    assert info.url == again.url == "https://x.vn/hook"
    assert info.updated_at == datetime.fromtimestamp(1749632637.199, tz=UTC)
    assert legacy.url == "https://y.vn/hook"
    assert legacy.updated_at is None


# --- update parsing ------------------------------------------------------------------------


def test_parse_update_wrapped_and_unwrapped_are_equal():
    wrapped = parse_update(TEXT_UPDATE_WRAPPED)
    unwrapped = parse_update(TEXT_UPDATE_WRAPPED["result"])
    assert wrapped is not None
    assert wrapped == unwrapped


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"ok": True},
        {"ok": True, "result": None},
        {"ok": False, "error_code": 408},
        {"foo": 1},
    ],
)
def test_parse_update_empty_or_probe_is_none(body):
    assert parse_update(body) is None


def test_parse_update_image_photo_url_and_photo():
    real = parse_update(IMAGE_UPDATE_UNWRAPPED)
    docs_message = dict(IMAGE_UPDATE_UNWRAPPED["message"])
    docs_message["photo"] = docs_message.pop("photo_url")
    docs = parse_update({"ok": True, "result": {**IMAGE_UPDATE_UNWRAPPED, "message": docs_message}})
    for update in (real, docs):
        assert update is not None and update.message is not None
        assert update.message.photo_url == "https://photo-stal-1.zdn.vn/.../abc.jpg"
        assert update.message.caption == "ai đây"
        assert update.message.message_type == "CHAT_PHOTO"
        assert update.message.text is None


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ({"id": "u", "display_name": "Ted", "name": "N", "first_name": "F"}, "Ted"),
        ({"id": "u", "name": "Nam"}, "Nam"),
        ({"id": "u", "first_name": "Phúc"}, "Phúc"),
        ({"id": "u", "display_name": "", "name": "Nam"}, "Nam"),
        ({"id": "u"}, None),
    ],
)
def test_sender_name_fallbacks(sender, expected):
    update = parse_update(
        {"event_name": "message.text.received", "message": {"from": sender, "text": "a"}}
    )
    assert update is not None and update.message is not None
    assert update.message.sender_name == expected
    assert update.message.chat_id == "u"  # no chat object: falls back to the sender


def test_unsupported_event_has_no_content():
    update = parse_update(
        {
            "event_name": "message.unsupported.received",
            "message": {
                "message_id": "abc",
                "date": 1750316131602,
                "from": {"id": "u1", "display_name": "Lan", "is_bot": False},
                "chat": {"id": "u1", "chat_type": "PRIVATE"},
            },
        }
    )
    assert update is not None and update.message is not None
    m = update.message
    assert (m.text, m.photo_url, m.caption, m.sticker) == (None, None, None, None)


def test_sticker_and_message_without_ids():
    sticker = parse_update(
        {
            "event_name": "message.sticker.received",
            "message": {"chat": {"id": "g1", "chat_type": "GROUP"}, "sticker": "0e07", "url": "u"},
        }
    )
    assert sticker is not None and sticker.message is not None
    assert sticker.message.sticker == "0e07"
    assert sticker.message.chat_type == "GROUP"
    assert sticker.message.date is None
    no_ids = parse_update({"event_name": "message.text.received", "message": {"text": "x"}})
    assert no_ids is not None and no_ids.message is None


def test_dates_in_seconds_are_tolerated():
    update = parse_update({"event_name": "e", "message": {"from": {"id": "u"}, "date": 1750316131}})
    assert update is not None and update.message is not None
    assert update.message.date == datetime.fromtimestamp(1750316131, tz=UTC)


def test_secret_matches():
    assert secret_matches("s3cret-token", "s3cret-token")
    assert not secret_matches("s3cret-tokeN", "s3cret-token")
    assert not secret_matches(None, "s3cret-token")
    assert not secret_matches("", "")


# --- split_text ------------------------------------------------------------------------------


def test_split_short_text_unchanged_and_blank_is_empty():
    assert split_text("Xin chào") == ["Xin chào"]
    assert split_text("x" * 2000) == ["x" * 2000]
    assert split_text("") == []
    assert split_text(" \n ") == []


def test_split_3000_chars_at_line_boundary():
    first = "Điều 1. " + "a" * 1400
    second = "Điều 2. " + "b" * 1590
    text = f"{first}\n{second}"
    assert len(text) > 3000 - 10
    assert split_text(text) == [first, second]


def test_split_3000_chars_at_sentence_boundary():
    sentence = "Ủy ban nhân dân xã đã tiếp nhận phản ánh của bà con. "  # 53 chars
    text = (sentence * 57).strip()  # ~3000 chars, one line
    parts = split_text(text)
    assert len(parts) == 2
    assert all(utf16_len(p) <= 2000 for p in parts)
    assert parts[0].endswith("bà con.")
    assert " ".join(parts) == text


def test_split_prefers_line_over_sentence_and_sentence_over_space():
    lines = ("Câu một. Câu hai " * 40 + "\n") * 5
    for part in split_text(lines, limit=1000):
        assert part.endswith("Câu hai")
    words = "một hai ba " * 100
    for part in split_text(words, limit=100)[:-1]:
        assert part.endswith(("một", "hai", "ba"))


def test_split_long_text_without_spaces_is_hard_cut():
    text = "x" * 4500
    parts = split_text(text)
    assert [len(p) for p in parts] == [2000, 2000, 500]
    assert "".join(parts) == text


def test_split_counts_utf16_for_emoji():
    text = "😀" * 1500  # 1500 code points, 3000 UTF-16 units
    parts = split_text(text)
    assert [utf16_len(p) for p in parts] == [2000, 1000]
    assert "".join(parts) == text
    edge = "a" * 1999 + "😀b"  # the emoji would straddle the limit
    assert split_text(edge) == ["a" * 1999, "😀b"]


def test_split_does_not_separate_combining_marks():
    text = "x" + "e\u0301" * 1500  # decomposed é; the limit falls before a U+0301
    parts = split_text(text)
    assert all(utf16_len(p) <= 2000 for p in parts)
    assert all(not p.startswith("\u0301") for p in parts)
    assert "".join(parts) == text


def test_split_never_gives_empty_parts():
    text = "\n\n".join(["đoạn " * 50] * 30) + "\n\n\n   \n"
    parts = split_text(text, limit=300)
    assert parts
    assert all(p.strip() for p in parts)
    assert all(utf16_len(p) <= 300 for p in parts)


def test_split_limit_validation():
    with pytest.raises(ValueError):
        split_text("abc", limit=1)
