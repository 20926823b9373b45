"""A citizen on Zalo and the officer on Telegram work the same case, and the reverse:
notifications, relayed questions and answers, photos both ways, ratings.

Photos to Zalo go out as expiring links served by the bot's own web server; the fake Zalo
server downloads each link like Zalo does, so the test sees what Zalo would have got. The
link stops working once it expires (the runtime's clock is moved past the lifetime).
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import AppConfig
from storage.models import Attachment, Case, CaseEvent
from tests.fakes.images import jpeg_bytes
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.zalo_server import FakeZaloServer
from tests.harness import TelegramUser, invite_code, sent_texts
from tests.stories.zalo_harness import ZaloUser, channel_runtime, options_of, zalo_texts

ZALO_CITIZEN = "c0ffee00c0ffee00c0ff"
ZALO_OFFICER = "0ff1ce000ff1ce000ff1"
TG_CITIZEN = 9001
TG_OFFICER = 9101


@pytest.fixture
async def zalo():
    async with FakeZaloServer() as fake:
        yield fake


@pytest.fixture
async def telegram():
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
async def bot(config: AppConfig, clock: FakeClock, zalo, telegram):
    async with channel_runtime(config, clock, zalo, telegram, web=True) as runtime:
        yield runtime


def stored_bytes(bot, attachment_id: int) -> bytes:
    path = bot.db.call(lambda session: session.get(Attachment, attachment_id).path)
    return bot.store.read(path)


def case_photo_ids(bot) -> list[int]:
    return bot.db.call(
        lambda session: list(
            session.scalars(select(Attachment.id).where(Attachment.case_id.is_not(None)))
        )
    )


async def test_zalo_citizen_and_telegram_officer(bot, zalo, telegram, clock):
    officer = TelegramUser(telegram, bot, TG_OFFICER, "Kế")
    [welcome] = await officer.say(f"/dangky {invite_code(bot, 'officer', 'kinh_te', 'Kế')}")
    assert "Đăng ký thành công" in (welcome.text or "")

    citizen = ZaloUser(zalo, bot, ZALO_CITIZEN, "Mai")
    await citizen.say("/start")
    await citizen.choose("Gửi phản ánh")
    await citizen.choose("Phản ánh")
    await citizen.choose("Đất đai")
    await citizen.say("Nhà bên cạnh xây tường lấn sang đất nhà tôi khoảng nửa mét.")
    photo = jpeg_bytes(160, 120, with_exif_gps=True)
    assert "Đã nhận ảnh 1/5" in zalo_texts(await citizen.send_image(photo))
    await citizen.choose("Xong")
    await citizen.choose("Thôn Đông")
    await citizen.say("Hoàng Thị Mai")
    await citizen.say("0912000111")
    [confirmation] = await citizen.choose("Gửi")
    assert "Mã hồ sơ: HB-2026-00001" in (confirmation.text or "")

    # Photo Zalo → Telegram: downloaded from Zalo when it arrived, sent to the officer.
    [photo_id] = case_photo_ids(bot)
    notice = [m for m in officer.received if "Hồ sơ mới HB-2026-00001" in (m.text or "")]
    assert len(notice) == 1
    assert "Hoàng Thị Mai – 0912000111" in (notice[0].text or "")
    [sent_photo] = [m for m in officer.received if m.method == "sendPhoto"]
    assert sent_photo.photo == stored_bytes(bot, photo_id)

    [opened] = await officer.press("Tiếp nhận")
    assert "Đã tiếp nhận hồ sơ" in (opened.text or "")
    assert "đã được Phòng Kinh tế tiếp nhận" in (citizen.last.text or "")

    # Photo Telegram → Zalo: the officer's question comes with a photo; Zalo receives a
    # link to the bot's web server and fetches it.
    await officer.press("Hỏi thêm")
    officer_photo = jpeg_bytes(200, 100, color=(200, 30, 30))
    [sent] = await officer.send(
        lambda: telegram.add_photo(
            TG_OFFICER, officer_photo, caption="Đây có phải bức tường anh/chị phản ánh không?"
        )
    )
    assert "Đã gửi câu hỏi" in (sent.text or "")
    [link] = [m for m in citizen.received if m.method == "sendPhoto"]
    assert link.photo_url is not None
    assert link.photo_url.startswith(bot.web.url + "/files/")
    assert link.fetched_status == 200
    assert link.fetched_content_type == "image/jpeg"
    question_photo = max(bot.db.call(lambda session: list(session.scalars(select(Attachment.id)))))
    assert link.fetched_photo == stored_bytes(bot, question_photo)
    question = citizen.last.text or ""
    assert "cần bạn bổ sung thông tin cho hồ sơ HB-2026-00001" in question
    assert "bức tường" in question

    # The citizen answers on Zalo with a photo and a caption; the officer gets both.
    reply_photo = jpeg_bytes(90, 90, color=(10, 10, 200))
    await citizen.send_image(reply_photo, caption="Đúng rồi ạ, mốc ở góc vườn")
    relayed = [m for m in officer.received if "đã bổ sung thông tin" in (m.text or "")]
    assert relayed and "mốc ở góc vườn" in (relayed[-1].text or "")
    assert len([m for m in officer.received if m.method == "sendPhoto"]) == 2

    await officer.press("Trả lời")
    await officer.say("Xã đã kiểm tra, yêu cầu hộ bên cạnh tháo dỡ phần tường lấn.")
    [done] = await officer.press("Gửi")
    assert "Đã trả lời" in (done.text or "")
    answer = citizen.last.text or ""
    assert "Trả lời hồ sơ HB-2026-00001 của Phòng Kinh tế" in answer
    assert [label for _, label in options_of(answer)] == [
        "Rất hài lòng",
        "Hài lòng",
        "Chưa hài lòng",
    ]
    await citizen.say("1")
    with bot.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert (case.channel, case.status, case.rating) == ("zalo", "closed", "rat_hai_long")

    # The link Zalo got works until it expires, then no more.
    async with httpx.AsyncClient() as http:
        assert (await http.get(link.photo_url)).status_code == 200
        clock.advance(timedelta(hours=bot.config.web.attachment_link_hours, seconds=1))
        assert (await http.get(link.photo_url)).status_code == 404


async def test_telegram_citizen_and_zalo_officer(bot, zalo, telegram):
    officer = ZaloUser(zalo, bot, ZALO_OFFICER, "Kế")
    [welcome] = await officer.say(f"/dangky {invite_code(bot, 'officer', 'kinh_te', 'Kế')}")
    assert "Đăng ký thành công: bạn là cán bộ – Phòng Kinh tế" in (welcome.text or "")

    citizen = TelegramUser(telegram, bot, TG_CITIZEN, "Mai")
    await citizen.say("/start")
    await citizen.press("Gửi phản ánh")
    await citizen.press("Phản ánh")
    await citizen.press("Nông nghiệp")
    await citizen.say("Mương nội đồng thôn Đông bị bồi lấp, nước không vào ruộng được.")
    citizen_photo = jpeg_bytes(150, 100, color=(20, 160, 20))
    await citizen.send(lambda: telegram.add_photo(TG_CITIZEN, citizen_photo))
    await citizen.press("Xong")
    await citizen.press("Thôn Đông")
    await citizen.press("ẩn danh")
    [confirmation] = await citizen.press("Gửi")
    assert "HB-2026-00001" in (confirmation.text or "")
    await bot.dispatcher.flush()

    # Photo Telegram → Zalo: the officer on Zalo receives a working link, then the notice
    # with its actions as a numbered list.
    [photo_id] = case_photo_ids(bot)
    [link] = [m for m in officer.received if m.method == "sendPhoto"]
    assert link.fetched_status == 200
    assert link.fetched_photo == stored_bytes(bot, photo_id)
    notice = [m for m in officer.received if "Hồ sơ mới HB-2026-00001" in (m.text or "")]
    assert len(notice) == 1
    assert "Tiếp nhận" in [label for _, label in options_of(notice[0].text)]

    opened = await officer.choose("Tiếp nhận")
    assert "Đã tiếp nhận hồ sơ" in zalo_texts(opened)
    assert "đã được Phòng Kinh tế tiếp nhận" in (citizen.last.text or "")

    # Photo Zalo → Telegram: the officer asks with a photo and a caption in one message.
    await officer.choose("Hỏi thêm")
    officer_photo = jpeg_bytes(120, 80, color=(220, 220, 20))
    sent = await officer.send_image(officer_photo, caption="Đoạn mương này phải không ạ?")
    assert "Đã gửi câu hỏi" in zalo_texts(sent)
    photos_to_citizen = [m for m in citizen.received if m.method == "sendPhoto"]
    assert len(photos_to_citizen) == 1
    assert photos_to_citizen[0].photo is not None
    assert "Đoạn mương này phải không ạ?" in (citizen.last.text or "")

    await citizen.say("Đúng đoạn đó, dài khoảng 200 mét.")
    relayed = [m for m in officer.received if "đã bổ sung thông tin" in (m.text or "")]
    assert relayed and "dài khoảng 200 mét" in (relayed[-1].text or "")

    await officer.choose("Trả lời")
    preview = await officer.say("Xã sẽ cho nạo vét đoạn mương trong tuần tới.")
    assert "Gửi cho người dân?" in zalo_texts(preview)
    done = await officer.choose("Gửi")
    assert "Đã trả lời" in zalo_texts(done)
    answer = citizen.last
    assert "Trả lời hồ sơ HB-2026-00001 của Phòng Kinh tế" in (answer.text or "")
    await citizen.press("Rất hài lòng")
    with bot.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert (case.channel, case.status, case.rating) == ("telegram", "closed", "rat_hai_long")
        kinds = list(
            session.scalars(
                select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
            )
        )
    assert kinds == ["created", "opened", "info_requested", "citizen_replied", "answered", "rated"]
    assert "Cảm ơn bạn đã đánh giá" in sent_texts(citizen.received[-1:])
