"""The Zalo client against the running FakeZaloServer (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.channels.zalo_client import (
    WEBHOOK_SECRET_HEADER,
    ZaloBadRequest,
    ZaloBotClient,
    ZaloConflict,
    ZaloForbidden,
    ZaloNetworkError,
    ZaloRateLimited,
    ZaloServerError,
    ZaloTimeout,
    ZaloUnauthorized,
    parse_update,
    secret_matches,
)
from tests.fakes.zalo_server import FakeZaloServer, serve_asgi

JPEG = b"\xff\xd8\xff\xe0fake-jpeg-bytes\xff\xd9"
SECRET = "webhook-secret-123"


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer() as server:
        yield server


@pytest.fixture
async def client(zalo: FakeZaloServer) -> AsyncIterator[ZaloBotClient]:
    async with ZaloBotClient(zalo.token, base_url=zalo.base_url, timeout=3.0) as c:
        yield c


async def test_get_me(client: ZaloBotClient, zalo: FakeZaloServer):
    me = await client.get_me()
    assert me.id == "1234567890"
    assert me.account_type == "BASIC"
    assert zalo.calls["getMe"] == 1


async def test_wrong_token_is_unauthorized(zalo: FakeZaloServer):
    async with ZaloBotClient("1:wrong", base_url=zalo.base_url) as bad:
        with pytest.raises(ZaloUnauthorized) as info:
            await bad.get_me()
    assert info.value.http_status == 401


async def test_long_poll_one_update_per_call_then_408_none(
    client: ZaloBotClient, zalo: FakeZaloServer
):
    first_id = zalo.add_text("u1", "Xin chào", display_name="Ted")
    second_id = zalo.add_text("u2", "Cho hỏi")
    assert len(first_id) == 20 and int(first_id, 16) >= 0

    first = await client.get_update(timeout=1)
    assert zalo.pending_updates == 1  # one per call; handed-out updates leave the queue
    second = await client.get_update(timeout=1)
    assert first is not None and first.message is not None
    assert first.event_name == "message.text.received"
    assert (first.message.message_id, first.message.text) == (first_id, "Xin chào")
    assert first.message.sender_name == "Ted"
    assert first.message.chat_id == "u1"
    assert second is not None and second.message is not None
    assert second.message.message_id == second_id

    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await client.get_update(timeout=1) is None
    assert 0.8 <= loop.time() - started < 3


async def test_long_poll_wakes_when_update_arrives(client: ZaloBotClient, zalo: FakeZaloServer):
    poll = asyncio.create_task(client.get_update(timeout=5))
    await zalo.wait_for_calls("getUpdates", timeout=3)  # the poll is now waiting
    zalo.add_sticker("u1")
    update = await asyncio.wait_for(poll, 3)
    assert update is not None and update.message is not None
    assert update.event_name == "message.sticker.received"
    assert update.message.sticker


async def test_image_and_unsupported_updates(client: ZaloBotClient, zalo: FakeZaloServer):
    zalo.add_image("u1", JPEG, caption="ổ gà đường thôn 3")
    zalo.add_unsupported("u2")
    image = await client.get_update(timeout=1)
    unsupported = await client.get_update(timeout=1)
    assert image is not None and image.message is not None
    assert image.message.caption == "ổ gà đường thôn 3"
    assert image.message.message_type == "CHAT_PHOTO"
    assert image.message.photo_url is not None
    async with httpx.AsyncClient(trust_env=False) as http:
        assert (await http.get(image.message.photo_url)).content == JPEG
        zalo.expire_media()
        assert (await http.get(image.message.photo_url)).status_code == 404
    assert unsupported is not None and unsupported.message is not None
    assert unsupported.event_name == "message.unsupported.received"
    assert unsupported.message.text is None and unsupported.message.photo_url is None


async def test_docs_style_fields():
    async with FakeZaloServer(image_field="photo", name_field="name") as zalo:
        client = ZaloBotClient(zalo.token, base_url=zalo.base_url)
        try:
            zalo.add_image("u1", JPEG, display_name="Nam")
            update = await client.get_update(timeout=1)
        finally:
            await client.close()
    assert update is not None and update.message is not None
    assert "photo" in update.message.raw and "photo_url" not in update.message.raw
    assert update.message.photo_url is not None
    assert update.message.sender_name == "Nam"


async def test_send_message_and_validation(client: ZaloBotClient, zalo: FakeZaloServer):
    sent = await client.send_message("u1", "Đã nhận phản ánh 😀")
    [record] = await zalo.wait_for(chat_id="u1")
    assert record.method == "sendMessage"
    assert record.text == "Đã nhận phản ánh 😀"
    assert record.message_id == sent.message_id
    assert sent.date is not None

    with pytest.raises(ZaloBadRequest):
        await client.send_message("u1", "😀" * 1001)  # 2002 UTF-16 units
    with pytest.raises(ZaloBadRequest):
        await client.send_message("u1", "")
    assert len(zalo.rejected) == 2
    assert zalo.texts() == ["Đã nhận phản ánh 😀"]


async def test_send_photo_fetches_public_link(client: ZaloBotClient, zalo: FakeZaloServer):
    url = zalo.add_media(JPEG)
    await client.send_photo("u1", photo=url, caption="Ảnh hiện trường")
    [record] = await zalo.wait_for(lambda s: s.method == "sendPhoto")
    assert record.photo_url == url
    assert record.fetched_status == 200
    assert record.fetched_photo == JPEG
    assert record.fetched_content_type == "image/jpeg"
    assert record.text == "Ảnh hiện trường"

    zalo.expire_media()
    with pytest.raises(ZaloBadRequest):
        await client.send_photo("u1", photo=url)
    assert zalo.rejected[-1].fetched_status == 404
    with pytest.raises(ZaloBadRequest):
        await client.send_photo("u1", photo="data:image/jpeg;base64,AAAA")
    assert len(zalo.sent) == 1


async def test_send_sticker_and_chat_action(client: ZaloBotClient, zalo: FakeZaloServer):
    assert await client.send_chat_action("u1") is True
    await client.send_sticker("u1", "0e078a2fb66a5f34067b")
    assert [a.method for a in zalo.actions] == ["sendChatAction"]
    assert [s.method for s in zalo.sent] == ["sendSticker"]


async def test_error_injection(client: ZaloBotClient, zalo: FakeZaloServer):
    zalo.fail("sendMessage", error_code=429)
    zalo.fail("sendMessage", error_code=500, description="boom")
    zalo.fail("getUpdates", error_code=408, http_status=200)
    with pytest.raises(ZaloRateLimited):
        await client.send_message("u1", "a")
    with pytest.raises(ZaloServerError) as info:
        await client.send_message("u1", "a")
    assert info.value.description == "boom"
    await client.send_message("u1", "a")  # injected failures are used up
    zalo.add_text("u1", "queued")
    assert await client.get_update(timeout=1) is None  # injected 408
    assert await client.get_update(timeout=1) is not None
    assert [r.error for r in zalo.rejected] == ["Quota exceeded", "boom"]
    assert zalo.calls["sendMessage"] == 3


async def test_delay_causes_client_timeout(zalo: FakeZaloServer):
    zalo.delay("sendMessage", 1.0)
    async with ZaloBotClient(zalo.token, base_url=zalo.base_url, timeout=0.3) as client:
        with pytest.raises(ZaloTimeout) as info:
            await client.send_message("u1", "maybe delivered")
    assert info.value.request_sent is True
    # Like a real server, the fake still processes the call after the delay.
    [record] = await zalo.wait_for(chat_id="u1", timeout=5)
    assert record.text == "maybe delivered"


async def test_wait_for_reports_what_was_sent(client: ZaloBotClient, zalo: FakeZaloServer):
    await client.send_message("u1", "hello")
    with pytest.raises(AssertionError, match="sendMessage chat='u1': 'hello'"):
        await zalo.wait_for(chat_id="u2", timeout=0.2)


async def test_form_and_query_parameters_are_accepted(zalo: FakeZaloServer):
    async with httpx.AsyncClient(base_url=zalo.base_url, trust_env=False) as http:
        form = await http.post(f"/bot{zalo.token}/sendMessage", data={"chat_id": "u1", "text": "f"})
        query = await http.get(
            f"/bot{zalo.token}/sendMessage", params={"chat_id": "u2", "text": "q"}
        )
        unknown = await http.post(f"/bot{zalo.token}/editMessageText", json={})
    assert form.json()["ok"] is True and query.json()["ok"] is True
    assert unknown.status_code == 400 and unknown.json()["ok"] is False
    assert zalo.texts() == ["f", "q"]


# --- webhooks ---------------------------------------------------------------------------


class Receiver:
    """A tiny webhook endpoint that checks the secret and records the bodies."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.secrets: list[str | None] = []
        self.app = Starlette(routes=[Route("/zalo/webhook", self.handle, methods=["POST"])])

    async def handle(self, request: Request) -> JSONResponse:
        secret = request.headers.get(WEBHOOK_SECRET_HEADER)
        self.secrets.append(secret)
        if not secret_matches(secret, SECRET):
            return JSONResponse({"message": "Unauthorized"}, status_code=403)
        raw = await request.body()
        self.bodies.append(await request.json() if raw else {})
        return JSONResponse({"message": "Success"})


@pytest.mark.parametrize("style", ["wrapped", "unwrapped"])
async def test_webhook_delivery(client: ZaloBotClient, zalo: FakeZaloServer, style: str):
    receiver = Receiver()
    zalo.webhook_body_style = style  # type: ignore[assignment]
    queued_id = zalo.add_text("u1", "sent before the webhook")
    async with serve_asgi(receiver.app) as receiver_url:
        url = f"{receiver_url}/zalo/webhook"
        info = await client.set_webhook(url, SECRET)
        assert info.url == url and info.updated_at is not None
        current = await client.get_webhook_info()
        assert current.url == url
        with pytest.raises(ZaloConflict):
            await client.get_update(timeout=1)

        image_id = zalo.add_image("u1", JPEG)
        deliveries = await zalo.wait_for_deliveries(2)
        assert [d.status for d in deliveries] == [200, 200]
        assert receiver.secrets == [SECRET, SECRET]
        assert all("result" in b for b in receiver.bodies) == (style == "wrapped")
        updates = [parse_update(b) for b in receiver.bodies]
        assert [u.message.message_id for u in updates if u and u.message] == [queued_id, image_id]

        assert await client.delete_webhook() is True
        assert (await client.get_webhook_info()).url == ""
        zalo.add_text("u1", "polling again")
        update = await client.get_update(timeout=1)
        assert update is not None and update.message is not None
        assert update.message.text == "polling again"
        assert len(zalo.webhook_deliveries) == 2


async def test_webhook_wrong_secret_is_recorded(client: ZaloBotClient, zalo: FakeZaloServer):
    receiver = Receiver()
    async with serve_asgi(receiver.app) as receiver_url:
        await client.set_webhook(f"{receiver_url}/zalo/webhook", "another-secret")
        zalo.add_raw({})  # an empty probe body
        [delivery] = await zalo.wait_for_deliveries(1)
    assert delivery.status == 403
    assert delivery.body == {}
    assert receiver.bodies == []


async def test_set_webhook_validation(client: ZaloBotClient):
    with pytest.raises(ZaloBadRequest):
        await client.set_webhook("ftp://127.0.0.1/hook", SECRET)


async def test_stop_ends_pending_poll_and_later_calls_fail_to_connect():
    zalo = FakeZaloServer()
    await zalo.start()
    async with ZaloBotClient(zalo.token, base_url=zalo.base_url, timeout=2.0) as client:
        poll = asyncio.create_task(client.get_update(timeout=30))
        await zalo.wait_for_calls("getUpdates", timeout=3)
        await asyncio.wait_for(zalo.stop(), 5)
        assert await asyncio.wait_for(poll, 3) is None  # answered 408 at shutdown
        with pytest.raises(ZaloNetworkError) as info:
            await client.get_me()
    assert info.value.request_sent is False


async def test_failures_repeat_times(client: ZaloBotClient, zalo: FakeZaloServer):
    zalo.fail("sendChatAction", error_code=403, times=2)
    for _ in range(2):
        with pytest.raises(ZaloForbidden):
            await client.send_chat_action("u1")
    assert await client.send_chat_action("u1") is True
    assert zalo.calls["sendChatAction"] == 3
