"""Tests of the fake Telegram Bot API server, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from tests.fakes.images import exif_gps, has_exif, image_size, jpeg_bytes, png_bytes
from tests.fakes.telegram_server import (
    ControlClient,
    FakeTelegramServer,
    LocalAsgiServer,
    SentMessage,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Có", callback_data="yes"),
            InlineKeyboardButton("Không", callback_data="no"),
        ]
    ]
)


@pytest.fixture(autouse=True)
def _retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch):
    """Opt in to PTB's future RetryAfter.retry_after type (avoids a deprecation warning)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def tg():
    async with FakeTelegramServer() as server:
        yield server


@pytest.fixture
async def bot(tg: FakeTelegramServer):
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as client:
        yield client


# ------------------------------------------------------------------------- basics


async def test_get_me(tg: FakeTelegramServer, bot: Bot):
    me = await bot.get_me()
    assert me.username == "pakn_test_bot"
    assert me.is_bot
    assert me.id == 123456
    assert tg.calls["getMe"] == 2  # Bot.initialize() called it once already


async def test_wrong_token_is_invalid_token(tg: FakeTelegramServer):
    request = HTTPXRequest()
    bad = Bot("999:WRONG", base_url=tg.base_url, request=request)
    try:
        with pytest.raises(InvalidToken):
            await bad.get_me()
        with pytest.raises(InvalidToken):
            await bad.initialize()
    finally:
        await request.shutdown()  # Bot.shutdown() skips a bot that never initialized


async def test_send_message_with_inline_keyboard(tg: FakeTelegramServer, bot: Bot):
    message = await bot.send_message(5, "Bạn có đồng ý không?", reply_markup=KEYBOARD)
    assert message.reply_markup == KEYBOARD
    assert message.chat.id == 5 and message.chat.type == "private"
    assert message.from_user is not None and message.from_user.is_bot
    [sent] = tg.sent
    assert sent.method == "sendMessage"
    assert (sent.chat_id, sent.message_id, sent.text) == (
        5,
        message.message_id,
        "Bạn có đồng ý không?",
    )
    assert sent.buttons == [("Có", "yes"), ("Không", "no")]
    assert sent.params["chat_id"] == 5  # form values are JSON-decoded
    assert tg.messages_to(5) == [sent] and tg.texts_to(5) == ["Bạn có đồng ý không?"]


async def test_validation_errors_are_bad_requests(tg: FakeTelegramServer, bot: Bot):
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(5, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(5, "1 < 2", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)reserved"):
        await bot.send_message(5, "Hạn: 12-05.", parse_mode="MarkdownV2")
    too_long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(5, "hi", reply_markup=too_long_data)
    await bot.send_message(5, "<b>1 &lt; 2</b>", parse_mode="HTML")
    assert [r.status for r in tg.rejected] == [400, 400, 400, 400]
    assert len(tg.sent) == 1


async def test_edit_message_text_and_reply_markup(tg: FakeTelegramServer, bot: Bot):
    message = await bot.send_message(5, "Chọn", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("Đã chọn: Có", chat_id=5, message_id=message.message_id)
    assert edited.text == "Đã chọn: Có"
    assert edited.reply_markup is None  # editing without reply_markup drops the keyboard
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("Đã chọn: Có", chat_id=5, message_id=message.message_id)
    await bot.edit_message_reply_markup(
        chat_id=5, message_id=message.message_id, reply_markup=KEYBOARD
    )
    with pytest.raises(BadRequest, match=r"(?i)not found"):
        await bot.edit_message_text("?", chat_id=5, message_id=999)
    assert [m.method for m in tg.messages_to(5)] == [
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
    ]
    assert tg.sent[-1].text == "Đã chọn: Có" and tg.sent[-1].buttons[0] == ("Có", "yes")


# ------------------------------------------------------------------------- updates


async def test_long_polling_returns_injected_update_then_offset_confirms(
    tg: FakeTelegramServer, bot: Bot
):
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_until(lambda: tg.pollers_waiting > 0, timeout=2)
    update_id = tg.add_text(42, "Xin chào", first_name="Lan", username="lan99")
    async with asyncio.timeout(2):  # woken by the injection, long before the 5 s poll ends
        updates = await poll
    [update] = updates
    assert update.update_id == update_id
    assert update.message is not None and update.message.text == "Xin chào"
    assert update.effective_user is not None and update.effective_user.username == "lan99"
    assert tg.pending_update_ids == [update_id]  # fetched, not yet confirmed

    again = await bot.get_updates(timeout=0)  # no offset: the same update again
    assert [u.update_id for u in again] == [update_id]
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()
    assert tg.pending_update_ids == []
    await tg.wait_until_consumed(timeout=1)


async def test_command_gets_bot_command_entity(tg: FakeTelegramServer, bot: Bot):
    tg.add_text(42, "/start abc")
    [update] = await bot.get_updates(timeout=1)
    assert update.message is not None
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start")


async def test_second_poller_terminates_the_first_with_conflict(tg: FakeTelegramServer, bot: Bot):
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_until(lambda: tg.pollers_waiting == 1, timeout=2)
    async with Bot(tg.token, base_url=tg.base_url) as other:
        second = asyncio.create_task(other.get_updates(timeout=5))
        with pytest.raises(Conflict):
            await first
        tg.add_text(1, "hi")
        assert len(await second) == 1


async def test_photo_injection_get_file_and_download(tg: FakeTelegramServer, bot: Bot):
    data = jpeg_bytes(640, 480)
    tg.add_photo(42, data, caption="Ổ gà đường liên thôn")
    [update] = await bot.get_updates(timeout=1)
    assert update.message is not None
    photos = update.message.photo
    assert len(photos) >= 2
    assert (photos[-1].width, photos[-1].height) == (640, 480)
    assert photos[-1].file_size == len(data)
    assert update.message.caption == "Ổ gà đường liên thôn"
    for size in photos:
        file = await size.get_file()
        assert bytes(await file.download_as_bytearray()) == data


async def test_declared_size_and_too_big_file(tg: FakeTelegramServer, bot: Bot):
    tg.add_photo(42, jpeg_bytes(), declared_size=25 * 1024 * 1024)
    [update] = await bot.get_updates(timeout=1)
    assert update.message is not None
    assert update.message.photo[-1].file_size == 25 * 1024 * 1024
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await update.message.photo[-1].get_file()


async def test_other_injected_kinds_parse(tg: FakeTelegramServer, bot: Bot):
    tg.add_document(
        1, b"%PDF-1.4 test", file_name="don.pdf", mime_type="application/pdf", caption="Đơn"
    )
    tg.add_sticker(1)
    tg.add_voice(1)
    tg.add_video(1)
    tg.add_video_note(1)
    tg.add_location(1, 21.0285, 105.8542)
    tg.add_contact(1, "+84912345678")
    updates = await bot.get_updates(timeout=1)
    messages = [u.message for u in updates]
    assert all(m is not None for m in messages)
    document, sticker, voice, video, note, location, contact = messages
    assert document is not None and document.document is not None
    assert document.document.file_name == "don.pdf"
    file = await document.document.get_file()
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 test"
    assert sticker is not None and sticker.sticker is not None
    assert voice is not None and voice.voice is not None
    assert video is not None and video.video is not None
    assert note is not None and note.video_note is not None
    assert location is not None and location.location is not None
    assert location.location.latitude == pytest.approx(21.0285)
    assert contact is not None and contact.contact is not None
    assert contact.contact.user_id == 1


async def test_callback_query_is_parsed_by_ptb(tg: FakeTelegramServer, bot: Bot):
    message = await bot.send_message(7, "Chọn", reply_markup=KEYBOARD)
    await bot.send_message(7, "(tin nhắn khác, không có nút)")
    tg.press_button(7, "yes")
    raw = (await bot.get_updates(timeout=1))[0].to_dict()
    update = Update.de_json(raw, bot)
    query = update.callback_query
    assert query is not None and query.data == "yes"
    assert query.message is not None and query.message.message_id == message.message_id
    assert await query.answer("Đã ghi nhận")
    assert tg.answered_callbacks[0]["text"] == "Đã ghi nhận"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer()


async def test_press_button_without_bot_message_raises(tg: FakeTelegramServer):
    with pytest.raises(LookupError):
        tg.press_button(7, "yes")


# ------------------------------------------------------------------------- sending media


async def test_send_photo_upload_and_resend_by_file_id(tg: FakeTelegramServer, bot: Bot):
    data = png_bytes(100, 80)
    message = await bot.send_photo(9, data, caption="Ảnh hiện trường")
    assert tg.sent[0].photo == data
    assert tg.sent[0].text == "Ảnh hiện trường"
    assert tg.sent[0].params["photo"] == tg.sent[0].filename  # files replaced by their names
    await bot.send_photo(10, message.photo[-1].file_id)
    assert tg.sent[1].photo == data
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(9, b"not an image")


async def test_send_document_and_media_group(tg: FakeTelegramServer, bot: Bot):
    await bot.send_document(9, b"PK\x03\x04xlsx", filename="bao-cao.xlsx", caption="Báo cáo tuần")
    assert (tg.sent[0].document, tg.sent[0].filename) == (b"PK\x03\x04xlsx", "bao-cao.xlsx")
    one, two = jpeg_bytes(color=(1, 2, 3)), jpeg_bytes(color=(200, 2, 3))
    messages = await bot.send_media_group(
        9, [InputMediaPhoto(one, caption="1"), InputMediaPhoto(two)]
    )
    assert len(messages) == 2 and messages[0].media_group_id == messages[1].media_group_id
    assert [m.photo for m in tg.sent[1:]] == [one, two]


# ------------------------------------------------------------------------- faults


async def test_fail_429_surfaces_as_retry_after(tg: FakeTelegramServer, bot: Bot):
    tg.fail("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(5, "hi")
    assert caught.value.retry_after == dt.timedelta(seconds=3)
    await bot.send_message(5, "hi")  # only the next call failed
    assert [m.text for m in tg.sent] == ["hi"]


async def test_fail_body_matches_telegram(tg: FakeTelegramServer):
    tg.fail("sendMessage", status=429, retry_after=2)
    tg.fail("sendMessage", status=500)
    async with httpx.AsyncClient() as http:
        url = f"{tg.base_url}{tg.token}/sendMessage"
        first = await http.post(url, json={"chat_id": 1, "text": "x"})
        second = await http.post(url, json={"chat_id": 1, "text": "x"})
    assert first.status_code == 429
    assert first.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 2",
        "parameters": {"retry_after": 2},
    }
    assert second.status_code == 500
    assert second.json() == {"ok": False, "error_code": 500, "description": "Internal Server Error"}


async def test_fail_403_400_500(tg: FakeTelegramServer, bot: Bot):
    tg.fail("sendMessage", status=403)
    tg.fail("sendMessage", status=400, description="Bad Request: chat not found")
    tg.fail("sendMessage", status=500)
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(5, "a")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(5, "b")
    with pytest.raises(NetworkError):
        await bot.send_message(5, "c")
    assert tg.sent == [] and tg.calls["sendMessage"] == 3


async def test_block_chat(tg: FakeTelegramServer, bot: Bot):
    tg.block_chat(5)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(5, "a")
    await bot.send_message(6, "b")
    tg.unblock_chat(5)
    await bot.send_message(5, "c")
    assert [(m.chat_id, m.text) for m in tg.sent] == [(6, "b"), (5, "c")]


async def test_delay_causes_timed_out_and_is_still_handled(tg: FakeTelegramServer, bot: Bot):
    tg.delay("sendMessage", 0.4)
    with pytest.raises(TimedOut):
        await bot.send_message(5, "chậm", read_timeout=0.1)
    assert tg.sent == []
    [late] = await tg.wait_for(chat_id=5, timeout=3)  # delivered anyway, as Telegram may do
    assert late.text == "chậm"


async def test_require_started():
    strict = FakeTelegramServer(require_started=True)
    async with strict, Bot(strict.token, base_url=strict.base_url) as client:
        with pytest.raises(Forbidden, match=r"(?i)initiate conversation"):
            await client.send_message(77, "hi")
        strict.add_text(77, "/start")
        await client.send_message(77, "hi")


# ------------------------------------------------------------------------- flood limits


async def test_flood_limit_per_private_chat():
    clock = ManualClock()
    tg = FakeTelegramServer(enforce_flood_limits=True, clock=clock)
    async with tg, Bot(tg.token, base_url=tg.base_url) as bot:
        await bot.send_message(5, "1")
        clock.now += 0.2
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(5, "2")
        assert caught.value.retry_after == dt.timedelta(seconds=1)
        assert len(tg.flood_violations) == 1 and "chat 5" in tg.flood_violations[0]
        await bot.send_message(6, "other chat is fine")
        clock.now += 1.0
        await bot.send_message(5, "3")
        clock.now += 1.0
        await bot.send_message(5, "4")
        assert len(tg.flood_violations) == 1
        assert tg.texts_to(5) == ["1", "3", "4"]


async def test_flood_limit_overall():
    clock = ManualClock()
    tg = FakeTelegramServer(enforce_flood_limits=True, overall_per_second=3, clock=clock)
    async with tg, Bot(tg.token, base_url=tg.base_url) as bot:
        for chat_id in (1, 2, 3):
            await bot.send_message(chat_id, "x")
        with pytest.raises(RetryAfter):
            await bot.send_message(4, "x")
        assert tg.flood_violations and tg.flood_violations[0].startswith("overall")
        clock.now += 1.0
        await bot.send_message(4, "x")
        assert len(tg.flood_violations) == 1


# ------------------------------------------------------------------------- webhook


async def test_webhook_delivery_with_secret_and_retry(tg: FakeTelegramServer, bot: Bot):
    received: list[tuple[str | None, dict[str, Any]]] = []
    statuses = [500]

    async def hook(request: Request) -> Response:
        received.append(
            (request.headers.get("x-telegram-bot-api-secret-token"), await request.json())
        )
        return Response(status_code=statuses.pop(0) if statuses else 200)

    receiver = LocalAsgiServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    await receiver.start()
    try:
        assert await bot.set_webhook(f"{receiver.url}/hook", secret_token="s3cret")
        info = await bot.get_webhook_info()
        assert info.url == f"{receiver.url}/hook"
        with pytest.raises(Conflict):
            await bot.get_updates()
        update_id = tg.add_text(3, "qua webhook")
        await tg.wait_until_consumed(timeout=5)
        assert [(d.update_id, d.status, d.ok) for d in tg.webhook_deliveries] == [
            (update_id, 500, False),
            (update_id, 200, True),
        ]
        assert received[-1][0] == "s3cret"
        assert received[-1][1]["message"]["text"] == "qua webhook"

        assert await bot.delete_webhook()
        tg.add_text(3, "qua polling")
        [update] = await bot.get_updates(timeout=1)
        assert update.message is not None and update.message.text == "qua polling"
    finally:
        await receiver.stop()


# ------------------------------------------------------------------------- waiting & lifecycle


async def test_wait_for_failure_lists_what_was_sent(tg: FakeTelegramServer, bot: Bot):
    await bot.send_message(5, "Xin chào, mời chọn lĩnh vực")
    with pytest.raises(AssertionError, match="Xin chào, mời chọn lĩnh vực"):
        await tg.wait_for(lambda m: m.text == "Cảm ơn", chat_id=5, timeout=0.05)


async def test_wait_for_counts_earlier_and_later_messages(tg: FakeTelegramServer, bot: Bot):
    await bot.send_message(5, "one")
    waiting = asyncio.create_task(tg.wait_for(chat_id=5, count=2, timeout=5))
    await bot.send_message(6, "elsewhere")
    await bot.send_message(5, "two")
    assert [m.text for m in await waiting] == ["one", "two"]


async def test_stop_does_not_wait_for_long_polls():
    server = FakeTelegramServer()
    try:
        await server.start()
        async with Bot(server.token, base_url=server.base_url) as client:
            poll = asyncio.create_task(client.get_updates(timeout=30))
            await server.wait_until(lambda: server.pollers_waiting == 1, timeout=2)
            async with asyncio.timeout(3):
                await server.stop()
                assert await poll == ()
    finally:
        await server.stop()  # stopping twice is harmless


async def test_application_polling_end_to_end(tg: FakeTelegramServer):
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Bạn gửi: {update.effective_message.text}")

    app = (
        Application.builder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        tg.add_text(11, "mất điện")
        [reply] = await tg.wait_for(chat_id=11)
        assert reply.text == "Bạn gửi: mất điện"
        await app.updater.stop()
        await app.stop()
    await tg.wait_until_consumed(timeout=2)  # PTB confirmed the offset on stop


# ------------------------------------------------------------------------- HTTP details


async def test_json_form_and_query_parameters(tg: FakeTelegramServer):
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    async with httpx.AsyncClient(base_url=f"{tg.base_url}{tg.token}") as http:
        as_json = await http.post(
            "/sendMessage", json={"chat_id": 1, "text": "json", "reply_markup": markup}
        )
        as_form = await http.post(
            "/sendMessage",
            data={
                "chat_id": "2",
                "text": "0912345678",
                "reply_markup": '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}',
            },
        )
        as_query = await http.get("/sendMessage", params={"chat_id": "3", "text": "123"})
        unknown = await http.post("/noSuchMethod")
        method_case = await http.get("/GETME")
    assert as_json.status_code == as_form.status_code == as_query.status_code == 200
    assert [(m.chat_id, m.text, m.reply_markup) for m in tg.sent] == [
        (1, "json", markup),
        (2, "0912345678", markup),
        (3, "123", None),
    ]
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert method_case.json()["result"]["username"] == "pakn_test_bot"


async def test_download_needs_the_token(tg: FakeTelegramServer, bot: Bot):
    tg.add_photo(1, jpeg_bytes())
    [update] = await bot.get_updates(timeout=1)
    assert update.message is not None
    file = await update.message.photo[-1].get_file()
    assert file.file_path is not None
    async with httpx.AsyncClient() as http:
        assert (await http.get(file.file_path)).status_code == 200
        assert (await http.get(file.file_path.replace(tg.token, "1:X"))).status_code == 401


async def test_control_endpoints(tg: FakeTelegramServer, bot: Bot):
    async with ControlClient(tg.url) as control:
        raw_id = await control.add_update(
            {
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 8, "type": "private"},
                    "text": "thô",
                }
            }
        )
        text_id = await control.add_text(8, "xin chào")
        photo_id = await control.call("add_photo", user_id=8, data=jpeg_bytes())
        updates = await bot.get_updates(timeout=1)
        assert [u.update_id for u in updates] == [raw_id, text_id, photo_id]
        await bot.get_updates(offset=photo_id + 1, timeout=0)
        await control.wait_until_consumed(timeout=1)

        await bot.send_message(8, "đã nhận", reply_markup=KEYBOARD)
        [sent] = await control.sent(chat_id=8, min_count=1, timeout=2)
        assert isinstance(sent, SentMessage) and sent.text == "đã nhận"
        assert sent.buttons == [("Có", "yes"), ("Không", "no")]
        await control.press_button(8, "no")
        [update] = await bot.get_updates(timeout=1)
        assert update.callback_query is not None and update.callback_query.data == "no"

        await control.call("fail", method="sendMessage", status=403)
        with pytest.raises(Forbidden):
            await bot.send_message(8, "x")
        state = await control.state()
        assert state["calls"]["sendMessage"] == 2
        assert state["rejected"][0]["status"] == 403

        await control.reset()
        assert await control.sent() == [] and tg.sent == []
        with pytest.raises(AssertionError, match="unknown control call"):
            await control.call("stop")


async def test_standalone_process_serves_until_terminated(tmp_path: Path):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.telegram_server",
        "--port",
        "0",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            port = int(await process.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        async with (
            ControlClient(base) as control,
            Bot("123456:TEST-TOKEN", base_url=f"{base}/bot") as bot,
        ):
            await control.add_text(5, "hello")
            [update] = await bot.get_updates(timeout=1)
            assert update.message is not None
            await update.message.reply_text("hi back")
            [sent] = await control.sent(chat_id=5, min_count=1, timeout=5)
            assert sent.text == "hi back"
    finally:
        process.terminate()
        async with asyncio.timeout(10):
            assert await process.wait() == 0


# ------------------------------------------------------------------------- images


def test_images_helpers():
    plain = jpeg_bytes(64, 48)
    located = jpeg_bytes(64, 48, with_exif_gps=True, gps=(21.0285, 105.8542))
    assert image_size(plain) == (64, 48) and image_size(png_bytes(10, 20)) == (10, 20)
    assert exif_gps(plain) == {} and not has_exif(plain)
    gps = exif_gps(located)
    assert gps[1] == "N" and gps[3] == "E"
    degrees, minutes, _seconds = gps[2]
    assert (degrees, minutes) == (21, 1)
