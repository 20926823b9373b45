"""Officer stories on the console channel: the work list, waiting for the citizen."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import AppConfig
from storage.models import Case
from tests.harness import Person, running_console, texts_of


async def file(citizen: Person, text: str) -> None:
    await citizen.say("/start")
    await citizen.choose("Gửi phản ánh")
    await citizen.say(text)
    await citizen.choose("Bỏ qua")
    await citizen.choose("Thôn Nam")
    await citizen.choose("ẩn danh")
    await citizen.choose("Gửi")


@pytest.mark.parametrize("pause", [False, True])
async def test_waiting_for_the_citizen_follows_the_configured_policy(
    config: AppConfig, clock: FakeClock, pause: bool
):
    config = replace(config, deadlines=replace(config.deadlines, pause_while_waiting=pause))
    async with running_console(config, clock) as runtime:
        officer = Person(runtime, "ke")
        await officer.register("officer", "kinh_te")
        citizen = Person(runtime, "lan")
        await file(citizen, "Rác thải đổ trộm cạnh kênh thôn Nam, bốc mùi hôi thối.")
        await officer.choose("Tiếp nhận")
        await officer.choose("Hỏi thêm")
        await officer.say("Bãi rác ở đầu hay cuối kênh?")
        assert "cần bạn bổ sung thông tin" in citizen.last.text
        # The citizen answers the next Monday: Wed 25, Thu 26, Fri 27 and Mon 30 passed.
        clock.advance(timedelta(days=7))
        replies = await citizen.say("Ở cuối kênh, gần cống số 3.")
        assert "đã được chuyển cho cán bộ" in texts_of(replies)
        assert "Ở cuối kênh, gần cống số 3." in officer.last.text
        with runtime.db.transaction() as session:
            case = session.scalars(select(Case)).one()
            due = runtime.services.deadlines.local_date(case.due_at)
        assert case.status == "open"
        assert due.isoformat() == ("2026-12-14" if pause else "2026-12-08")


async def test_work_list_puts_overdue_cases_first(config: AppConfig, clock: FakeClock):
    async with running_console(config, clock) as runtime:
        officer = Person(runtime, "ke")
        await officer.register("officer", "kinh_te")
        citizen = Person(runtime, "lan")
        await file(citizen, "Đèn đường trục chính thôn Nam không sáng.")
        clock.advance(timedelta(days=20))
        await file(citizen, "Cống thoát nước trước chợ bị tắc, nước tràn lên đường.")
        [listing] = await officer.say("/viec")
        labels = [o.label for o in listing.options]
        assert labels[0].startswith("⚠️ HB-2026-00001")
        assert labels[1].startswith("HB-2026-00002")
        citizen_list = await citizen.say("/viec")
        assert "chỉ dành cho cán bộ" in texts_of(citizen_list)


async def test_an_officer_of_another_unit_cannot_open_the_case(config: AppConfig, clock: FakeClock):
    async with running_console(config, clock) as runtime:
        kinh_te = Person(runtime, "ke")
        await kinh_te.register("officer", "kinh_te")
        y_te = Person(runtime, "yte")
        await y_te.register("officer", "y_te")
        citizen = Person(runtime, "lan")
        await file(citizen, "Đèn đường trục chính thôn Nam không sáng.")
        refused = texts_of(await y_te.say("/tracuu HB-2026-00001"))
        assert "Không tìm thấy hồ sơ HB-2026-00001" in refused


async def test_a_refused_extension_keeps_the_deadline(config: AppConfig, clock: FakeClock):
    async with running_console(config, clock) as runtime:
        officer = Person(runtime, "ke")
        await officer.register("officer", "kinh_te")
        leader = Person(runtime, "chu-tich")
        await leader.register("leader")
        citizen = Person(runtime, "lan")
        await file(citizen, "Mương thoát nước thôn Nam bị vỡ một đoạn dài.")
        await officer.choose("Tiếp nhận")
        await officer.choose("gia hạn")
        await officer.say("Chờ kinh phí sửa chữa.")
        assert "Ngày chưa đúng" in texts_of(await officer.say("mai kia"))
        assert "phải sau hạn hiện tại" in texts_of(await officer.say("01/12/2026"))
        await officer.say("15/12/2026")
        assert "Đề nghị gia hạn hồ sơ HB-2026-00001" in leader.last.text
        assert "Đã từ chối gia hạn" in texts_of(await leader.choose("Không đồng ý"))
        assert "không được đồng ý" in officer.last.text
        assert "gia hạn" not in citizen.last.text
        with runtime.db.transaction() as session:
            case = session.scalars(select(Case)).one()
        assert case.extensions == 0
        assert runtime.services.deadlines.local_date(case.due_at).isoformat() == "2026-12-08"
