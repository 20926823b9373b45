"""Reporting periods: what ``/thongke`` and ``pakn report`` accept, and their boundaries.

A :class:`Period` is a range of *local* calendar days, both ends included. Statistics turn it
into UTC moments with :meth:`Period.bounds` (from 00:00 local of the first day to 00:00 local
of the day after the last one).

Two families of forms (see docs/reports.md):

* relative to today, for ``/thongke``: ``tuan`` (this week, Monday to today), ``thang``,
  ``quy``, ``nam`` and their ``-truoc`` variants (the whole previous week, month…);
* the State reporting cycle, for ``pakn report`` and ``/baocao``: ``2026-6thang``,
  ``2026-9thang``, ``2026-nam``, ``2026-10`` (a month), ``2026-quy3``. Their data cut-off
  follows Nghị định 09/2019/NĐ-CP Điều 12: from day ``cutoff_day`` (default 15) of the month
  before the period to the day before it in the period's last month, e.g. the 6-month report
  of 2026 covers 15/12/2025–14/6/2026. ``cutoff_day = 1`` gives plain calendar months.

Both families also accept an explicit range ``2026-10-01..2026-10-31`` (or
``1/10/2026..31/10/2026``) and a single day.
"""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from bot.rules.textnorm import strip_diacritics

__all__ = [
    "DEFAULT_CUTOFF_DAY",
    "PERIOD_HELP",
    "Period",
    "PeriodError",
    "PeriodKind",
    "format_day",
    "format_range",
    "last_week",
    "parse_period",
    "reporting_period",
    "this_week",
    "week_of",
    "year_to_date",
]

PeriodKind = Literal[
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "range",
    "report_month",
    "report_quarter",
    "report_6m",
    "report_9m",
    "report_year",
]

#: Nghị định 09/2019/NĐ-CP Điều 12: reporting data runs from the 15th of the month before.
DEFAULT_CUTOFF_DAY = 15
#: Longest explicit range accepted (about ten years).
MAX_DAYS = 3700

#: Shown to a person who typed a period the bot does not understand.
PERIOD_HELP = (
    "Kỳ thống kê có thể là: tuan, thang, quy, nam (kỳ hiện tại), tuan-truoc, thang-truoc, "
    "quy-truoc, nam-truoc, một khoảng ngày như 2026-10-01..2026-10-31, hoặc kỳ báo cáo "
    "2026-6thang, 2026-9thang, 2026-nam, 2026-10, 2026-quy3."
)

_ROMAN = ("I", "II", "III", "IV")


class PeriodError(ValueError):
    """A period text that cannot be used; ``str(error)`` is Vietnamese, for the user."""


@dataclass(frozen=True)
class Period:
    """Local days ``first_day``..``last_day`` (both included), with a Vietnamese label."""

    first_day: date
    last_day: date
    kind: PeriodKind = "range"
    label: str = ""

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError(f"period ends ({self.last_day}) before it starts ({self.first_day})")
        if not self.label:
            object.__setattr__(self, "label", format_range(self.first_day, self.last_day))

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.last_day - self.first_day).days + 1

    @property
    def end_day(self) -> date:
        """The day after the last one (exclusive end)."""
        return self.last_day + timedelta(days=1)

    @property
    def range_text(self) -> str:
        """``16/11–22/11/2026``."""
        return format_range(self.first_day, self.last_day)

    @property
    def title(self) -> str:
        """The label, followed by the dates when the label does not already show them."""
        if self.range_text in self.label:
            return self.label
        return f"{self.label} ({self.range_text})"

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """``[start, end)`` as aware UTC moments: local midnight of the first day and of the
        day after the last one."""
        start = datetime.combine(self.first_day, time(0), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(self.end_day, time(0), tzinfo=tz).astimezone(UTC)
        return start, end

    def previous(self) -> Period:
        """The period the figures are compared with.

        Weeks (also "this week so far"): the same days one week earlier. Single days and
        explicit ranges: the same number of days just before. Calendar months,
        quarters and years (also partial ones such as "this month so far"): the same days of
        the previous month, quarter or year. Monthly and quarterly reporting periods: the
        previous one. 6-month, 9-month and annual reporting periods: the same period of the
        previous year ("cùng kỳ năm trước").
        """
        if self.kind == "week":
            week = timedelta(days=7)
            return Period(self.first_day - week, self.last_day - week, "week").relabelled()
        if self.kind in ("day", "range"):
            return Period(
                self.first_day - timedelta(days=self.days),
                self.first_day - timedelta(days=1),
                self.kind,
            ).relabelled()
        months = {
            "month": 1,
            "report_month": 1,
            "quarter": 3,
            "report_quarter": 3,
            "year": 12,
            "report_6m": 12,
            "report_9m": 12,
            "report_year": 12,
        }[self.kind]
        first = _shift_months(self.first_day, -months)
        if self.last_day == _month_end(self.last_day):
            last = _month_end(_shift_months(self.last_day, -months))
        else:
            last = _shift_months(self.last_day, -months)
        return replace(self, first_day=first, last_day=last, label="").relabelled()

    @property
    def previous_name(self) -> str:
        """How the comparison period is called in texts: "tuần trước", "cùng kỳ năm trước"…"""
        return {
            "day": "ngày trước",
            "week": "tuần trước",
            "month": "tháng trước",
            "report_month": "kỳ trước",
            "quarter": "quý trước",
            "report_quarter": "kỳ trước",
            "year": "cùng kỳ năm trước",
            "report_6m": "cùng kỳ năm trước",
            "report_9m": "cùng kỳ năm trước",
            "report_year": "năm trước",
            "range": "kỳ trước",
        }[self.kind]

    def relabelled(self) -> Period:
        """The same days with the default label of its kind."""
        return replace(self, label=_default_label(self))


# --------------------------------------------------------------------- constructors


def week_of(day: date) -> Period:
    """Monday to Sunday of the week that contains ``day``."""
    monday = day - timedelta(days=day.weekday())
    return Period(monday, monday + timedelta(days=6), "week").relabelled()


def this_week(today: date) -> Period:
    """Monday of this week up to ``today``."""
    monday = today - timedelta(days=today.weekday())
    return Period(monday, today, "week").relabelled()


def last_week(today: date) -> Period:
    """The whole previous week (Monday–Sunday): what the Monday report covers."""
    return week_of(today - timedelta(days=today.weekday() + 1))


def year_to_date(day: date) -> Period:
    """1 January of ``day``'s year up to ``day``."""
    return Period(date(day.year, 1, 1), day, "year").relabelled()


def reporting_period(
    year: int,
    first_month: int,
    last_month: int,
    kind: PeriodKind,
    *,
    cutoff_day: int = DEFAULT_CUTOFF_DAY,
) -> Period:
    """Months ``first_month``..``last_month`` of ``year`` with the data cut-off of NĐ 09/2019
    Điều 12: from ``cutoff_day`` of the month before ``first_month`` to the day before
    ``cutoff_day`` in ``last_month``. ``cutoff_day = 1`` means calendar months."""
    if not 1 <= cutoff_day <= 28:
        raise ValueError(f"cutoff_day must be between 1 and 28, not {cutoff_day}")
    if not 1 <= first_month <= last_month <= 12:
        raise ValueError(f"bad months {first_month}..{last_month}")
    if cutoff_day == 1:
        first = date(year, first_month, 1)
        last = _month_end(date(year, last_month, 1))
    else:
        first = _shift_months(date(year, first_month, cutoff_day), -1)
        last = date(year, last_month, cutoff_day - 1)
    return Period(first, last, kind).relabelled()


# --------------------------------------------------------------------- parsing

_DATE = r"(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4})"
_RANGE = re.compile(rf"^{_DATE}(?:\.\.|–|—)\s*{_DATE}$")
_SINGLE = re.compile(rf"^{_DATE}$")
_CYCLE = re.compile(r"^(\d{4})-?(6thang|9thang|canam|nam|q[1-4]|quy[1-4]|\d{1,2})$")

_RELATIVE = {
    "tuan": ("week", 0),
    "tuannay": ("week", 0),
    "tuantruoc": ("week", -1),
    "thang": ("month", 0),
    "thangnay": ("month", 0),
    "thangtruoc": ("month", -1),
    "quy": ("quarter", 0),
    "quynay": ("quarter", 0),
    "quytruoc": ("quarter", -1),
    "nam": ("year", 0),
    "namnay": ("year", 0),
    "namtruoc": ("year", -1),
}


def parse_period(text: str, today: date, *, cutoff_day: int = DEFAULT_CUTOFF_DAY) -> Period:
    """The period a person typed, relative to ``today`` (a local date).

    Raises :class:`PeriodError` with a Vietnamese message when the text is not understood,
    the range is reversed or too long, or the period starts after today.
    """
    raw = strip_diacritics(text.strip())
    compact = re.sub(r"[\s_]+", "", raw)
    if not compact:
        raise PeriodError(PERIOD_HELP)

    relative = _RELATIVE.get(compact.replace("-", ""))
    if relative is not None:
        period = _relative_period(relative[0], relative[1], today)
    elif (match := _RANGE.match(compact)) is not None:
        first, last = _parse_date(match[1]), _parse_date(match[2])
        if last < first:
            raise PeriodError(
                f"Ngày kết thúc ({format_day(last)}) trước ngày bắt đầu ({format_day(first)})."
            )
        period = Period(first, last, "range")
    elif (match := _SINGLE.match(compact)) is not None:
        day = _parse_date(match[1])
        period = Period(day, day, "day")
    elif (match := _CYCLE.match(compact)) is not None:
        period = _cycle_period(int(match[1]), match[2], cutoff_day)
    else:
        raise PeriodError(f"Không hiểu kỳ thống kê «{text.strip()}». {PERIOD_HELP}")

    if period.days > MAX_DAYS:
        raise PeriodError("Khoảng thời gian quá dài; hãy chọn tối đa 10 năm.")
    if period.first_day > today:
        raise PeriodError(f"Kỳ {period.title} chưa bắt đầu.")
    return period


def _relative_period(unit: str, offset: int, today: date) -> Period:
    if unit == "week":
        return this_week(today) if offset == 0 else last_week(today)
    if unit == "month":
        if offset == 0:
            return Period(today.replace(day=1), today, "month").relabelled()
        first = _shift_months(today.replace(day=1), -1)
        return Period(first, _month_end(first), "month").relabelled()
    if unit == "quarter":
        start_month = 3 * ((today.month - 1) // 3) + 1
        first = date(today.year, start_month, 1)
        if offset == 0:
            return Period(first, today, "quarter").relabelled()
        first = _shift_months(first, -3)
        return Period(first, _month_end(_shift_months(first, 2)), "quarter").relabelled()
    if offset == 0:
        return year_to_date(today)
    return Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), "year").relabelled()


def _cycle_period(year: int, which: str, cutoff_day: int) -> Period:
    if not 2000 <= year <= 2100:
        raise PeriodError(f"Năm {year} không hợp lệ.")
    if which == "6thang":
        return reporting_period(year, 1, 6, "report_6m", cutoff_day=cutoff_day)
    if which == "9thang":
        return reporting_period(year, 1, 9, "report_9m", cutoff_day=cutoff_day)
    if which in ("nam", "canam"):
        return reporting_period(year, 1, 12, "report_year", cutoff_day=cutoff_day)
    if which.startswith("q"):
        quarter = int(which[-1])
        return reporting_period(
            year, 3 * quarter - 2, 3 * quarter, "report_quarter", cutoff_day=cutoff_day
        )
    month = int(which)
    if not 1 <= month <= 12:
        raise PeriodError(f"Tháng {month} không hợp lệ; hãy dùng 1–12, ví dụ {year}-10.")
    return reporting_period(year, month, month, "report_month", cutoff_day=cutoff_day)


def _parse_date(text: str) -> date:
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        year, month, day = (int(part) for part in text.split("-"))
        return date(year, month, day)
    except ValueError:
        raise PeriodError(f"Ngày «{text}» không hợp lệ.") from None


# --------------------------------------------------------------------- text


def format_day(day: date) -> str:
    """``23/11/2026``."""
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def format_range(first: date, last: date) -> str:
    """``16/11–22/11/2026``; ``28/12/2026–03/01/2027`` across years; one day alone."""
    if first == last:
        return format_day(first)
    if first.year == last.year:
        return f"{first.day:02d}/{first.month:02d}–{format_day(last)}"
    return f"{format_day(first)}–{format_day(last)}"


def _default_label(period: Period) -> str:
    first, last = period.first_day, period.last_day
    kind = period.kind
    if kind == "week":
        return f"tuần {format_range(first, last)}"
    if kind == "month":
        return f"tháng {first.month:02d}/{first.year}"
    if kind == "quarter":
        return f"quý {_ROMAN[(first.month - 1) // 3]}/{first.year}"
    if kind == "year":
        return f"năm {first.year}"
    if kind == "report_month":
        return f"kỳ báo cáo tháng {last.month:02d}/{last.year}"
    if kind == "report_quarter":
        return f"kỳ báo cáo quý {_ROMAN[(last.month - 1) // 3]}/{last.year}"
    if kind == "report_6m":
        return f"kỳ báo cáo 6 tháng đầu năm {last.year}"
    if kind == "report_9m":
        return f"kỳ báo cáo 9 tháng năm {last.year}"
    if kind == "report_year":
        return f"kỳ báo cáo năm {last.year}"
    return format_range(first, last)


# --------------------------------------------------------------------- month arithmetic


def _month_end(day: date) -> date:
    return day.replace(day=_calendar.monthrange(day.year, day.month)[1])


def _shift_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clipped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
