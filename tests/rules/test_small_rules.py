"""Phone numbers, tracking codes and delivery windows."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_config
from bot.rules.codes import format_code, parse_code
from bot.rules.deadlines import DeadlineCalculator
from bot.rules.delivery_windows import DeliveryWindows
from bot.rules.phone import mask, normalize_mobile
from tests.conftest import REPO

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("+84 912-345-678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0084.912.345.678", "0912345678"),
        ("(+84) 386 123 456", "0386123456"),
        ("0212345678", None),  # landline-like prefix
        ("091234567", None),
        ("09123456789", None),
        ("số của tôi", None),
    ],
)
def test_vietnamese_mobile_numbers(typed, stored):
    assert normalize_mobile(typed) == stored


def test_masking_keeps_the_last_digits():
    assert mask("0912345678") == "*******678"


@pytest.mark.parametrize(
    "typed", ["HB-2026-00042", "hb-2026-42", "HB 2026 00042", "hb202600042", " Hb-2026-0042 "]
)
def test_tracking_codes_typed_any_way(typed):
    assert parse_code(typed) == "HB-2026-00042"


def test_not_a_code():
    assert parse_code("HB-26-1") is None
    assert parse_code("xin chào") is None
    assert format_code("HB", 2026, 123456) == "HB-2026-123456"


@pytest.fixture
def windows() -> DeliveryWindows:
    config = load_config(REPO / "config.toml", env={})
    calculator = DeadlineCalculator(config.calendar, HCM)
    return DeliveryWindows(
        calculator,
        office_time=config.reminders.office_time,
        quiet_start=config.reminders.citizen_quiet_start,
        quiet_end=config.reminders.citizen_quiet_end,
    )


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=HCM)


def test_staff_are_messaged_in_office_time_on_working_days(windows):
    assert windows.staff_not_before(local("2026-11-23T09:00")) is None
    assert windows.staff_not_before(local("2026-11-23T06:00")) == local("2026-11-23T07:30")
    # Monday night → Wednesday (Tuesday 24/11 is a holiday).
    assert windows.staff_not_before(local("2026-11-23T22:00")) == local("2026-11-25T07:30")
    # Saturday → Monday.
    assert windows.staff_not_before(local("2026-11-28T10:00")) == local("2026-11-30T07:30")


def test_citizens_are_not_messaged_at_night(windows):
    assert windows.citizen_not_before(local("2026-11-28T10:00")) is None
    assert windows.citizen_not_before(local("2026-11-28T21:30")) == local("2026-11-29T07:00")
    assert windows.citizen_not_before(local("2026-11-29T05:00")) == local("2026-11-29T07:00")
