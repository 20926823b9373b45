"""Citizen stories on Zalo through the real adapter and FakeZaloServer (real HTTP on
127.0.0.1): numbered options, photos downloaded at once, long texts split, failures
injected and recovered from."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from bot.channels import zalo_client
from bot.clock import FakeClock
from bot.config import AppConfig
from storage import outbox
from storage.models import Attachment, Case, OutboxMessage
from tests.fakes.images import has_exif, jpeg_bytes
from tests.fakes.zalo_server import FakeZaloServer
from tests.stories.zalo_harness import ZaloUser, channel_runtime, options_of, zalo_texts

LAN = "6ede9afa66b88fe6d6a9"
BINH = "a1b2c3d4e5f60718293a"


@pytest.fixture
async def zalo():
    async with FakeZaloServer() as fake:
        yield fake


@pytest.fixture
async def bot(config: AppConfig, clock: FakeClock, zalo: FakeZaloServer):
    async with channel_runtime(config, clock, zalo) as runtime:
        yield runtime


@pytest.fixture
async def sqlite_bot(sqlite_config: AppConfig, clock: FakeClock, zalo: FakeZaloServer):
    """For fault injection, where the database does not matter: SQLite only."""
    async with channel_runtime(sqlite_config, clock, zalo) as runtime:
        yield runtime


async def file_case(
    user: ZaloUser,
    *,
    content: str = "Bãi rác tự phát cạnh cổng chợ bốc mùi, xin xã cho thu dọn sớm.",
    photos: int = 1,
) -> str:
    await user.say("/start")
    await user.choose("Gửi phản ánh")
    await user.choose("Phản ánh")
    # The label typed in full (even without accents) selects as well as its number.
    await user.say("moi truong, rac thai, o nhiem")
    await user.say(content)
    for index in range(photos):
        replies = await user.send_image(jpeg_bytes(200, 150, with_exif_gps=True))
        assert f"Đã nhận ảnh {index + 1}/5" in zalo_texts(replies)
    await user.choose("Xong" if photos else "Bỏ qua")
    await user.choose("Thôn Nam")
    await user.say("Lê Thị Lan")
    await user.say("0912345678")
    [confirmation] = await user.choose("Gửi")
    return confirmation.text or ""


async def test_start_shows_a_numbered_menu(zalo, sqlite_bot):
    bot = sqlite_bot
    lan = ZaloUser(zalo, bot, LAN, "Lan")
    [welcome] = await lan.say("/start")
    assert "Xin chào Lan!" in (welcome.text or "")
    assert [label for _, label in options_of(welcome.text)] == [
        "Gửi phản ánh, kiến nghị",
        "Hỏi đáp",
        "Tra cứu hồ sơ",
        "Phản ánh của tôi",
    ]
    assert [number for number, _ in options_of(welcome.text)] == ["1", "2", "3", "4"]


async def test_citizen_files_a_case_with_a_photo_and_tracks_it(zalo, bot):
    lan = ZaloUser(zalo, bot, LAN, "Lan")
    confirmation = await file_case(lan)
    assert "Mã hồ sơ: HB-2026-00001" in confirmation
    assert "Phòng Kinh tế" in confirmation
    # The photo was downloaded when it arrived: Zalo's URL may expire now.
    zalo.expire_media()
    with bot.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.channel == "zalo"
        assert case.village == "Thôn Nam"
        [attachment] = session.scalars(select(Attachment).where(Attachment.case_id == case.id))
        stored = (bot.config.storage.attachments_dir / attachment.path).read_bytes()
        assert not has_exif(stored)

    [status] = await lan.say("/tracuu HB-2026-00001")
    assert "Trạng thái: Đã gửi, chờ tiếp nhận" in (status.text or "")
    await lan.say("/start")
    await lan.choose("Tra cứu hồ sơ")
    [again] = await lan.say("HB-2026-00001")
    assert "Đã gửi, chờ tiếp nhận" in (again.text or "")

    binh = ZaloUser(zalo, bot, BINH, "Bình")
    [refusal] = await binh.say("/tracuu HB-2026-00001")
    assert "Không tìm thấy hồ sơ HB-2026-00001" in (refusal.text or "")


async def test_photo_with_the_docs_field_name_and_expired_url(sqlite_config, clock):
    async with (
        FakeZaloServer(image_field="photo", name_field="name") as zalo,
        channel_runtime(sqlite_config, clock, zalo) as bot,
    ):
        lan = ZaloUser(zalo, bot, LAN, "Bà Lan")
        [welcome] = await lan.say("/start")
        assert "Xin chào Bà Lan!" in (welcome.text or "")
        await lan.choose("Gửi phản ánh")
        await lan.choose("Phản ánh")
        await lan.choose("Giao thông")
        await lan.say("Ổ gà lớn giữa đường liên thôn, xe máy đi qua rất nguy hiểm.")
        ok = await lan.send_image(jpeg_bytes(120, 90), caption="ổ gà")
        assert "Đã nhận ảnh 1/5" in zalo_texts(ok)

        def expired_image() -> None:
            zalo.add_image(LAN, jpeg_bytes(120, 90))
            zalo.expire_media()

        failed = await lan.send(expired_image)
        assert "chưa tải được ảnh" in zalo_texts(failed)


async def test_stickers_and_unsupported_messages_are_answered_politely(zalo, sqlite_bot):
    bot = sqlite_bot
    lan = ZaloUser(zalo, bot, LAN)
    await lan.say("/start")
    await lan.choose("Gửi phản ánh")
    [question] = await lan.choose("Phản ánh")
    sticker = zalo_texts(await lan.send(lambda: zalo.add_sticker(LAN)))
    assert "nhãn dán" in sticker
    # The current question is asked again, with its numbered options.
    assert (question.text or "") in sticker
    unsupported = zalo_texts(await lan.send(lambda: zalo.add_unsupported(LAN)))
    assert "chưa đọc được loại tin nhắn này" in unsupported
    assert (question.text or "") in unsupported
    assert options_of(unsupported) == options_of(question.text)


async def test_a_long_answer_arrives_as_two_messages(zalo, sqlite_bot):
    bot = sqlite_bot
    lan = ZaloUser(zalo, bot, LAN)
    await lan.say("/start")
    await lan.choose("Gửi phản ánh")
    await lan.choose("Phản ánh")
    await lan.choose("Môi trường")
    content = ("Nước thải từ xưởng chế biến chảy ra mương thủy lợi của thôn. " * 50)[:1990]
    await lan.say(content)
    await lan.choose("Bỏ qua")
    await lan.choose("Thôn Nam")
    await lan.choose("ẩn danh")
    # The summary repeats the 1,990-character content: more than Zalo's 2,000 in one.
    summary = [m for m in lan.received if "Nước thải" in (m.text or "")]
    assert len(summary) == 2, zalo.describe()
    assert all(len(m.text or "") <= 2000 for m in lan.received)
    assert options_of(summary[-1].text), "the options come with the last part"


async def test_a_3000_character_message_from_the_bot_is_split(zalo, sqlite_bot, clock):
    bot = sqlite_bot
    lan = ZaloUser(zalo, bot, LAN)
    await lan.say("/start")
    long_text = "\n".join(
        f"Điều {i}: Công dân có quyền phản ánh, kiến nghị với cơ quan hành chính nhà nước "
        f"về quy định hành chính và việc thực hiện quy định đó."
        for i in range(1, 25)
    )
    assert 2900 < len(long_text) < 4000
    from bot.messages import OutgoingMessage
    from storage.models import ChannelIdentity

    def queue_long(session):
        identity = session.scalars(
            select(ChannelIdentity).where(ChannelIdentity.channel_user_id == LAN)
        ).one()
        return outbox.enqueue(
            session, identity, OutgoingMessage(text=long_text), purpose="reply", now=clock.now()
        )

    before = len(lan.received)
    bot.db.call(queue_long)
    await bot.dispatcher.flush()
    parts = lan.received[before:]
    assert len(parts) == 2
    assert "\n".join(p.text or "" for p in parts) == long_text


async def settle(bot, clock: FakeClock, rounds: int = 6) -> None:
    """Send what is due, moving the clock past retry backoffs until nothing is pending."""
    for _ in range(rounds):
        await bot.dispatcher.flush()
        pending = bot.db.call(
            lambda session: session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == outbox.PENDING)
            )
        )
        if not pending:
            return
        clock.advance(timedelta(minutes=15))
    raise AssertionError("messages still pending after retries")


async def test_send_failures_are_retried(zalo, sqlite_bot, clock):
    bot = sqlite_bot
    lan = ZaloUser(zalo, bot, LAN)
    for round_, code in enumerate((401, 429, 500), 1):
        zalo.fail("sendMessage", error_code=code, times=2)
        await lan.say("/trogiup" if round_ > 1 else "/start")
        await settle(bot, clock)
        assert len(lan.received) == round_, zalo.describe()
        assert len(zalo.rejected) == 2 * round_
    assert "Xin chào" in (lan.received[0].text or "")
    with bot.db.transaction() as session:
        assert set(session.scalars(select(OutboxMessage.status))) == {outbox.SENT}


async def test_send_timeout_is_retried(zalo, sqlite_bot, clock):
    bot = sqlite_bot
    sender = bot.channels["zalo"].sender
    # A short client timeout for this test; Zalo holds the first sendMessage longer.
    sender.client._http.timeout = httpx.Timeout(0.3)
    zalo.delay("sendMessage", 1.0)
    lan = ZaloUser(zalo, bot, LAN)
    await lan.say("/start")
    await settle(bot, clock)
    # At least once: Zalo may have handled the request the bot gave up on.
    await zalo.wait_for(chat_id=LAN, count=1)
    assert all("Xin chào" in (m.text or "") for m in lan.received)
    with bot.db.transaction() as session:
        assert session.scalars(select(OutboxMessage.status)).all() == [outbox.SENT]


async def test_polling_failures_are_recovered_from(zalo, sqlite_bot):
    for code in (401, 429, 500, 502):
        zalo.fail("getUpdates", error_code=code)
    lan = ZaloUser(zalo, sqlite_bot, LAN)
    [welcome] = await lan.say("/start")
    assert "Xin chào" in (welcome.text or "")
    assert zalo.calls["getUpdates"] >= 5


async def test_polling_timeout_is_recovered_from(zalo, sqlite_config, clock, monkeypatch):
    # Read timeout of a poll = poll timeout (1 s) + margin; shorten the margin so that a
    # poll held 1 s by Zalo times out on the bot's side.
    monkeypatch.setattr(zalo_client, "POLL_READ_MARGIN", 0.2)
    zalo.delay("getUpdates", 1.0)
    async with channel_runtime(sqlite_config, clock, zalo) as bot:
        # The abandoned poll ends (408) before the third poll starts; only then is there
        # something to take, so nothing goes to the poll nobody listens to any more.
        await zalo.wait_for_calls("getUpdates", 3)
        lan = ZaloUser(zalo, bot, LAN)
        [welcome] = await lan.say("/start")
        assert "Xin chào" in (welcome.text or "")


async def test_a_repeated_message_id_is_processed_once(zalo, bot):
    lan = ZaloUser(zalo, bot, LAN)
    await lan.say("/start")
    body = {
        "event_name": "message.text.received",
        "message": {
            "message_id": "feedbeefcafe00112233",
            "date": 1_790_000_000_000,
            "from": {"id": LAN, "display_name": "Lan"},
            "chat": {"id": LAN, "chat_type": "PRIVATE"},
            "text": "/trogiup",
        },
    }
    before = len(lan.received)
    zalo.add_raw(body)
    zalo.add_raw(body)
    channel = bot.zalo
    assert channel is not None
    await channel.wait_fed(3)
    await bot.dispatcher.flush()
    assert len(lan.received) == before + 1
    with bot.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


async def test_faq_answers_and_numbered_suggestions(zalo, sqlite_bot):
    bot = sqlite_bot
    lan = ZaloUser(zalo, bot, LAN)
    [answer] = await lan.say("huong uoc la gi vay ad")
    text = answer.text or ""
    assert "Câu trả lời có giúp ích không?" in text
    labels = [label for _, label in options_of(text)]
    assert any(label.startswith("Xem thêm:") for label in labels)
    assert "👍 Có ích" in labels and "👎 Chưa đúng ý" in labels
    assert "Cảm ơn bạn" in zalo_texts(await lan.choose("Có ích"))

    [suggestions] = await lan.say("khiếu nại")
    assert "Có phải bạn muốn hỏi" in (suggestions.text or "")
    assert len(options_of(suggestions.text)) >= 3
    [first] = await lan.say("1")
    assert "Câu trả lời có giúp ích không?" in (first.text or "")
    # Every FAQ reply fits Zalo's limit, however long the answer.
    assert all(len(m.text or "") <= 2000 for m in lan.received)
