"""Working-day calendar of a Vietnamese State body.

A working day ("ngày làm việc") is Monday–Friday, minus the public holidays of Bộ luật Lao
động 2019 Điều 112 as computed by the ``holidays`` package (``country_holidays("VN")``: Tết
and Giỗ Tổ Hùng Vương from the lunar calendar, observed days, the Government's swap days),
plus two override lists from ``config.toml`` ``[holidays]``:

* ``extra_days_off``: days the Government (or the province) announces as days off that the
  package does not know, e.g. a longer Tết break;
* ``extra_working_days``: Saturdays (or holidays) that become working days ("ngày làm bù").

The package's own swapped Saturdays (``weekend_workdays``, e.g. 22/8/2026) count as working
days too. Overrides always win.

Everything is precomputed for ``first_year``..``last_year``: a flag per day, the cumulative
count of working days, and the sorted ordinals of working and non-working days. Lookups,
:meth:`WorkCalendar.add_working_days` and :meth:`WorkCalendar.working_days_between` are then
O(1); :meth:`WorkCalendar.non_working_days` is O(log n + answer). Dates outside the range
still work through a slower day-by-day path.
"""

from __future__ import annotations

import datetime as _dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import holidays

from bot.configerror import ConfigError

__all__ = ["DEFAULT_DAY_OFF_LABEL", "WorkCalendar"]

#: Name given by :meth:`WorkCalendar.holiday_name` to an extra day off without a label.
DEFAULT_DAY_OFF_LABEL = "Ngày nghỉ bổ sung"

_WEEKDAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
_HOLIDAYS_KEYS = frozenset({"extra_days_off", "extra_working_days"})
_ENTRY_KEYS = frozenset({"date", "name"})


def _country_holidays(years: Iterable[int] | None) -> Any:
    """The ``holidays`` object for Vietnam, with Vietnamese names."""
    if years is None:
        return holidays.country_holidays("VN", language="vi")
    return holidays.country_holidays("VN", years=list(years), language="vi")


class WorkCalendar:
    """Working days of a commune office; immutable once built, safe to share between tasks."""

    def __init__(
        self,
        *,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        first_year: int = 2020,
        last_year: int = 2040,
    ) -> None:
        """Build the calendar.

        ``extra_days_off`` may be a ``Mapping[date, str]``: its values are then the names that
        :meth:`holiday_name` returns for those days. A day may not be in both lists.
        """
        if first_year > last_year:
            raise ValueError(f"first_year {first_year} is after last_year {last_year}")
        if isinstance(extra_days_off, Mapping):
            self._extra_off: dict[date, str] = {
                _plain_date(d): str(label) for d, label in extra_days_off.items()
            }
        else:
            self._extra_off = {_plain_date(d): DEFAULT_DAY_OFF_LABEL for d in extra_days_off}
        self._extra_work: frozenset[date] = frozenset(_plain_date(d) for d in extra_working_days)
        both = sorted(self._extra_work.intersection(self._extra_off))
        if both:
            raise ValueError("days both off and working: " + ", ".join(d.isoformat() for d in both))

        self.first_year = first_year
        self.last_year = last_year
        self._base = date(first_year, 1, 1).toordinal()
        self._end = date(last_year, 12, 31).toordinal()  # inclusive
        self._fallback: Any = None  # `holidays` object for dates outside the range, made lazily

        package = _country_holidays(range(first_year, last_year + 1))
        self._package_workdays: frozenset[date] = frozenset(
            getattr(package, "weekend_workdays", ())
        )
        self._names: dict[date, str] = {d: str(n) for d, n in package.items()}

        size = self._end - self._base + 1
        flags = bytearray(size)
        cumulative = [0] * (size + 1)
        working: list[int] = []
        off: list[int] = []
        day = date(first_year, 1, 1)
        one = timedelta(days=1)
        count = 0
        for i in range(size):
            if self._compute_is_working(day, self._names):
                flags[i] = 1
                count += 1
                working.append(self._base + i)
            else:
                off.append(self._base + i)
            cumulative[i + 1] = count
            day += one
        self._flags = bytes(flags)
        # _cumulative[i] = working days among the first i days of the range.
        self._cumulative = cumulative
        self._working = working
        self._off = off

    # ----------------------------------------------------------------- construction

    @classmethod
    def from_config(
        cls,
        holidays_table: Mapping[str, Any],
        *,
        first_year: int = 2020,
        last_year: int = 2040,
    ) -> WorkCalendar:
        """Build from the ``[holidays]`` table of config.toml.

        Each list entry is an ISO date string (``"2026-02-13"``), a TOML date
        (``2026-02-13``), or an inline table ``{ date = "2026-02-13", name = "…" }`` (the name
        is shown as the reason of the day off; only meaningful in ``extra_days_off``).
        """
        if not isinstance(holidays_table, Mapping):
            raise ConfigError("holidays", "must be a table")
        for key in holidays_table:
            if key not in _HOLIDAYS_KEYS:
                raise ConfigError(
                    f"holidays.{key}",
                    "unknown key; expected one of: " + ", ".join(sorted(_HOLIDAYS_KEYS)),
                )
        days_off = _parse_day_list(holidays_table, "extra_days_off")
        working = _parse_day_list(holidays_table, "extra_working_days")
        for index, (day, _label) in enumerate(working):
            if any(day == off_day for off_day, _ in days_off):
                raise ConfigError(
                    f"holidays.extra_working_days[{index}]",
                    f"{day.isoformat()} is also listed in holidays.extra_days_off",
                )
        off_map: dict[date, str] = {}
        for day, label in days_off:
            off_map[day] = label or DEFAULT_DAY_OFF_LABEL
        return cls(
            extra_days_off=off_map,
            extra_working_days=[day for day, _ in working],
            first_year=first_year,
            last_year=last_year,
        )

    # ----------------------------------------------------------------- single days

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (a local date) is a working day."""
        i = day.toordinal() - self._base
        if 0 <= i < len(self._flags):
            return self._flags[i] == 1
        return self._compute_is_working(_plain_date(day), None)

    def holiday_name(self, day: date) -> str | None:
        """Name of the holiday or extra day off on ``day``; ``None`` for ordinary days.

        Plain weekends have no name (see :meth:`day_off_reason`). A package holiday that the
        config turned into a working day has no name either.
        """
        day = _plain_date(day)
        if day in self._extra_off:
            return self._extra_off[day]
        if day in self._extra_work:
            return None
        if self._base <= day.toordinal() <= self._end:
            return self._names.get(day)
        name = self._fallback_holidays().get(day)
        return None if name is None else str(name)

    def day_off_reason(self, day: date) -> str | None:
        """Why ``day`` is not a working day (holiday name, "Thứ Bảy", "Chủ nhật"); else None."""
        if self.is_working_day(day):
            return None
        return self.holiday_name(day) or _WEEKDAY_NAMES[day.weekday()]

    # ----------------------------------------------------------------- arithmetic

    def roll_forward(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next working day."""
        o = day.toordinal()
        i = o - self._base
        if 0 <= i < len(self._flags):
            if self._flags[i]:
                return _plain_date(day)
            j = self._cumulative[i + 1]  # index of the first working day after `day`
            if j < len(self._working):
                return date.fromordinal(self._working[j])
        return self._slow_add(_plain_date(day), 0)

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start``; ``start`` itself is never counted.

        * ``n > 0``: e.g. Friday + 1 → Monday (if Monday is a working day).
        * ``n < 0``: the ``|n|``-th working day before ``start`` ("2 working days before
          the due day": ``add_working_days(due, -2)``).
        * ``n == 0``: :meth:`roll_forward` (``start`` if it is a working day, else the next one).

        For ``n > 0``, ``working_days_between(start, result) == n``; for ``n < 0`` and a
        working ``start``, ``working_days_between(result, start) == -n``.
        """
        if n == 0:
            return self.roll_forward(start)
        o = start.toordinal()
        # _working[k] is the working day of rank k + 1: step n ranks from `start` (n > 0),
        # or from the last working day before it (n < 0).
        index = self._rank(o) + n - 1 if n > 0 else self._rank(o - 1) + n
        if 0 <= index < len(self._working):
            return date.fromordinal(self._working[index])
        return self._slow_add(_plain_date(start), n)

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days ``d`` with ``start < d <= end``; negative if ``end < start``.

        ``working_days_between(a, b) == -working_days_between(b, a)``.
        """
        return self._rank(end.toordinal()) - self._rank(start.toordinal())

    def non_working_days(self, start: date, end: date) -> list[date]:
        """Weekends, holidays and extra days off in ``[start, end]`` (both included), sorted.

        Meant for SQL-side statistics that need the days to leave out between two dates.
        """
        a, b = start.toordinal(), end.toordinal()
        if a > b:
            return []
        result: list[date] = []
        if a < self._base:
            result.extend(self._slow_days(a, min(b, self._base - 1), working=False))
        lo, hi = max(a, self._base), min(b, self._end)
        if lo <= hi:
            off = self._off
            result.extend(
                date.fromordinal(o) for o in off[bisect_left(off, lo) : bisect_right(off, hi)]
            )
        if b > self._end:
            result.extend(self._slow_days(max(a, self._end + 1), b, working=False))
        return result

    def working_day_ordinals(self) -> Sequence[int]:
        """Sorted ``date.toordinal()`` of every working day in the precomputed range."""
        return tuple(self._working)

    @property
    def first_day(self) -> date:
        """First day of the precomputed range."""
        return date.fromordinal(self._base)

    @property
    def last_day(self) -> date:
        """Last day of the precomputed range (included)."""
        return date.fromordinal(self._end)

    # ----------------------------------------------------------------- internals

    def _compute_is_working(self, day: date, names: Mapping[date, str] | None) -> bool:
        """Slow, authoritative rule. ``names`` is the in-range holiday dict, or None to ask
        the lazily built package object (dates outside the range)."""
        if day in self._extra_work:
            return True
        if day in self._extra_off:
            return False
        if day.weekday() >= 5:
            return day in self._package_workdays
        if names is None:
            return day not in self._fallback_holidays()
        return day not in names

    def _fallback_holidays(self) -> Any:
        if self._fallback is None:
            self._fallback = _country_holidays(None)
        return self._fallback

    def _rank(self, o: int) -> int:
        """Working days up to and including ordinal ``o``, counted from the range start.

        Outside the range the count is extended day by day (negative before the range), so
        that ``_rank(b) - _rank(a)`` is always the number of working days in ``(a, b]``.
        """
        i = o - self._base
        size = len(self._flags)
        if 0 <= i < size:
            return self._cumulative[i + 1]
        if i < 0:
            return -len(self._slow_days(o + 1, self._base - 1, working=True))
        return self._cumulative[size] + len(self._slow_days(self._end + 1, o, working=True))

    def _slow_days(self, a: int, b: int, *, working: bool) -> list[date]:
        """Working (or non-working) days with ordinals in ``[a, b]``, one by one."""
        days = (date.fromordinal(o) for o in range(a, b + 1))
        return [d for d in days if self.is_working_day(d) is working]

    def _slow_add(self, start: date, n: int) -> date:
        """:meth:`add_working_days` day by day (``n == 0`` means roll forward)."""
        one = timedelta(days=1)
        day = start
        if n == 0:
            while not self.is_working_day(day):
                day += one
            return day
        step = one if n > 0 else -one
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day


def _plain_date(day: date) -> date:
    """A ``datetime`` is a ``date`` too; keep only the calendar date."""
    if isinstance(day, _dt.datetime):
        return day.date()
    return day


def _parse_day_list(table: Mapping[str, Any], key: str) -> list[tuple[date, str | None]]:
    raw = table.get(key, [])
    if not isinstance(raw, list):
        raise ConfigError(f"holidays.{key}", 'must be a list of dates such as "2026-02-13"')
    result: list[tuple[date, str | None]] = []
    seen: set[date] = set()
    for index, entry in enumerate(raw):
        where = f"holidays.{key}[{index}]"
        label: str | None = None
        value: Any = entry
        if isinstance(entry, Mapping):
            for entry_key in entry:
                if entry_key not in _ENTRY_KEYS:
                    raise ConfigError(f"{where}.{entry_key}", "unknown key; expected date, name")
            if "date" not in entry:
                raise ConfigError(f"{where}.date", "missing")
            value = entry["date"]
            if "name" in entry:
                label = entry["name"]
                if not isinstance(label, str) or not label.strip():
                    raise ConfigError(f"{where}.name", "must be a non-empty string")
                label = label.strip()
            where = f"{where}.date"
        day = _parse_day(value, where)
        if day in seen:
            raise ConfigError(where, f"{day.isoformat()} is listed twice")
        seen.add(day)
        result.append((day, label))
    return result


def _parse_day(value: Any, where: str) -> date:
    if isinstance(value, _dt.datetime):
        raise ConfigError(where, 'must be a date without a time, e.g. "2026-02-13"')
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
        raise ConfigError(where, f"{value!r} is not a date in the form YYYY-MM-DD")
    raise ConfigError(where, f"{value!r} is not a date in the form YYYY-MM-DD")
