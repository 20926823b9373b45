"""Reminders and escalation with an injected clock: each reaches the officer, the unit head
and the leaders exactly once, in office hours on working days only."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config import AppConfig
from storage.models import OutboxMessage
from tests.conftest import HCM
from tests.harness import Person, console_runtime, invite_code, texts_of


def at(day: str, clock_time: str = "07:30") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock_time}:00").replace(tzinfo=HCM)


@pytest.fixture
async def commune(config: AppConfig, clock: FakeClock):
    runtime = console_runtime(config, clock)
    officer = Person(runtime, "ke", "Kế")
    head = Person(runtime, "truong-phong", "Trưởng phòng")
    leader = Person(runtime, "chu-tich", "Chủ tịch")
    await officer.say(f"/dangky {invite_code(runtime, 'officer', 'kinh_te')}")
    await head.say(f"/dangky {invite_code(runtime, 'head', 'kinh_te')}")
    await leader.say(f"/dangky {invite_code(runtime, 'leader')}")
    citizen = Person(runtime, "lan")
    await citizen.say("/start")
    await citizen.choose("Gửi phản ánh")
    await citizen.choose("Phản ánh")
    await citizen.choose("Môi trường")
    await citizen.say("Xưởng gỗ đốt phế liệu gây khói cả xóm mỗi tối.")
    await citizen.choose("Bỏ qua")
    await citizen.choose("Thôn Đông")
    await citizen.choose("ẩn danh")
    await citizen.choose("Gửi")
    yield runtime, officer, head, leader
    await runtime.dispatcher.stop()
    runtime.db.close()


async def sweep_at(runtime, clock: FakeClock, moment: datetime):
    clock.set(moment)
    result = await runtime.run_sweep()
    await runtime.dispatcher.flush()
    return result


def reminder_rows(runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.purpose.like("reminder_%"))
        )


async def test_new_case_reaches_the_officer_at_once(commune):
    _runtime, officer, head, _leader = commune
    assert "Hồ sơ mới HB-2026-00001" in texts_of(officer.transcript)
    assert "Hồ sơ mới" not in texts_of(head.transcript)


async def test_reminders_before_and_on_the_due_day_once_each(commune, clock):
    runtime, officer, head, leader = commune
    await officer.choose("Tiếp nhận")
    # Due Tuesday 08/12/2026; two working days before is Friday 04/12.
    assert (await sweep_at(runtime, clock, at("2026-12-03"))).queued == 0
    early = await sweep_at(runtime, clock, at("2026-12-04", "07:29"))
    assert not early.ran, "nothing before office time"
    before = len(officer.transcript)
    assert (await sweep_at(runtime, clock, at("2026-12-04", "07:30"))).queued == 1
    assert "còn 2 ngày làm việc đến hạn giải quyết (08/12/2026)" in texts_of(
        officer.transcript[before:]
    )
    # The same sweep again, later the same day: nothing new.
    assert (await sweep_at(runtime, clock, at("2026-12-04", "15:00"))).queued == 0
    due = await sweep_at(runtime, clock, at("2026-12-08", "08:00"))
    assert due.by_kind == {"due": 1}
    assert "Hôm nay là hạn giải quyết hồ sơ HB-2026-00001" in officer.last.text
    assert reminder_rows(runtime) == 2
    assert not any("Nhắc việc" in m.text for m in head.transcript + leader.transcript)


async def test_overdue_goes_to_officer_and_head_daily_and_to_leaders_after_three_days(
    commune, clock
):
    runtime, officer, head, leader = commune
    await officer.choose("Tiếp nhận")
    first = await sweep_at(runtime, clock, at("2026-12-09", "09:00"))
    assert first.by_kind["overdue"] == 2
    assert "quá hạn 1 ngày làm việc" in officer.last.text
    assert "quá hạn 1 ngày làm việc" in head.last.text
    assert "Tổng hợp hồ sơ quá hạn" not in texts_of(leader.transcript)

    second = await sweep_at(runtime, clock, at("2026-12-10", "09:00"))
    assert dict(second.by_kind) == {"overdue": 2}
    third = await sweep_at(runtime, clock, at("2026-12-11", "09:00"))
    assert third.by_kind["leaders"] == 1
    digest = leader.last.text
    assert "Tổng hợp hồ sơ quá hạn từ 3 ngày làm việc trở lên: 1 hồ sơ" in digest
    assert "HB-2026-00001 – Phòng Kinh tế – quá hạn 3 ngày làm việc" in digest
    # Saturday, and Tuesday night: nothing.
    assert not (await sweep_at(runtime, clock, at("2026-12-12", "09:00"))).ran
    assert not (await sweep_at(runtime, clock, at("2026-12-15", "22:00"))).ran


async def test_unopened_case_is_escalated_to_the_head_once(commune, clock):
    runtime, officer, head, _leader = commune
    # Taken-up limit: 2 working days from Monday 23/11 (24/11 is a holiday) = Thursday 26/11.
    assert (await sweep_at(runtime, clock, at("2026-11-26", "10:00"))).by_kind.get(
        "unopened"
    ) is None
    result = await sweep_at(runtime, clock, at("2026-11-27", "07:30"))
    assert result.by_kind["unopened"] == 1
    assert "chưa được tiếp nhận sau thời hạn" in head.last.text
    assert (await sweep_at(runtime, clock, at("2026-11-30", "07:30"))).by_kind.get(
        "unopened"
    ) is None
    # Once the officer takes the case up, no more escalation.
    await officer.say("/tracuu HB-2026-00001")
    assert "Đã tiếp nhận hồ sơ" in texts_of(await officer.choose("Tiếp nhận"))
    later = await sweep_at(runtime, clock, at("2026-12-01", "07:30"))
    assert "unopened" not in later.by_kind


async def test_nothing_on_a_holiday(config: AppConfig, clock: FakeClock):
    runtime = console_runtime(config, clock)
    try:
        clock.set(at("2027-01-01", "09:00"))  # Tết Dương lịch, a Friday
        assert not (await runtime.run_sweep()).ran
        clock.set(at("2026-11-24", "09:00"))  # Ngày Văn hóa Việt Nam
        assert not (await runtime.run_sweep()).ran
    finally:
        await runtime.dispatcher.stop()
        runtime.db.close()


async def test_restart_between_sweeps_sends_each_reminder_once(commune, clock, config):
    runtime, officer, _head, _leader = commune
    await officer.choose("Tiếp nhận")
    await sweep_at(runtime, clock, at("2026-12-09", "09:00"))
    sent_before = reminder_rows(runtime)
    restarted = console_runtime(config, clock)
    try:
        again = await restarted.run_sweep()
        assert again.ran and again.queued == 0
        assert reminder_rows(restarted) == sent_before
    finally:
        await restarted.dispatcher.stop()
        restarted.db.close()
