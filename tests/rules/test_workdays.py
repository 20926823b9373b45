"""Working-day calendar: Vietnamese holidays 2026–2027, config overrides, fast paths."""

from __future__ import annotations

import random
import time
import tomllib
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.configerror import ConfigError
from bot.rules.workdays import DEFAULT_DAY_OFF_LABEL, WorkCalendar

CONFIG = Path(__file__).resolve().parents[2] / "config.toml"


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    """The calendar as configured in the sample config.toml."""
    with CONFIG.open("rb") as f:
        config = tomllib.load(f)
    return WorkCalendar.from_config(config["holidays"])


@pytest.fixture(scope="module")
def plain() -> WorkCalendar:
    """No overrides at all: only the `holidays` package."""
    return WorkCalendar()


def d(text: str) -> date:
    return date.fromisoformat(text)


def days(first: str, last: str) -> list[date]:
    a, b = d(first), d(last)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


# ---------------------------------------------------------------- holidays


def test_tet_2026_is_off_and_named(cal: WorkCalendar) -> None:
    for day in days("2026-02-16", "2026-02-20"):
        assert not cal.is_working_day(day), day
        name = cal.holiday_name(day)
        assert name is not None and "Tết" in name
    assert cal.is_working_day(d("2026-02-13"))  # Friday before Tết
    assert cal.is_working_day(d("2026-02-23"))  # Monday after
    assert cal.holiday_name(d("2026-02-17")) == "Tết Nguyên Đán"


def test_tet_2026_case_received_friday_before_tet(cal: WorkCalendar) -> None:
    # Fri 13/2 received; Mon 16 – Fri 20 Tết, weekend; day 1 = Mon 23/2, day 2 = Tue 24/2.
    assert cal.add_working_days(d("2026-02-13"), 1) == d("2026-02-23")
    assert cal.add_working_days(d("2026-02-13"), 2) == d("2026-02-24")
    assert cal.working_days_between(d("2026-02-13"), d("2026-02-24")) == 2


def test_tet_2027(cal: WorkCalendar) -> None:
    for day in days("2027-02-04", "2027-02-10"):
        assert not cal.is_working_day(day), day
    assert cal.is_working_day(d("2027-02-03"))
    assert cal.is_working_day(d("2027-02-11"))
    assert cal.add_working_days(d("2027-02-03"), 1) == d("2027-02-11")
    assert cal.add_working_days(d("2027-02-03"), 3) == d("2027-02-15")
    assert cal.working_days_between(d("2027-02-01"), d("2027-02-12")) == 4  # 2, 3, 11, 12
    assert cal.holiday_name(d("2027-02-06")) == "Tết Nguyên Đán"


def test_30_4_and_1_5_2026_thursday_friday(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(d("2026-04-30"))
    assert not cal.is_working_day(d("2026-05-01"))
    assert cal.holiday_name(d("2026-04-30")) == "Ngày Chiến thắng"
    assert cal.holiday_name(d("2026-05-01")) == "Ngày Quốc tế Lao động"
    assert cal.add_working_days(d("2026-04-29"), 1) == d("2026-05-04")


def test_1_5_2027_saturday_observed_monday(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(d("2027-04-30"))  # Friday
    assert not cal.is_working_day(d("2027-05-03"))  # Monday, nghỉ bù for Sat 1/5
    name = cal.holiday_name(d("2027-05-03"))
    assert name is not None and "Lao động" in name
    assert cal.add_working_days(d("2027-04-29"), 1) == d("2027-05-04")


def test_2_9_2026_with_swap_and_working_saturday(cal: WorkCalendar) -> None:
    # 31/8 (Mon) is off, swapped with Saturday 22/8, which becomes a working day.
    for day in days("2026-08-31", "2026-09-02"):
        assert not cal.is_working_day(day), day
    assert cal.holiday_name(d("2026-09-02")) == "Quốc khánh"
    assert cal.is_working_day(d("2026-08-22"))
    assert cal.holiday_name(d("2026-08-22")) is None
    assert cal.add_working_days(d("2026-08-21"), 1) == d("2026-08-22")
    assert cal.working_days_between(d("2026-08-21"), d("2026-08-24")) == 2  # Sat 22, Mon 24
    assert cal.add_working_days(d("2026-08-28"), 1) == d("2026-09-03")


def test_working_saturday_from_config_wins_even_without_the_package(cal: WorkCalendar) -> None:
    # The config lists 22/8/2026; an override pointing the other way changes it back.
    assert cal.is_working_day(d("2026-08-22"))
    off = WorkCalendar(extra_days_off=[d("2026-08-22")])
    assert not off.is_working_day(d("2026-08-22"))
    assert off.holiday_name(d("2026-08-22")) == DEFAULT_DAY_OFF_LABEL


def test_24_11_2026_tuesday(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(d("2026-11-24"))
    assert cal.holiday_name(d("2026-11-24")) == "Ngày Văn hóa Việt Nam"
    assert cal.add_working_days(d("2026-11-23"), 1) == d("2026-11-25")
    assert cal.working_days_between(d("2026-11-20"), d("2026-11-27")) == 4


def test_gio_to_2026_sunday_with_monday_observed(cal: WorkCalendar) -> None:
    assert cal.holiday_name(d("2026-04-26")) == "Ngày Giỗ Tổ Hùng Vương"
    assert not cal.is_working_day(d("2026-04-27"))
    assert "nghỉ bù" in (cal.holiday_name(d("2026-04-27")) or "")
    assert cal.roll_forward(d("2026-04-25")) == d("2026-04-28")
    assert cal.day_off_reason(d("2026-04-25")) == "Thứ Bảy"
    assert cal.day_off_reason(d("2026-04-26")) == "Ngày Giỗ Tổ Hùng Vương"
    assert cal.day_off_reason(d("2026-04-28")) is None


def test_ordinary_weekend_has_no_holiday_name(cal: WorkCalendar) -> None:
    assert cal.holiday_name(d("2026-03-07")) is None
    assert cal.day_off_reason(d("2026-03-08")) == "Chủ nhật"
    assert cal.holiday_name(d("2026-03-09")) is None


# ---------------------------------------------------------------- arithmetic


def test_roll_forward(cal: WorkCalendar) -> None:
    assert cal.roll_forward(d("2026-03-09")) == d("2026-03-09")
    assert cal.roll_forward(d("2026-03-07")) == d("2026-03-09")
    assert cal.roll_forward(d("2026-02-14")) == d("2026-02-23")


def test_add_zero_rolls_forward(cal: WorkCalendar) -> None:
    assert cal.add_working_days(d("2026-03-10"), 0) == d("2026-03-10")
    assert cal.add_working_days(d("2026-03-07"), 0) == d("2026-03-09")


def test_negative_add(cal: WorkCalendar) -> None:
    # "2 working days before the due day" of Tue 24/2/2026 skips the Tết week.
    assert cal.add_working_days(d("2026-02-24"), -1) == d("2026-02-23")
    assert cal.add_working_days(d("2026-02-24"), -2) == d("2026-02-13")
    # From a day off, -1 is the last working day before it.
    assert cal.add_working_days(d("2026-03-08"), -1) == d("2026-03-06")
    assert cal.add_working_days(d("2026-09-03"), -1) == d("2026-08-28")
    assert cal.add_working_days(d("2026-08-24"), -1) == d("2026-08-22")


def test_working_days_between(cal: WorkCalendar) -> None:
    assert cal.working_days_between(d("2026-03-10"), d("2026-03-10")) == 0
    assert cal.working_days_between(d("2026-03-06"), d("2026-03-09")) == 1  # Fri → Mon
    assert cal.working_days_between(d("2026-03-07"), d("2026-03-08")) == 0  # Sat → Sun
    assert cal.working_days_between(d("2026-03-09"), d("2026-03-06")) == -1
    assert cal.working_days_between(d("2026-02-24"), d("2026-02-13")) == -2


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("2026-02-13", "2026-02-24"),
        ("2026-02-14", "2026-02-22"),
        ("2026-08-20", "2026-09-04"),
        ("2025-12-31", "2027-01-04"),
        ("2026-11-22", "2026-11-25"),
    ],
)
def test_working_days_between_is_antisymmetric(cal: WorkCalendar, a: str, b: str) -> None:
    forward = cal.working_days_between(d(a), d(b))
    assert cal.working_days_between(d(b), d(a)) == -forward
    assert forward == sum(cal.is_working_day(x) for x in days(a, b)[1:])


def test_2026_has_the_expected_number_of_working_days(plain: WorkCalendar) -> None:
    # 261 weekdays; off on weekdays: 1/1, Tết ×5, 27/4, 30/4, 1/5, 31/8, 1/9, 2/9, 24/11 = 13;
    # plus Saturday 22/8 worked (package swap list).
    assert plain.working_days_between(d("2025-12-31"), d("2026-12-31")) == 261 - 13 + 1


def test_fast_paths_agree_with_day_by_day(cal: WorkCalendar) -> None:
    rng = random.Random(20260213)
    start = d("2020-01-01").toordinal()
    for _ in range(300):
        a = date.fromordinal(start + rng.randrange(0, 7300))
        n = rng.randrange(-40, 41)
        got = cal.add_working_days(a, n)
        # day-by-day reference
        ref, step, left = a, timedelta(days=1 if n > 0 else -1), abs(n)
        if n == 0:
            while not cal.is_working_day(ref):
                ref += timedelta(days=1)
        while left:
            ref += step
            left -= cal.is_working_day(ref)
        assert got == ref, (a, n)
        b = a + timedelta(days=rng.randrange(-60, 61))
        lo, hi = min(a, b), max(a, b)
        count = sum(cal.is_working_day(lo + timedelta(days=i + 1)) for i in range((hi - lo).days))
        assert cal.working_days_between(a, b) == (count if b >= a else -count)


def test_dates_outside_the_range_use_the_slow_path(plain: WorkCalendar) -> None:
    narrow = WorkCalendar(first_year=2026, last_year=2026)
    rng = random.Random(7)
    base = d("2025-06-01").toordinal()
    for _ in range(150):
        a = date.fromordinal(base + rng.randrange(0, 900))
        b = date.fromordinal(base + rng.randrange(0, 900))
        n = rng.randrange(-25, 26)
        assert narrow.is_working_day(a) == plain.is_working_day(a), a
        assert narrow.add_working_days(a, n) == plain.add_working_days(a, n), (a, n)
        assert narrow.working_days_between(a, b) == plain.working_days_between(a, b), (a, b)
        assert narrow.roll_forward(a) == plain.roll_forward(a)
    assert narrow.holiday_name(d("2027-02-06")) == "Tết Nguyên Đán"
    assert narrow.non_working_days(d("2025-12-30"), d("2026-01-05")) == plain.non_working_days(
        d("2025-12-30"), d("2026-01-05")
    )


def test_add_running_past_the_end_of_the_range() -> None:
    narrow = WorkCalendar(first_year=2026, last_year=2026)
    assert narrow.add_working_days(d("2026-12-30"), 2) == d("2027-01-04")  # 31/12, (1/1 off), 4/1
    assert narrow.roll_forward(d("2026-12-31")) == d("2026-12-31")
    assert narrow.add_working_days(d("2027-01-04"), -2) == d("2026-12-30")


def test_non_working_days(cal: WorkCalendar) -> None:
    got = cal.non_working_days(d("2026-02-13"), d("2026-02-23"))
    assert got == days("2026-02-14", "2026-02-22")
    assert cal.non_working_days(d("2026-08-21"), d("2026-08-24")) == [d("2026-08-23")]
    assert cal.non_working_days(d("2026-03-10"), d("2026-03-01")) == []


def test_range_properties(cal: WorkCalendar) -> None:
    assert cal.first_day == d("2020-01-01")
    assert cal.last_day == d("2040-12-31")
    ordinals = cal.working_day_ordinals()
    assert list(ordinals) == sorted(ordinals)
    assert d("2026-02-13").toordinal() in ordinals
    assert d("2026-02-16").toordinal() not in ordinals


# ---------------------------------------------------------------- overrides


def test_extra_day_off_changes_results() -> None:
    base = WorkCalendar()
    longer_tet = WorkCalendar(extra_days_off={d("2026-02-13"): "Nghỉ Tết (bổ sung)"})
    assert not longer_tet.is_working_day(d("2026-02-13"))
    assert longer_tet.holiday_name(d("2026-02-13")) == "Nghỉ Tết (bổ sung)"
    assert base.add_working_days(d("2026-02-12"), 2) == d("2026-02-23")
    assert longer_tet.add_working_days(d("2026-02-12"), 2) == d("2026-02-24")
    assert longer_tet.working_days_between(d("2026-02-01"), d("2026-02-28")) == (
        base.working_days_between(d("2026-02-01"), d("2026-02-28")) - 1
    )


def test_extra_working_saturday_changes_results() -> None:
    base = WorkCalendar()
    swapped = WorkCalendar(extra_working_days=[d("2027-02-20")])  # a Saturday
    assert not base.is_working_day(d("2027-02-20"))
    assert swapped.is_working_day(d("2027-02-20"))
    assert base.add_working_days(d("2027-02-19"), 1) == d("2027-02-22")
    assert swapped.add_working_days(d("2027-02-19"), 1) == d("2027-02-20")
    assert swapped.working_days_between(d("2027-02-19"), d("2027-02-22")) == 2


def test_override_can_make_a_holiday_working_and_works_outside_the_range() -> None:
    cal = WorkCalendar(
        extra_working_days=[d("2026-11-24")],
        extra_days_off=[d("2045-03-15")],  # a Wednesday, beyond last_year
    )
    assert cal.is_working_day(d("2026-11-24"))
    assert cal.holiday_name(d("2026-11-24")) is None
    assert not cal.is_working_day(d("2045-03-15"))
    assert cal.add_working_days(d("2045-03-14"), 1) == d("2045-03-16")
    assert cal.holiday_name(d("2045-03-15")) == DEFAULT_DAY_OFF_LABEL


def test_constructor_rejects_contradictions() -> None:
    with pytest.raises(ValueError, match="both"):
        WorkCalendar(extra_days_off=[d("2026-02-13")], extra_working_days=[d("2026-02-13")])
    with pytest.raises(ValueError, match="after"):
        WorkCalendar(first_year=2030, last_year=2020)


# ---------------------------------------------------------------- config


def test_from_config_accepts_strings_dates_and_tables() -> None:
    cal = WorkCalendar.from_config(
        {
            "extra_days_off": [
                "2026-02-13",
                date(2026, 2, 12),
                {"date": "2026-02-11", "name": "Nghỉ Tết theo thông báo của tỉnh"},
            ],
            "extra_working_days": ["2026-02-28"],
        }
    )
    assert cal.holiday_name(d("2026-02-13")) == DEFAULT_DAY_OFF_LABEL
    assert not cal.is_working_day(d("2026-02-12"))
    assert cal.holiday_name(d("2026-02-11")) == "Nghỉ Tết theo thông báo của tỉnh"
    assert cal.is_working_day(d("2026-02-28"))


def test_from_config_empty_table() -> None:
    assert WorkCalendar.from_config({}).is_working_day(d("2026-08-22"))  # package swap list


@pytest.mark.parametrize(
    ("table", "key"),
    [
        (
            {"extra_days_off": ["2026-02-13", "2026-02-12", "13/02/2026"]},
            "holidays.extra_days_off[2]",
        ),
        ({"extra_days_off": ["2026-02-30"]}, "holidays.extra_days_off[0]"),
        ({"extra_days_off": [20260213]}, "holidays.extra_days_off[0]"),
        ({"extra_days_off": "2026-02-13"}, "holidays.extra_days_off"),
        ({"extra_working_days": ["2026-08-22", "2026-08-22"]}, "holidays.extra_working_days[1]"),
        (
            {"extra_days_off": ["2026-08-22"], "extra_working_days": ["2026-08-22"]},
            "holidays.extra_working_days[0]",
        ),
        ({"extra_day_off": []}, "holidays.extra_day_off"),
        ({"extra_days_off": [{"name": "x"}]}, "holidays.extra_days_off[0].date"),
        ({"extra_days_off": [{"date": "2026-13-01"}]}, "holidays.extra_days_off[0].date"),
        (
            {"extra_days_off": [{"date": "2026-02-13", "name": ""}]},
            "holidays.extra_days_off[0].name",
        ),
        (
            {"extra_days_off": [{"date": "2026-02-13", "label": "x"}]},
            "holidays.extra_days_off[0].label",
        ),
    ],
)
def test_from_config_errors_name_the_key(table: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        WorkCalendar.from_config(table)
    assert info.value.key == key
    assert key in str(info.value)


# ---------------------------------------------------------------- speed


def test_100k_calls_are_fast(cal: WorkCalendar) -> None:
    rng = random.Random(1)
    base = d("2024-01-01").toordinal()
    starts = [date.fromordinal(base + rng.randrange(0, 1500)) for _ in range(100_000)]
    ns = [rng.randrange(-10, 31) for _ in range(100_000)]
    t0 = time.perf_counter()
    ends = [cal.add_working_days(s, n) for s, n in zip(starts, ns, strict=True)]
    t1 = time.perf_counter()
    total = sum(cal.working_days_between(s, e) for s, e in zip(starts, ends, strict=True))
    t2 = time.perf_counter()
    assert total != 0
    assert t1 - t0 < 1.0, f"100k add_working_days took {t1 - t0:.3f}s"
    assert t2 - t1 < 1.0, f"100k working_days_between took {t2 - t1:.3f}s"
