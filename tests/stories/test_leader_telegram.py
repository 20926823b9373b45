"""Leaders and heads: ratings and reopening, the weekly report, /thongke and /baocao
(real python-telegram-bot against the fake Bot API server)."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from bot.demo import seed_demo
from bot.reports.export import SUMMARY_COLUMNS, SUMMARY_HEADER_ROW, SUMMARY_SHEET
from bot.reports.periods import parse_period
from storage.models import Case, CaseEvent
from tests.conftest import HCM
from tests.harness import TelegramUser, invite_code

CITIZEN = 9001
OFFICER = 9101
HEAD = 9201
LEADER = 9301


async def staff(server, bot) -> tuple[TelegramUser, TelegramUser, TelegramUser]:
    officer = TelegramUser(server, bot, OFFICER, "Kế")
    await officer.say(f"/dangky {invite_code(bot, 'officer', 'kinh_te')}")
    head = TelegramUser(server, bot, HEAD, "Trưởng phòng")
    await head.say(f"/dangky {invite_code(bot, 'head', 'kinh_te')}")
    leader = TelegramUser(server, bot, LEADER, "Chủ tịch")
    await leader.say(f"/dangky {invite_code(bot, 'leader')}")
    return officer, head, leader


async def answered_case(server, bot, officer: TelegramUser) -> TelegramUser:
    citizen = TelegramUser(server, bot, CITIZEN, "Mai")
    await citizen.say("/start")
    await citizen.press("Gửi phản ánh")
    await citizen.say("Cống thoát nước trước chợ thôn Đông bị tắc, nước tràn lên đường.")
    await citizen.press("Bỏ qua")
    await citizen.press("Thôn Đông")
    await citizen.press("ẩn danh")
    await citizen.press("Gửi")
    await officer.press("Tiếp nhận")
    await officer.press("Trả lời")
    await officer.say("Xã đã cho nạo vét cống, đường đã hết ngập.")
    await officer.press("Gửi")
    assert "Bạn có hài lòng với kết quả giải quyết không?" in (citizen.last.text or "")
    return citizen


def case_and_events(bot) -> tuple[Case, list[str]]:
    with bot.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        events = [
            e.kind
            for e in session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
            )
        ]
    return case, events


@pytest.mark.parametrize(
    ("label", "rating"), [("Rất hài lòng", "rat_hai_long"), ("Hài lòng", "hai_long")]
)
async def test_satisfied_rating_closes_the_case(server, bot, label, rating):
    officer, _head, _leader = await staff(server, bot)
    citizen = await answered_case(server, bot, officer)
    [thanks] = await citizen.press(label)
    assert "Cảm ơn bạn đã đánh giá" in (thanks.text or "")
    [noted] = await citizen.say("Cán bộ làm rất nhanh, cảm ơn xã.")
    assert "Cảm ơn góp ý" in (noted.text or "")
    case, events = case_and_events(bot)
    assert (case.status, case.rating) == ("closed", rating)
    assert events[-2:] == ["rated", "rating_comment"]


async def test_not_satisfied_reopens_once_with_a_new_deadline(server, bot, clock):
    officer, head, leader = await staff(server, bot)
    citizen = await answered_case(server, bot, officer)
    [offer] = await citizen.press("Chưa hài lòng")
    assert "đề nghị xem xét lại" in (offer.text or "")
    [ask_reason] = await citizen.press("Đề nghị xem xét lại")
    assert "lý do" in (ask_reason.text or "")
    [reopened] = await citizen.say("Trời mưa lại ngập, cống vẫn tắc một đoạn.")
    # Reopened on Monday 23/11/2026: 5 working days, 24/11 being a holiday → 01/12/2026.
    assert "Hạn trả lời mới: 01/12/2026" in (reopened.text or "")
    for person in (head, leader, officer):
        assert "đề nghị xem xét lại hồ sơ HB-2026-00001" in (person.last.text or "")
    case, events = case_and_events(bot)
    assert (case.status, case.reopened, case.rating) == ("open", 1, "chua_hai_long")
    assert "reopened" in events
    # Answered again and again not satisfied: no second reopening.
    await officer.say("/tracuu HB-2026-00001")
    await officer.press("Trả lời")
    await officer.say("Xã đã thông toàn bộ tuyến cống.")
    await officer.press("Gửi")
    [second] = await citizen.press("Chưa hài lòng")
    assert all("xem xét lại" not in label for label, _ in second.buttons)


async def test_no_rating_in_time_closes_the_case_unrated(server, bot, clock):
    officer, _head, _leader = await staff(server, bot)
    await answered_case(server, bot, officer)
    clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=HCM))  # 2 working days later
    assert (await bot.run_sweep()).closed_unrated == 0
    clock.set(datetime(2026, 11, 30, 7, 45, tzinfo=HCM))  # 3 working days have passed
    assert (await bot.run_sweep()).closed_unrated == 1
    case, events = case_and_events(bot)
    assert (case.status, case.rating) == ("closed", "khong_danh_gia")
    assert events[-1] == "closed"


async def test_weekly_report_reaches_leaders_and_heads_with_a_chart(server, bot, clock):
    _officer, head, leader = await staff(server, bot)
    seed_demo(bot.db, bot.config, clock, weeks=12, cases_per_week=25)
    clock.set(datetime(2026, 11, 30, 7, 30, tzinfo=HCM))  # Monday 07:30
    assert await bot.run_weekly_report() == 2
    await bot.dispatcher.flush()
    for person, title in ((leader, "Xã Hà Bắc"), (head, "Phòng Kinh tế")):
        photos = [m for m in person.received if m.method == "sendPhoto"]
        assert len(photos) == 1
        with Image.open(io.BytesIO(photos[0].photo or b"")) as image:
            assert image.format == "PNG" and image.width > 300
        text = person.last.text or ""
        assert title in text
        assert "23/11" in text and "29/11/2026" in text
    # Run again (restart, second process): nothing twice.
    assert await bot.run_weekly_report() == 0


async def test_a_week_without_cases_says_so_without_a_chart(server, bot, clock):
    _officer, _head, leader = await staff(server, bot)
    clock.set(datetime(2026, 11, 30, 7, 30, tzinfo=HCM))
    await bot.run_weekly_report()
    await bot.dispatcher.flush()
    assert "không có hồ sơ nào" in (leader.last.text or "")
    assert not any(m.method == "sendPhoto" for m in leader.received)


@pytest.mark.parametrize("form", ["tuan", "thang", "quy", "nam", "2026-10-01..2026-10-31"])
async def test_statistics_on_demand_for_each_period_form(server, bot, clock, form):
    _officer, head, leader = await staff(server, bot)
    seed_demo(bot.db, bot.config, clock, weeks=12, cases_per_week=20)
    replies = await leader.say(f"/thongke {form}")
    text = "\n".join(m.text or "" for m in replies)
    assert "Tiếp nhận" in text or "tiếp nhận" in text
    assert "Xã Hà Bắc" in text
    head_replies = await head.say(f"/thongke {form}")
    assert "Phòng Kinh tế" in "\n".join(m.text or "" for m in head_replies)


async def test_statistics_are_refused_to_a_citizen_and_bad_periods_explained(server, bot):
    _officer, _head, leader = await staff(server, bot)
    citizen = TelegramUser(server, bot, CITIZEN)
    [refusal] = await citizen.say("/thongke tuan")
    assert "chỉ dành cho lãnh đạo" in (refusal.text or "")
    [refused_file] = await citizen.say("/baocao 2026-6thang")
    assert "chỉ dành cho lãnh đạo" in (refused_file.text or "")
    [explained] = await leader.say("/thongke hôm qua kia")
    assert "Kỳ thống kê có thể là" in (explained.text or "")


async def test_report_file_matches_the_statistics_service(server, bot, clock):
    _officer, _head, leader = await staff(server, bot)
    seed_demo(bot.db, bot.config, clock, weeks=12, cases_per_week=25)
    replies = await leader.say("/baocao 2026-nam")
    [document] = [m for m in replies if m.method == "sendDocument"]
    assert (document.filename or "").endswith(".xlsx")
    book = load_workbook(io.BytesIO(document.document or b""), read_only=True)
    sheet = book[SUMMARY_SHEET]
    header = [
        c.value
        for c in next(sheet.iter_rows(min_row=SUMMARY_HEADER_ROW, max_row=SUMMARY_HEADER_ROW))
    ]
    total = [
        c.value
        for c in next(
            sheet.iter_rows(min_row=SUMMARY_HEADER_ROW + 1, max_row=SUMMARY_HEADER_ROW + 1)
        )
    ]
    period = parse_period("2026-nam", clock.now().astimezone(HCM).date())
    stats = bot.db.call(
        bot.services.extras["stats"].summary, period, as_of=clock.now(), compare=False
    )
    for column in SUMMARY_COLUMNS:
        if column.number != "count":
            continue
        value = total[header.index(column.header)]
        assert value == getattr(stats, column.field), column.header
    assert stats.received > 100
