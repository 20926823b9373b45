"""Citizen stories on the console channel, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config import AppConfig
from storage.models import Attachment, Case, CaseContact, CaseEvent, Conversation
from tests.fakes.images import exif_gps, has_exif, jpeg_bytes
from tests.harness import Person, console_runtime, texts_of


@pytest.fixture
async def runtime(config: AppConfig, clock: FakeClock):
    runtime = console_runtime(config, clock)
    yield runtime
    await runtime.dispatcher.stop()
    runtime.db.close()


async def file_until_contact(
    citizen: Person, *, kind: str = "Phản ánh", photo: Path | None = None
) -> None:
    await citizen.say("/start")
    await citizen.choose("Gửi phản ánh")
    await citizen.choose(kind)
    await citizen.choose("Giao thông")
    await citizen.say("Đường trục thôn Đông bị sụt lún, ổ gà sâu, xe máy đi rất nguy hiểm.")
    if photo is not None:
        replies = await citizen.send_photo(photo)
        assert "Đã nhận ảnh 1/5" in texts_of(replies)
        await citizen.choose("Xong")
    else:
        await citizen.choose("Bỏ qua")
    await citizen.choose("Thôn Đông")


async def test_citizen_files_a_case_with_a_photo_and_gets_a_code(runtime, tmp_path: Path):
    photo = tmp_path / "o_ga.jpg"
    photo.write_bytes(jpeg_bytes(320, 240, with_exif_gps=True))
    citizen = Person(runtime, "lan", "Lan")

    welcome = texts_of(await citizen.say("/start"))
    assert "Xã Hà Bắc" in welcome
    assert "dữ liệu cá nhân" in welcome.lower()
    assert [o.label for o in citizen.last.options] == [
        "Gửi phản ánh, kiến nghị",
        "Hỏi đáp",
        "Tra cứu hồ sơ",
        "Phản ánh của tôi",
    ]

    await file_until_contact(citizen, photo=photo)
    await citizen.say("Trần Thị Lan")
    summary = texts_of(await citizen.say("+84 912-345-678"))
    assert "Giao thông, điện, nước, hạ tầng" in summary
    assert "Thôn Đông" in summary
    assert "Trần Thị Lan – 0912345678" in summary
    assert "Ảnh: 1" in summary

    confirmation = texts_of(await citizen.choose("Gửi"))
    assert "Mã hồ sơ: HB-2026-00001" in confirmation
    assert "Phòng Kinh tế" in confirmation
    # 10 working days from Monday 23/11/2026; Tuesday 24/11 is a holiday.
    assert "Hạn trả lời dự kiến: 08/12/2026 (10 ngày làm việc)" in confirmation

    with runtime.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert (case.kind, case.category, case.unit, case.status) == (
            "phan_anh_kien_nghi",
            "giao_thong_ha_tang",
            "kinh_te",
            "new",
        )
        assert case.village == "Thôn Đông"
        contact = session.get_one(CaseContact, case.id)
        assert (contact.name, contact.phone) == ("Trần Thị Lan", "0912345678")
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
        assert [e.kind for e in events] == ["created"]
        attachment = session.scalars(select(Attachment)).one()
        assert attachment.case_id == case.id
        stored = (runtime.config.storage.attachments_dir / attachment.path).read_bytes()
    # The photo was kept, but the GPS position written by the phone was removed.
    assert exif_gps(photo.read_bytes())
    assert not has_exif(stored)


async def test_tracking_own_case_and_not_someone_elses(runtime):
    lan = Person(runtime, "lan")
    await file_until_contact(lan)
    await lan.choose("ẩn danh")
    await lan.choose("Gửi")

    status = texts_of(await lan.say("/tracuu hb-2026-1"))
    assert "Hồ sơ HB-2026-00001" in status
    assert "Đã gửi, chờ tiếp nhận" in status
    assert "Phòng Kinh tế" in status
    assert "Đã nhận hồ sơ" in status

    other = Person(runtime, "binh")
    answer = texts_of(await other.say("/tracuu HB-2026-00001"))
    assert "Không tìm thấy hồ sơ HB-2026-00001" in answer
    assert "Phòng Kinh tế" not in answer
    assert "Không tìm thấy hồ sơ HB-2026-00099" in texts_of(
        await other.say("/tracuu HB-2026-00099")
    )

    mine = await lan.choose("Phản ánh của tôi")
    assert any("HB-2026-00001" in o.label for o in mine[-1].options)
    assert "Hồ sơ HB-2026-00001" in texts_of(await lan.choose("HB-2026-00001"))


async def test_cancel_at_any_step_discards_the_draft(runtime):
    citizen = Person(runtime, "lan")
    await citizen.say("/start")
    await citizen.choose("Gửi phản ánh")
    await citizen.choose("Phản ánh")
    replies = await citizen.say("/huy")
    assert "Đã hủy" in texts_of(replies)
    # Nothing left to resume: filing starts again from the kind.
    assert "Bạn muốn phản ánh việc gì?" in texts_of(await citizen.choose("Gửi phản ánh"))
    assert "Đã hủy" in texts_of(await citizen.say("hủy"))


async def test_unfinished_draft_is_offered_again_and_expires_after_a_day(runtime, clock):
    citizen = Person(runtime, "lan")
    await citizen.say("/start")
    await citizen.choose("Gửi phản ánh")
    await citizen.choose("Khiếu nại")
    await citizen.choose("Đất đai")
    await citizen.say("/start")
    offer = texts_of(await citizen.choose("Gửi phản ánh"))
    assert "Tiếp tục hồ sơ đang soạn?" in offer
    assert "khiếu nại" in offer
    assert "Bạn mô tả sự việc" in texts_of(await citizen.choose("Tiếp tục"))

    clock.advance(timedelta(hours=25))
    assert "Bạn muốn phản ánh việc gì?" in texts_of(await _menu_file(citizen))


async def _menu_file(citizen: Person):
    await citizen.say("/start")
    return await citizen.choose("Gửi phản ánh")


async def test_bad_inputs_get_a_clear_answer_and_keep_the_draft(runtime, tmp_path: Path):
    citizen = Person(runtime, "lan")
    await citizen.say("/start")
    await citizen.choose("Gửi phản ánh")
    await citizen.choose("Phản ánh")
    # Typing instead of choosing.
    assert "chọn một mục" in texts_of(await citizen.say("không biết chọn gì"))
    await citizen.choose("Môi trường")
    assert "ngắn quá" in texts_of(await citizen.say("rác"))
    too_long = "Bãi rác tự phát cạnh kênh. " * 100
    long_reply = texts_of(await citizen.say(too_long))
    assert "quá giới hạn 2000 ký tự" in long_reply
    assert "đã lưu tạm" in long_reply
    await citizen.choose("phần đầu")
    # A broken "photo" is refused, the draft stays.
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not really a jpeg")
    assert "không phải ảnh" in texts_of(await citizen.send_photo(broken))
    await citizen.choose("Bỏ qua")
    await citizen.choose("Nhập địa chỉ")
    await citizen.say("<b>Xóm 3</b> & *ngõ 5*")
    assert "Họ tên chưa hợp lệ" in texts_of(await citizen.say("12345"))
    await citizen.say("Lê Văn Bình")
    assert "Số điện thoại chưa đúng" in texts_of(await citizen.say("0123"))
    assert "Số điện thoại chưa đúng" in texts_of(await citizen.say("0212345678"))
    summary = texts_of(await citizen.say("0987.654.321"))
    # Markup-looking text is kept literally.
    assert "<b>Xóm 3</b> & *ngõ 5*" in summary
    assert "Lê Văn Bình – 0987654321" in summary
    await citizen.choose("Gửi")
    with runtime.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert len(case.content) == 2000
        assert case.address == "<b>Xóm 3</b> & *ngõ 5*"


async def test_unicode_is_stored_in_nfc(runtime):
    citizen = Person(runtime, "lan")
    await citizen.say("/start")
    await citizen.choose("Gửi phản ánh")
    await citizen.choose("Phản ánh")
    await citizen.choose("Khác")
    decomposed = "Đề nghị sửa cầu thôn Hạ, tiếng Việt tổ hợp".replace("ề", "ê\u0300")
    await citizen.say(decomposed)
    await citizen.choose("Bỏ qua")
    await citizen.choose("Bỏ qua")
    await citizen.choose("ẩn danh")
    await citizen.choose("Gửi")
    with runtime.db.transaction() as session:
        content = session.scalars(select(Case.content)).one()
    assert "Đề nghị" in content and "\u0300" not in content


async def test_complaint_needs_a_name_and_explains_why(runtime):
    citizen = Person(runtime, "lan")
    await file_until_contact(citizen, kind="Khiếu nại")
    ask = texts_of(citizen.transcript[-1:])
    assert "Luật Khiếu nại, Điều 8" in ask
    assert all("ẩn danh" not in o.label for o in citizen.last.options)
    await citizen.say("Phạm Văn Cường")
    await citizen.say("0903123456")
    confirmation = texts_of(await citizen.choose("Gửi"))
    assert "Văn phòng HĐND và UBND xã" in confirmation
    # Acceptance within 10 calendar days: 03/12/2026.
    assert "Hạn thông báo thụ lý hoặc không thụ lý: 03/12/2026 (10 ngày)" in confirmation
    assert "chữ ký hoặc điểm chỉ" in confirmation


async def test_denunciation_keeps_identity_apart_from_the_case(runtime):
    citizen = Person(runtime, "lan")
    await file_until_contact(citizen, kind="Tố cáo")
    assert "giữ bí mật" in citizen.last.text
    await citizen.say("Nguyễn Thị Hoa")
    await citizen.say("0933111222")
    confirmation = texts_of(await citizen.choose("Gửi"))
    assert "Hạn xử lý ban đầu đơn tố cáo: 03/12/2026 (7 ngày làm việc)" in confirmation
    with runtime.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.kind == "to_cao" and case.unit == "van_phong"
        assert "Nguyễn Thị Hoa" not in case.content
        assert session.get_one(CaseContact, case.id).name == "Nguyễn Thị Hoa"


async def test_editing_a_field_from_the_summary(runtime):
    citizen = Person(runtime, "lan")
    await file_until_contact(citizen)
    await citizen.choose("ẩn danh")
    await citizen.choose("Sửa")
    await citizen.choose("Lĩnh vực")
    summary = texts_of(await citizen.choose("Môi trường"))
    assert "Lĩnh vực: Môi trường, rác thải, ô nhiễm" in summary
    assert "Thôn Đông" in summary


async def test_daily_limit(runtime, config: AppConfig):
    citizen = Person(runtime, "lan")
    for _ in range(config.limits.max_cases_per_person_per_day):
        await file_until_contact(citizen)
        await citizen.choose("ẩn danh")
        await citizen.choose("Gửi")
    await citizen.say("/start")
    refused = texts_of(await citizen.choose("Gửi phản ánh"))
    assert "mức tối đa trong một ngày" in refused
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 5
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.flow is None
