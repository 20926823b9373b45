"""Period parsing: /thongke forms relative to today, and the NĐ 09/2019 reporting cycle."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.reports.periods import (
    Period,
    PeriodError,
    last_week,
    parse_period,
    reporting_period,
    this_week,
    week_of,
    year_to_date,
)
from tests.reports import HCM

TODAY = date(2026, 11, 25)  # a Wednesday


def days(period: Period) -> tuple[date, date]:
    return period.first_day, period.last_day


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("tuan", date(2026, 11, 23), date(2026, 11, 25)),
        ("Tuần", date(2026, 11, 23), date(2026, 11, 25)),
        ("tuan-truoc", date(2026, 11, 16), date(2026, 11, 22)),
        ("tuần trước", date(2026, 11, 16), date(2026, 11, 22)),
        ("thang", date(2026, 11, 1), date(2026, 11, 25)),
        ("thang-truoc", date(2026, 10, 1), date(2026, 10, 31)),
        ("quy", date(2026, 10, 1), date(2026, 11, 25)),
        ("quý trước", date(2026, 7, 1), date(2026, 9, 30)),
        ("nam", date(2026, 1, 1), date(2026, 11, 25)),
        ("năm trước", date(2025, 1, 1), date(2025, 12, 31)),
        ("2026-10-01..2026-10-31", date(2026, 10, 1), date(2026, 10, 31)),
        (" 1/10/2026 .. 31/10/2026 ", date(2026, 10, 1), date(2026, 10, 31)),
        ("2026-11-24", date(2026, 11, 24), date(2026, 11, 24)),
        # Nghị định 09/2019/NĐ-CP Điều 12: from the 15th of the month before.
        ("2026-6thang", date(2025, 12, 15), date(2026, 6, 14)),
        ("2026-9thang", date(2025, 12, 15), date(2026, 9, 14)),
        ("2026-nam", date(2025, 12, 15), date(2026, 12, 14)),
        ("2026-10", date(2026, 9, 15), date(2026, 10, 14)),
        ("2026-1", date(2025, 12, 15), date(2026, 1, 14)),
        ("2026-quy3", date(2026, 6, 15), date(2026, 9, 14)),
        ("2026-Q1", date(2025, 12, 15), date(2026, 3, 14)),
    ],
)
def test_parse(text: str, first: date, last: date) -> None:
    assert days(parse_period(text, TODAY)) == (first, last)


def test_calendar_months_when_cutoff_is_one() -> None:
    assert days(parse_period("2026-6thang", TODAY, cutoff_day=1)) == (
        date(2026, 1, 1),
        date(2026, 6, 30),
    )
    assert days(parse_period("2026-nam", TODAY, cutoff_day=1)) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
    )
    assert days(reporting_period(2024, 2, 2, "report_month", cutoff_day=1)) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
    )
    assert days(reporting_period(2026, 3, 3, "report_month", cutoff_day=10)) == (
        date(2026, 2, 10),
        date(2026, 3, 9),
    )


@pytest.mark.parametrize(
    "text",
    ["", "hom qua", "2026-13", "2026-10-31..2026-10-01", "2026-02-30", "2026-quy5", "2027-nam",
     "1990-01-01..2026-01-01"],
)  # fmt: skip
def test_errors_are_vietnamese(text: str) -> None:
    with pytest.raises(PeriodError) as error:
        parse_period(text, TODAY)
    message = str(error.value)
    assert message and message[0].isupper()


def test_unknown_text_lists_the_forms() -> None:
    with pytest.raises(PeriodError, match="tuan, thang, quy, nam"):
        parse_period("hôm qua", TODAY)


def test_bounds_are_local_midnights() -> None:
    start, end = parse_period("2026-6thang", TODAY).bounds(HCM)
    assert start == datetime(2025, 12, 14, 17, 0, tzinfo=UTC)  # 15/12 00:00 in Hà Nội
    assert end == datetime(2026, 6, 14, 17, 0, tzinfo=UTC)  # 15/6 00:00: 14/6 is included


def test_previous_periods() -> None:
    assert days(last_week(TODAY).previous()) == (date(2026, 11, 9), date(2026, 11, 15))
    assert days(this_week(TODAY).previous()) == (date(2026, 11, 16), date(2026, 11, 18))
    assert days(parse_period("thang", TODAY).previous()) == (date(2026, 10, 1), date(2026, 10, 25))
    assert days(parse_period("thang-truoc", TODAY).previous()) == (
        date(2026, 9, 1),
        date(2026, 9, 30),
    )
    march = Period(date(2026, 3, 1), date(2026, 3, 31), "month")
    assert days(march.previous()) == (date(2026, 2, 1), date(2026, 2, 28))
    assert days(parse_period("2026-6thang", TODAY).previous()) == (
        date(2024, 12, 15),
        date(2025, 6, 14),
    )
    assert days(parse_period("2026-10", TODAY).previous()) == (
        date(2026, 8, 15),
        date(2026, 9, 14),
    )
    assert days(parse_period("2026-10-01..2026-10-10", TODAY).previous()) == (
        date(2026, 9, 21),
        date(2026, 9, 30),
    )
    assert parse_period("2026-6thang", TODAY).previous_name == "cùng kỳ năm trước"
    assert last_week(TODAY).previous_name == "tuần trước"


def test_labels() -> None:
    assert last_week(TODAY).label == "tuần 16/11–22/11/2026"
    assert last_week(TODAY).title == "tuần 16/11–22/11/2026"
    assert week_of(date(2026, 12, 30)).label == "tuần 28/12/2026–03/01/2027"
    assert parse_period("thang", TODAY).title == "tháng 11/2026 (01/11–25/11/2026)"
    assert parse_period("quy", TODAY).label == "quý IV/2026"
    assert parse_period("2026-6thang", TODAY).title == (
        "kỳ báo cáo 6 tháng đầu năm 2026 (15/12/2025–14/06/2026)"
    )
    assert parse_period("2026-10", TODAY).label == "kỳ báo cáo tháng 10/2026"
    assert parse_period("2026-11-24", TODAY).title == "24/11/2026"
    assert year_to_date(date(2026, 11, 22)).range_text == "01/01–22/11/2026"


def test_weekly_helpers() -> None:
    monday = date(2026, 11, 23)
    assert days(last_week(monday)) == (date(2026, 11, 16), date(2026, 11, 22))
    assert days(last_week(date(2026, 11, 29))) == (date(2026, 11, 16), date(2026, 11, 22))
    assert days(this_week(monday)) == (monday, monday)
    assert Period(monday, monday).days == 1
    with pytest.raises(ValueError):
        Period(date(2026, 1, 2), date(2026, 1, 1))
