"""Citizen stories through the real python-telegram-bot client and the fake Bot API server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.models import Attachment, Case, ProcessedUpdate
from tests.fakes.images import has_exif, jpeg_bytes, png_bytes
from tests.fakes.telegram_server import FakeTelegramServer
from tests.harness import TelegramUser, sent_texts, telegram_runtime

LAN = 5001
BINH = 5002


async def test_start_shows_notice_and_menu_buttons(server, bot):
    lan = TelegramUser(server, bot, LAN, "Lan")
    [welcome] = await lan.say("/start")
    assert "Xin chào Lan!" in welcome.text
    assert "Xã Hà Bắc" in welcome.text
    assert "Ủy ban nhân dân xã Hà Bắc" in welcome.text
    assert "/dulieu" in welcome.text
    assert [text for text, _ in welcome.buttons] == [
        "Gửi phản ánh, kiến nghị",
        "Hỏi đáp",
        "Tra cứu hồ sơ",
        "Phản ánh của tôi",
    ]
    # Text is sent literally: no parse mode, so markup in citizen text is never interpreted.
    assert "parse_mode" not in welcome.params


async def file_case(
    user: TelegramUser,
    server: FakeTelegramServer,
    *,
    kind: str,
    category: str,
    content: str,
    photos: int = 0,
    village: str = "Thôn Nam",
    name: str | None = "Lê Thị Lan",
) -> str:
    await user.say("/start")
    await user.press("Gửi phản ánh")
    await user.press(kind)
    await user.press(category)
    await user.say(content)
    for index in range(photos):
        replies = await user.send(
            lambda i=index: server.add_photo(user.user_id, jpeg_bytes(200, 150, with_exif_gps=True))
        )
        assert f"Đã nhận ảnh {index + 1}/5" in sent_texts(replies)
    await user.press("Xong" if photos else "Bỏ qua")
    await user.press(village)
    if name is None:
        await user.press("ẩn danh")
    else:
        await user.say(name)
        await user.say("0912345678")
    [confirmation] = await user.press("Gửi")
    return confirmation.text or ""


@pytest.mark.parametrize(
    ("kind", "category", "unit", "due"),
    [
        ("Phản ánh", "Môi trường", "Phòng Kinh tế", "Hạn trả lời dự kiến: 08/12/2026"),
        ("Khiếu nại", "Đất đai", "Văn phòng HĐND và UBND xã", "Hạn thông báo thụ lý"),
        ("Tố cáo", "Chính sách xã hội", "Văn phòng HĐND và UBND xã", "Hạn xử lý ban đầu"),
    ],
)
async def test_citizen_files_each_kind_with_photos_and_a_village(
    server, bot, kind, category, unit, due
):
    lan = TelegramUser(server, bot, LAN)
    confirmation = await file_case(
        lan,
        server,
        kind=kind,
        category=category,
        content="Ở khu vực cổng chợ có việc cần xã xem xét và xử lý sớm giúp dân.",
        photos=2,
    )
    assert "Mã hồ sơ: HB-2026-00001" in confirmation
    assert unit in confirmation
    assert due in confirmation
    with bot.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.village == "Thôn Nam"
        attachments = session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
        assert len(attachments) == 2
        for attachment in attachments:
            stored = (bot.config.storage.attachments_dir / attachment.path).read_bytes()
            assert not has_exif(stored)


async def test_location_shared_as_the_place(server, bot):
    lan = TelegramUser(server, bot, LAN)
    await lan.say("/start")
    await lan.press("Gửi phản ánh")
    await lan.press("Phản ánh")
    await lan.press("Giao thông")
    await lan.say("Cột đèn đường trước nhà văn hóa bị đổ sau bão.")
    await lan.press("Bỏ qua")
    [ask_contact] = await lan.send(lambda: server.add_location(LAN, 20.91234, 106.31234))
    assert "họ và tên" in (ask_contact.text or "")
    [summary] = await lan.press("ẩn danh")
    assert "vị trí đã gửi (20.91234, 106.31234)" in (summary.text or "")


async def test_tracking_and_someone_elses_code(server, bot):
    lan = TelegramUser(server, bot, LAN)
    await file_case(
        lan,
        server,
        kind="Phản ánh",
        category="Y tế",
        content="Quán ăn ở chợ bán đồ ôi thiu.",
        name=None,
    )
    [status] = await lan.say("/tracuu HB-2026-00001")
    assert "Trạng thái: Đã gửi, chờ tiếp nhận" in (status.text or "")
    assert "Trạm Y tế xã" in (status.text or "")

    binh = TelegramUser(server, bot, BINH, "Bình")
    [refusal] = await binh.say("/tracuu HB-2026-00001")
    assert "Không tìm thấy hồ sơ HB-2026-00001" in (refusal.text or "")
    assert "Trạm Y tế" not in (refusal.text or "")

    await binh.press("Tra cứu hồ sơ")
    [again] = await binh.say("HB-2026-00001")
    assert "Không tìm thấy" in (again.text or "")


async def test_cancel_with_huy(server, bot):
    lan = TelegramUser(server, bot, LAN)
    await lan.say("/start")
    await lan.press("Gửi phản ánh")
    await lan.press("Tố cáo")
    [cancelled] = await lan.say("/huy")
    assert "Đã hủy" in (cancelled.text or "")
    assert cancelled.buttons


async def test_every_bad_input_is_answered_politely_and_the_draft_survives(server, bot):
    lan = TelegramUser(server, bot, LAN)
    await lan.say("/start")
    await lan.press("Gửi phản ánh")
    await lan.press("Phản ánh")
    await lan.press("Môi trường")
    content_prompt = "Bạn mô tả sự việc"

    for inject, expected in [
        (lambda: server.add_sticker(LAN), "nhãn dán"),
        (lambda: server.add_voice(LAN), "tin nhắn thoại"),
        (lambda: server.add_video(LAN), "video"),
        (
            lambda: server.add_document(
                LAN, b"%PDF-1.4 fake", file_name="don.pdf", mime_type="application/pdf"
            ),
            "chỉ nhận ảnh",
        ),
    ]:
        replies = await lan.send(inject)
        text = sent_texts(replies)
        assert expected in text
        assert content_prompt in text, "the current question is asked again"

    assert "chưa nhận được nội dung" in sent_texts(await lan.say("  "))
    assert "ngắn quá" in sent_texts(await lan.say("khói"))
    long_reply = sent_texts(await lan.say("Khói đốt rác. " * 200))
    assert "quá giới hạn 2000 ký tự" in long_reply
    await lan.say("Khói đốt rác ở bãi đất trống cạnh trường mầm non mỗi tối.")
    too_big = await lan.send(
        lambda: server.add_photo(LAN, jpeg_bytes(100, 100), declared_size=25_000_000)
    )
    assert "Ảnh lớn quá" in sent_texts(too_big)
    png = await lan.send(lambda: server.add_photo(LAN, png_bytes()))
    assert "Đã nhận ảnh 1/5" in sent_texts(png)
    image_file = await lan.send(
        lambda: server.add_document(
            LAN, jpeg_bytes(80, 60), file_name="anh.jpg", mime_type="image/jpeg"
        )
    )
    assert "Đã nhận ảnh 2/5" in sent_texts(image_file)
    await lan.press("Xong")
    wrong_place = sent_texts(await lan.send(lambda: server.add_sticker(LAN)))
    assert "Sự việc xảy ra ở đâu?" in wrong_place
    await lan.say("Xóm Trại, gần trường mầm non")
    await lan.say("Lê Lan")
    assert "Số điện thoại chưa đúng" in sent_texts(await lan.say("091234"))
    [summary] = await lan.send(lambda: server.add_contact(LAN, "+84912345678"))
    assert "Lê Lan – 0912345678" in (summary.text or "")
    assert "Ảnh: 2" in (summary.text or "")


async def test_a_stale_button_is_refused_and_the_question_repeated(server, bot):
    lan = TelegramUser(server, bot, LAN)
    await lan.say("/start")
    [kind_question] = await lan.press("Gửi phản ánh")
    await lan.press("Phản ánh")
    replies = await lan.send(
        lambda: server.press_button(LAN, "kind:to_cao", message_id=kind_question.message_id)
    )
    text = sent_texts(replies)
    assert "không còn dùng được" in text
    assert "lĩnh vực nào" in text


async def test_repeated_update_is_processed_once(server, bot):
    lan = TelegramUser(server, bot, LAN)
    await lan.say("/start")
    update = {
        "update_id": 999,
        "message": {
            "message_id": 77,
            "date": 1_790_000_000,
            "chat": {"id": LAN, "type": "private", "first_name": "Lan"},
            "from": {"id": LAN, "is_bot": False, "first_name": "Lan"},
            "text": "/trogiup",
        },
    }
    before = len(lan.received)
    await bot.telegram.feed(_update(bot, update))
    await bot.telegram.feed(_update(bot, update))
    await bot.dispatcher.flush()
    assert len(lan.received) == before + 1
    with bot.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedUpdate)) >= 2


def _update(runtime, data):
    from telegram import Update

    return Update.de_json(data, runtime.telegram.bot)


async def test_resuming_a_draft_after_a_restart(config, clock, tmp_path: Path):
    async with FakeTelegramServer() as server:
        async with telegram_runtime(config, clock, server) as first:
            lan = TelegramUser(server, first, LAN)
            await lan.say("/start")
            await lan.press("Gửi phản ánh")
            await lan.press("Khiếu nại")
            await lan.press("Đất đai")
            await lan.say("Tôi không đồng ý với quyết định thu hồi đất của xã.")
        async with telegram_runtime(config, clock, server) as second:
            lan = TelegramUser(server, second, LAN)
            await lan.say("/start")
            [offer] = await lan.press("Gửi phản ánh")
            assert "Tiếp tục hồ sơ đang soạn?" in (offer.text or "")
            [photos] = await lan.press("Tiếp tục")
            assert "ảnh" in (photos.text or "")
            await lan.press("Bỏ qua")
            await lan.press("Thôn Bắc")
            await lan.say("Đỗ Văn Nam")
            [summary] = await lan.say("0977000111")
            assert "không đồng ý với quyết định thu hồi đất" in (summary.text or "")
            [confirmation] = await lan.press("Gửi")
            assert "HB-2026-00001" in (confirmation.text or "")
