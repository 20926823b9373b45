"""The Zalo adapter: update → common message, photo downloads, the sender's rendering and
error mapping, and the poll loop (against FakeZaloServer, real HTTP on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.channels.zalo import (
    FORBIDDEN_STRIKES,
    PhotoDownloader,
    ZaloChannel,
    ZaloSender,
    photos_note,
    to_incoming,
)
from bot.channels.zalo_client import ZaloBotClient, parse_update
from bot.clock import FakeClock
from bot.dispatcher import OutboundFile, Rejected, RetryLater, Unreachable
from bot.links import LinkSigner
from bot.messages import AttachmentKind, Channel, IncomingAttachment, IncomingMessage, Option
from bot.messages import OutgoingMessage as Out
from tests.fakes.images import jpeg_bytes
from tests.fakes.zalo_server import FakeZaloServer

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def update(event: str, **message: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "message_id": "2d758cb5e222177a4e35",
        "date": 1750316131602,
        "from": {"id": "6ede9afa66b88fe6d6a9", "display_name": "Ted", "is_bot": False},
        "chat": {"id": "6ede9afa66b88fe6d6a9", "chat_type": "PRIVATE"},
    }
    base.update(message)
    return {"event_name": event, "message": base}


def incoming(body: dict[str, Any]) -> IncomingMessage:
    parsed = parse_update(body)
    assert parsed is not None
    result = to_incoming(parsed, now=NOW)
    assert result is not None
    return result


# ----------------------------------------------------------------------------- conversion


def test_text_message():
    msg = incoming({"ok": True, "result": update("message.text.received", text="Xin chào")})
    assert msg.channel is Channel.ZALO
    assert msg.user_id == msg.chat_id == "6ede9afa66b88fe6d6a9"
    assert msg.text == "Xin chào"
    assert msg.display_name == "Ted"
    assert msg.attachments == ()
    assert msg.dedupe_key == msg.message_id == "2d758cb5e222177a4e35"
    assert msg.sent_at == datetime.fromtimestamp(1750316131.602, tz=UTC)


@pytest.mark.parametrize("field", ["photo_url", "photo"])
def test_image_with_caption(field: str):
    msg = incoming(
        update(
            "message.image.received",
            **{field: "https://photo-stal-1.zdn.vn/x/abc.jpg", "caption": "ổ gà"},
        )
    )
    assert msg.text == "ổ gà"
    [photo] = msg.attachments
    assert photo.kind is AttachmentKind.PHOTO
    assert photo.ref == "https://photo-stal-1.zdn.vn/x/abc.jpg"


@pytest.mark.parametrize(
    ("event", "extra", "kind"),
    [
        ("message.sticker.received", {"sticker": "0e078a2fb66a5f34067b"}, AttachmentKind.STICKER),
        ("message.unsupported.received", {}, AttachmentKind.OTHER),
        ("message.voice.received", {"voice_url": "https://x.zdn.vn/a.aac"}, AttachmentKind.VOICE),
        ("message.image.received", {}, AttachmentKind.OTHER),
        ("message.something.new", {}, AttachmentKind.OTHER),
    ],
)
def test_things_the_bot_cannot_read_become_attachments_the_router_answers(event, extra, kind):
    msg = incoming(update(event, **extra))
    assert msg.text is None
    assert [a.kind for a in msg.attachments] == [kind]


@pytest.mark.parametrize("key", ["display_name", "name", "first_name"])
def test_display_name_fallbacks(key: str):
    body = update("message.text.received", text="a")
    body["message"]["from"] = {"id": "u1", key: "Bà Tư"}
    assert incoming(body).display_name == "Bà Tư"


def test_messages_from_bots_and_without_sender_are_ignored():
    body = update("message.text.received", text="hi")
    body["message"]["from"]["is_bot"] = True
    parsed = parse_update(body)
    assert parsed is not None and to_incoming(parsed) is None
    parsed = parse_update({"event_name": "message.text.received", "message": {"text": "x"}})
    assert parsed is not None and to_incoming(parsed) is None


# ----------------------------------------------------------------------------- fake server


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer() as server:
        yield server


@pytest.fixture
async def client(zalo: FakeZaloServer) -> AsyncIterator[ZaloBotClient]:
    async with ZaloBotClient(zalo.token, base_url=zalo.base_url, timeout=2.0) as c:
        yield c


async def test_downloader_fetches_at_once_and_limits_the_size(zalo: FakeZaloServer):
    data = jpeg_bytes(120, 90)
    url = zalo.add_media(data)
    downloader = PhotoDownloader(max_bytes=len(data))
    try:
        assert await downloader(IncomingAttachment(AttachmentKind.PHOTO, url)) == data
        small = PhotoDownloader(max_bytes=100)
        try:
            cut = await small(IncomingAttachment(AttachmentKind.PHOTO, url))
            # Just over the limit: the processor answers "too large" without reading on.
            assert len(cut) == 101
        finally:
            await small.close()
        zalo.expire_media()
        with pytest.raises(Exception, match="404"):
            await downloader(IncomingAttachment(AttachmentKind.PHOTO, url))
        with pytest.raises(ValueError):
            await downloader(IncomingAttachment(AttachmentKind.PHOTO, "file:///etc/passwd"))
    finally:
        await downloader.close()


def sender_for(client: ZaloBotClient, **kwargs: Any) -> ZaloSender:
    return ZaloSender(client, per_chat_interval=0.0, overall_per_second=None, **kwargs)


async def test_long_text_is_split_and_options_are_numbered(zalo, client):
    sender = sender_for(client)
    paragraph = "Câu trả lời của xã về việc sửa đường liên thôn. " * 20
    text = "\n".join([paragraph.strip()] * 3)
    assert 2000 < len(text) <= 4000
    await sender.send(
        "u1", Out(text=text, options=(Option("a:1", "Đồng ý"), Option("a:2", "Chưa hài lòng"))), []
    )
    first, second = zalo.sent
    assert all(len(s.text or "") <= 2000 for s in zalo.sent)
    assert first.text is not None and second.text is not None
    assert second.text.endswith("  1. Đồng ý\n  2. Chưa hài lòng")
    assert (first.text + second.text).count("sửa đường") == text.count("sửa đường")


def photo_files(tmp_path: Path, count: int) -> list[OutboundFile]:
    files = []
    for index in range(count):
        path = tmp_path / f"p{index}.jpg"
        path.write_bytes(jpeg_bytes())
        files.append(OutboundFile(index + 1, path, "image/jpeg"))
    return files


async def test_photos_without_a_public_url_become_a_note(zalo, client, tmp_path):
    await sender_for(client).send("u1", Out(text="Ảnh hiện trường."), photo_files(tmp_path, 2))
    [message] = zalo.sent
    assert message.method == "sendMessage"
    assert message.text == f"{photos_note(2)}\nẢnh hiện trường."
    assert "Có 2 ảnh đính kèm, xem trên Telegram hoặc tại bộ phận một cửa" in message.text


async def test_photo_links_zalo_cannot_fetch_fall_back_to_the_note(zalo, client, tmp_path):
    clock = FakeClock(NOW)
    # Nothing listens on port 9: the fake's download of the link fails, Zalo says 400.
    links = LinkSigner(b"k" * 32, clock, base_url="http://127.0.0.1:9")
    await sender_for(client, links=links).send("u1", Out(text="Xem ảnh."), photo_files(tmp_path, 1))
    assert [r.method for r in zalo.rejected] == ["sendPhoto"]
    assert "/files/a1." in (zalo.rejected[0].photo_url or "")
    [message] = zalo.sent
    assert message.text == f"{photos_note(1)}\nXem ảnh."


async def test_documents_are_linked_or_described(zalo, client, tmp_path):
    report = tmp_path / "reports" / "tuan.xlsx"
    report.parent.mkdir()
    report.write_bytes(b"PK")
    message = Out(text="Báo cáo tuần.", document_path=str(report), document_name="tuan.xlsx")
    await sender_for(client).send("u1", message, [])
    links = LinkSigner(b"k" * 32, FakeClock(NOW), base_url="https://pakn.example")
    await sender_for(client, links=links, data_dir=tmp_path).send("u1", message, [])
    without, linked = zalo.texts("u1")
    assert "«tuan.xlsx», xem trên Telegram" in without
    assert str(report) not in without, "no server paths in messages"
    assert "Tải tệp «tuan.xlsx»: https://pakn.example/files/d" in linked
    token = linked.split("/files/")[1].split()[0]
    target = links.verify(token)
    assert target is not None and target.document_path == "reports/tuan.xlsx"


@pytest.mark.parametrize(
    ("code", "expected"),
    [(429, RetryLater), (500, RetryLater), (502, RetryLater), (400, Rejected), (404, Rejected)],
)
async def test_error_mapping(zalo, client, code, expected):
    zalo.fail("sendMessage", error_code=code)
    with pytest.raises(expected):
        await sender_for(client).send("u1", Out(text="Xin chào"), [])
    await sender_for(client).send("u1", Out(text="Xin chào"), [])
    assert zalo.texts("u1") == ["Xin chào"]


async def test_ok_false_with_http_200_is_an_error_too(zalo, client):
    zalo.fail("sendMessage", error_code=429, http_status=200)
    with pytest.raises(RetryLater):
        await sender_for(client).send("u1", Out(text="Xin chào"), [])


async def test_unauthorized_waits_and_logs_a_config_error(zalo, client, caplog):
    zalo.fail("sendMessage", error_code=401)
    with caplog.at_level(logging.ERROR), pytest.raises(RetryLater):
        await sender_for(client).send("u1", Out(text="Xin chào"), [])
    assert "PAKN_ZALO_TOKEN" in caplog.text


async def test_timeout_is_retried_later(zalo):
    async with ZaloBotClient(zalo.token, base_url=zalo.base_url, timeout=0.3) as short:
        zalo.delay("sendMessage", 2.0)
        with pytest.raises(RetryLater):
            await sender_for(short).send("u1", Out(text="Xin chào"), [])


async def test_network_error_is_retried_later():
    async with ZaloBotClient("1:x", base_url="http://127.0.0.1:9", timeout=1.0) as dead:
        with pytest.raises(RetryLater):
            await sender_for(dead).send("u1", Out(text="Xin chào"), [])


async def test_403_is_retried_unless_zalo_works_for_others(zalo, client):
    sender = sender_for(client)
    # A Zalo-wide 403 (the docs call it "internal server error"): never unreachable.
    zalo.fail("sendMessage", error_code=403, times=FORBIDDEN_STRIKES + 2)
    for _ in range(FORBIDDEN_STRIKES + 2):
        with pytest.raises(RetryLater):
            await sender.send("u1", Out(text="a"), [])
    # Only this chat refuses while others receive: after a few tries, unreachable.
    sender = sender_for(client)
    for attempt in range(1, FORBIDDEN_STRIKES + 1):
        zalo.fail("sendMessage", error_code=403)
        error = RetryLater if attempt < FORBIDDEN_STRIKES else Unreachable
        with pytest.raises(error):
            await sender.send("u1", Out(text="a"), [])
        await sender.send("u2", Out(text="b"), [])
    # A success resets the count.
    zalo.fail("sendMessage", error_code=403)
    with pytest.raises(RetryLater):
        await sender.send("u1", Out(text="a"), [])
    await sender.send("u1", Out(text="a"), [])
    assert zalo.texts("u1") == ["a"]


# ----------------------------------------------------------------------------- the channel


class Recorder:
    def __init__(self, fail_times: int = 0) -> None:
        self.messages: list[IncomingMessage] = []
        self.fail_times = fail_times

    async def __call__(self, message: IncomingMessage) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("database down")
        self.messages.append(message)


@pytest.fixture
async def poll_client(zalo: FakeZaloServer) -> AsyncIterator[ZaloBotClient]:
    # A fresh client per channel; ZaloChannel.stop closes it.
    yield ZaloBotClient(zalo.token, base_url=zalo.base_url, timeout=2.0)


async def test_polling_delivers_updates_in_order_and_survives_errors(zalo, poll_client):
    record = Recorder(fail_times=2)
    channel = ZaloChannel(poll_client, record, poll_timeout=1, backoff_base=0.01)
    zalo.fail("getUpdates", error_code=500)
    zalo.fail("getUpdates", error_code=401)
    zalo.fail("getUpdates", error_code=429)
    await channel.start()
    try:
        first = zalo.add_text("u1", "một")
        second = zalo.add_text("u1", "hai")
        await channel.wait_fed(2)
    finally:
        await channel.stop()
    # Processing failed twice: the update was kept and retried, not lost.
    assert [m.message_id for m in record.messages] == [first, second]
    assert [m.text for m in record.messages] == ["một", "hai"]
    assert zalo.calls["deleteWebhook"] == 1


async def test_empty_polls_loop_at_once(zalo, poll_client):
    channel = ZaloChannel(poll_client, Recorder(), poll_timeout=1, backoff_base=5.0)
    zalo.fail("getUpdates", error_code=408, http_status=200, times=3)
    await channel.start()
    try:
        await zalo.wait_for_calls("getUpdates", 4, timeout=3)
        zalo.add_text("u1", "xin chào")
        await channel.wait_fed(1)
    finally:
        await channel.stop()


async def test_a_webhook_left_set_is_deleted_to_poll(zalo, poll_client):
    record = Recorder()
    channel = ZaloChannel(poll_client, record, poll_timeout=1, backoff_base=0.01)
    zalo.fail("deleteWebhook", error_code=500)  # the delete at start fails…
    zalo.webhook_url = "https://old.example/zalo/webhook"  # …and a webhook stays set
    await channel.start()
    try:
        await zalo.wait_for_calls("deleteWebhook", 2)
        zalo.add_text("u1", "xin chào")
        await channel.wait_fed(1)
    finally:
        await channel.stop()
    assert zalo.webhook_url == ""
    assert record.messages[0].text == "xin chào"


async def test_webhook_bodies_wrapped_unwrapped_and_probe(zalo, poll_client):
    record = Recorder()
    channel = ZaloChannel(poll_client, record)
    body = update("message.text.received", text="Xin chào")
    assert await channel.handle_webhook_body(body)
    assert await channel.handle_webhook_body({"ok": True, "result": body})
    assert not await channel.handle_webhook_body({})
    assert not await channel.handle_webhook_body({"ok": False, "error_code": 408})
    assert [m.text for m in record.messages] == ["Xin chào", "Xin chào"]
    await channel.stop()


async def test_stop_lets_a_polled_update_finish(zalo, poll_client):
    started = asyncio.Event()
    release = asyncio.Event()
    done: list[str] = []

    async def slow(message: IncomingMessage) -> None:
        started.set()
        await release.wait()
        done.append(message.text or "")

    channel = ZaloChannel(poll_client, slow, poll_timeout=1)
    await channel.start()
    zalo.add_text("u1", "chậm")
    await started.wait()
    stopping = asyncio.create_task(channel.stop())
    await asyncio.sleep(0)
    release.set()
    await stopping
    assert done == ["chậm"]


def test_link_lifetime_default_is_a_day():
    links = LinkSigner(b"k" * 32, FakeClock(NOW))
    assert links.lifetime == timedelta(hours=24)
