"""Time limits of a case: policies from config and the Civil Code counting rules.

Counting (Bộ luật Dân sự 2015 Điều 147–148):

* the day of the event (submission, acceptance, …) is not counted; counting starts the next
  day (Điều 147);
* a limit in days ends at the end of its last day, 23:59:59 local time (Điều 148.1);
* a limit whose last day is a weekend or holiday ends at the end of the next working day
  (Điều 148.5).

A limit in working days ("ngày làm việc") counts only working days, so its last day is always
a working day; a limit in calendar days ("ngày") counts every day and is then rolled forward.

Which limit applies comes from ``[deadlines]`` in config.toml (see docs/deadlines.md): a
category override beats the case kind's limit, which beats the global limit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from bot.configerror import ConfigError
from bot.rules.workdays import WorkCalendar

__all__ = [
    "CASE_KINDS",
    "MILESTONES",
    "UNITS",
    "CategoryOverride",
    "DeadlineCalculator",
    "DeadlinePolicy",
    "Milestone",
    "TimeLimit",
    "Unit",
]

Milestone = Literal["open", "accept", "answer", "forward", "reopen", "rating"]
Unit = Literal["working", "calendar"]

#: Every milestone a limit may be set for (order of the ``Milestone`` literal).
MILESTONES: tuple[Milestone, ...] = get_args(Milestone)
UNITS: tuple[Unit, ...] = get_args(Unit)
#: Case kind ids (shared/domain/units-and-categories.md); keep them.
CASE_KINDS: tuple[str, ...] = ("phan_anh_kien_nghi", "khieu_nai", "to_cao")
#: Kinds a per-category override applies to when its table has no ``kinds`` key. Khiếu nại and
#: tố cáo have statutory limits, so categories leave them alone unless named explicitly.
DEFAULT_OVERRIDE_KINDS: tuple[str, ...] = ("phan_anh_kien_nghi",)

#: Sanity bound for any number of days in config (catches typos such as 300 for 30).
MAX_DAYS = 366

_LIMIT_KEYS = (
    "days",
    "unit",
    "complex_days",
    "remote_days",
    "remote_complex_days",
    "extension_days",
    "max_extensions",
)
_END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class TimeLimit:
    """One time limit: ``days`` counted in ``unit``, with its variants.

    ``complex_days`` applies to a case marked complex (phức tạp), ``remote_days`` when the
    commune is in a remote, hard-to-reach area, ``remote_complex_days`` when both hold.
    ``extension_days`` (same unit) may be added up to ``max_extensions`` times.
    """

    days: int
    unit: Unit
    complex_days: int | None = None
    remote_days: int | None = None
    remote_complex_days: int | None = None
    extension_days: int | None = None
    max_extensions: int = 1

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, not {self.unit!r}")
        for name in ("days", "complex_days", "remote_days", "remote_complex_days"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, not {value}")
        if self.extension_days is not None and self.extension_days <= 0:
            raise ValueError(f"extension_days must be positive, not {self.extension_days}")
        if self.max_extensions < 1:
            raise ValueError(f"max_extensions must be at least 1, not {self.max_extensions}")

    def days_for(self, *, complex: bool = False, remote: bool = False) -> int:
        """Number of days for a case; a variant that is not set falls back to ``days``.

        Remote and complex without ``remote_complex_days``: the longest of the variants set.
        """
        if complex and remote:
            if self.remote_complex_days is not None:
                return self.remote_complex_days
            candidates = (self.days, self.complex_days, self.remote_days)
            return max(d for d in candidates if d is not None)
        if complex and self.complex_days is not None:
            return self.complex_days
        if remote and self.remote_days is not None:
            return self.remote_days
        return self.days

    @property
    def extendable(self) -> bool:
        return self.extension_days is not None

    def describe(self, *, complex: bool = False, remote: bool = False) -> str:
        """Vietnamese text: "10 ngày làm việc" or "30 ngày"."""
        return _describe_days(self.days_for(complex=complex, remote=remote), self.unit)

    def describe_extension(self) -> str | None:
        """Vietnamese text of the extension rule, e.g. "gia hạn tối đa 2 lần, mỗi lần 30 ngày"."""
        if self.extension_days is None:
            return None
        amount = _describe_days(self.extension_days, self.unit)
        if self.max_extensions == 1:
            return f"gia hạn 1 lần, không quá {amount}"
        return f"gia hạn tối đa {self.max_extensions} lần, mỗi lần không quá {amount}"


def _describe_days(days: int, unit: Unit) -> str:
    return f"{days} ngày làm việc" if unit == "working" else f"{days} ngày"


@dataclass(frozen=True)
class CategoryOverride:
    """Limits of one category, applied to the case kinds in ``kinds`` only."""

    kinds: frozenset[str]
    limits: Mapping[Milestone, TimeLimit]


@dataclass(frozen=True)
class DeadlinePolicy:
    """The ``[deadlines]`` section, validated. Build it with :meth:`from_config`."""

    complaint_unit: str
    remote_area: bool = False
    global_limits: Mapping[Milestone, TimeLimit] = field(default_factory=dict)
    kind_limits: Mapping[str, Mapping[Milestone, TimeLimit]] = field(default_factory=dict)
    category_overrides: Mapping[str, CategoryOverride] = field(default_factory=dict)
    kinds: frozenset[str] = frozenset(CASE_KINDS)
    # Whether the resolution deadline stops while an officer waits for the citizen's reply
    # (the working days waited are added when the reply arrives).
    pause_while_waiting: bool = False

    @classmethod
    def from_config(
        cls,
        deadlines_table: Mapping[str, Any],
        *,
        categories: Collection[str],
        units: Collection[str],
        remote_area: bool,
        kinds: Collection[str] = CASE_KINDS,
    ) -> DeadlinePolicy:
        """Validate ``[deadlines]``; every problem raises :class:`ConfigError` naming the key.

        ``categories`` and ``units`` are the ids from ``[[categories]]`` and ``[[units]]``;
        ``remote_area`` is ``[commune] remote_area``.
        """
        table = _table(deadlines_table, "deadlines")
        if not isinstance(remote_area, bool):
            raise ConfigError("commune.remote_area", f"must be true or false, not {remote_area!r}")
        known_kinds = frozenset(kinds)
        known_categories = frozenset(categories)
        allowed = {"complaint_unit", "kinds", "categories", "pause_while_waiting", *MILESTONES}
        _reject_unknown(table, "deadlines", allowed)

        if "complaint_unit" not in table:
            raise ConfigError("deadlines.complaint_unit", "missing")
        complaint_unit = table["complaint_unit"]
        if not isinstance(complaint_unit, str) or complaint_unit not in units:
            raise ConfigError(
                "deadlines.complaint_unit",
                f"{complaint_unit!r} is not a unit id; known: {', '.join(sorted(units))}",
            )

        pause = table.get("pause_while_waiting", False)
        if not isinstance(pause, bool):
            raise ConfigError(
                "deadlines.pause_while_waiting", f"must be true or false, not {pause!r}"
            )
        global_limits = _parse_milestones(table, "deadlines")

        kind_limits: dict[str, Mapping[Milestone, TimeLimit]] = {}
        kinds_table = _table(table.get("kinds", {}), "deadlines.kinds")
        for kind, sub in kinds_table.items():
            key = f"deadlines.kinds.{kind}"
            if kind not in known_kinds:
                raise ConfigError(
                    key, f"unknown case kind; known: {', '.join(sorted(known_kinds))}"
                )
            sub_table = _table(sub, key)
            _reject_unknown(sub_table, key, set(MILESTONES))
            kind_limits[kind] = MappingProxyType(_parse_milestones(sub_table, key))

        overrides: dict[str, CategoryOverride] = {}
        categories_table = _table(table.get("categories", {}), "deadlines.categories")
        for category, sub in categories_table.items():
            key = f"deadlines.categories.{category}"
            if category not in known_categories:
                raise ConfigError(
                    key, f"unknown category; known: {', '.join(sorted(known_categories))}"
                )
            sub_table = _table(sub, key)
            _reject_unknown(sub_table, key, {"kinds", *MILESTONES})
            applies_to = _parse_kinds(sub_table, f"{key}.kinds", known_kinds)
            overrides[category] = CategoryOverride(
                kinds=applies_to,
                limits=MappingProxyType(_parse_milestones(sub_table, key)),
            )

        return cls(
            complaint_unit=complaint_unit,
            remote_area=remote_area,
            global_limits=MappingProxyType(dict(global_limits)),
            kind_limits=MappingProxyType(kind_limits),
            category_overrides=MappingProxyType(overrides),
            kinds=known_kinds,
            pause_while_waiting=pause,
        )

    def limit_for(
        self, milestone: Milestone, *, kind: str, category: str | None = None
    ) -> TimeLimit | None:
        """The limit in force: category override > case kind > global; None if there is none.

        An unknown ``kind`` raises ``ValueError``; an unknown ``category`` (e.g. removed from
        config while old cases remain) simply has no override.
        """
        if kind not in self.kinds:
            raise ValueError(f"unknown case kind {kind!r}")
        if category is not None:
            override = self.category_overrides.get(category)
            if override is not None and kind in override.kinds:
                limit = override.limits.get(milestone)
                if limit is not None:
                    return limit
        by_kind = self.kind_limits.get(kind)
        if by_kind is not None:
            limit = by_kind.get(milestone)
            if limit is not None:
                return limit
        return self.global_limits.get(milestone)


class DeadlineCalculator:
    """Turns limits into due moments. All datetimes in and out are timezone-aware (UTC out)."""

    def __init__(self, calendar: WorkCalendar, tz: ZoneInfo) -> None:
        self.calendar = calendar
        self.tz = tz

    def local_date(self, moment: datetime) -> date:
        """The local calendar date of an aware ``moment``."""
        _require_aware(moment)
        return moment.astimezone(self.tz).date()

    def end_of_day(self, day: date) -> datetime:
        """23:59:59 local time of ``day``, as an aware UTC datetime."""
        return datetime.combine(day, _END_OF_DAY, tzinfo=self.tz).astimezone(UTC)

    def last_day(
        self, start_day: date, limit: TimeLimit, *, complex: bool = False, remote: bool = False
    ) -> date:
        """Local last day of ``limit`` for an event on local date ``start_day`` (not counted)."""
        return self._advance(start_day, limit.days_for(complex=complex, remote=remote), limit.unit)

    def due_at(
        self,
        start: datetime,
        limit: TimeLimit,
        *,
        complex: bool = False,
        remote: bool = False,
    ) -> datetime:
        """End of the limit that starts with the event at ``start`` (BLDS Điều 147–148)."""
        last = self.last_day(self.local_date(start), limit, complex=complex, remote=remote)
        return self.end_of_day(last)

    def due_for(
        self,
        policy: DeadlinePolicy,
        milestone: Milestone,
        start: datetime,
        *,
        kind: str,
        category: str | None = None,
        complex: bool = False,
    ) -> datetime | None:
        """:meth:`due_at` with the policy's limit and its ``remote_area``; None if no limit."""
        limit = policy.limit_for(milestone, kind=kind, category=category)
        if limit is None:
            return None
        return self.due_at(start, limit, complex=complex, remote=policy.remote_area)

    def extend(
        self, current_due: datetime, limit: TimeLimit, *, previous_extensions: int = 0
    ) -> datetime:
        """One extension of ``limit.extension_days`` (same unit), counted from the local date
        of ``current_due`` (not counted itself) and rolled forward like any limit.

        ``previous_extensions`` is how many were already granted; going over
        ``limit.max_extensions``, or extending a limit without extensions, raises ValueError.
        """
        if limit.extension_days is None:
            raise ValueError("this time limit cannot be extended")
        if previous_extensions < 0:
            raise ValueError("previous_extensions must not be negative")
        if previous_extensions >= limit.max_extensions:
            raise ValueError(
                f"at most {limit.max_extensions} extension(s) allowed, "
                f"{previous_extensions} already granted"
            )
        last = self._advance(self.local_date(current_due), limit.extension_days, limit.unit)
        return self.end_of_day(last)

    def is_overdue(self, due: datetime, moment: datetime) -> bool:
        """Whether ``moment`` falls on a local day after the due day."""
        return self.local_date(moment) > self.local_date(due)

    def working_days_late(self, due: datetime, moment: datetime) -> int:
        """Working days from the due day (not counted) to ``moment``'s day; 0 if not late.

        Late on the weekend after a Friday due day is still 0 working days late.
        """
        late = self.calendar.working_days_between(self.local_date(due), self.local_date(moment))
        return max(late, 0)

    def handling_working_days(self, received: datetime, answered: datetime) -> int:
        """Handling time in working days: working days after the day of receipt up to and
        including the day of the answer (same day → 0). Never negative."""
        days = self.calendar.working_days_between(
            self.local_date(received), self.local_date(answered)
        )
        return max(days, 0)

    def _advance(self, start_day: date, days: int, unit: Unit) -> date:
        if unit == "working":
            return self.calendar.add_working_days(start_day, days)
        return self.calendar.roll_forward(start_day + timedelta(days=days))


# --------------------------------------------------------------------- config parsing


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware, got naive {moment!r}")


def _table(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(key, f"must be a table, not {value!r}")
    return value


def _reject_unknown(table: Mapping[str, Any], key: str, allowed: Collection[str]) -> None:
    for name in table:
        if name not in allowed:
            raise ConfigError(
                f"{key}.{name}", f"unknown key; expected one of: {', '.join(sorted(allowed))}"
            )


def _parse_milestones(table: Mapping[str, Any], key: str) -> dict[Milestone, TimeLimit]:
    """The milestone sub-tables of ``table`` (other keys were checked by the caller)."""
    result: dict[Milestone, TimeLimit] = {}
    for milestone in MILESTONES:
        if milestone in table:
            result[milestone] = _parse_limit(table[milestone], f"{key}.{milestone}")
    return result


def _parse_kinds(table: Mapping[str, Any], key: str, known: frozenset[str]) -> frozenset[str]:
    if "kinds" not in table:
        return frozenset(DEFAULT_OVERRIDE_KINDS) & known
    raw = table["kinds"]
    if not isinstance(raw, list) or not raw:
        raise ConfigError(key, "must be a non-empty list of case kind ids")
    for index, kind in enumerate(raw):
        if not isinstance(kind, str) or kind not in known:
            raise ConfigError(
                f"{key}[{index}]", f"{kind!r} is not a case kind; known: {', '.join(sorted(known))}"
            )
    return frozenset(raw)


def _positive_days(table: Mapping[str, Any], key: str, name: str) -> int | None:
    if name not in table:
        return None
    value = table[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key}.{name}", f"must be a whole number of days, not {value!r}")
    if not 1 <= value <= MAX_DAYS:
        raise ConfigError(f"{key}.{name}", f"must be between 1 and {MAX_DAYS}, not {value}")
    return value


def _parse_limit(value: Any, key: str) -> TimeLimit:
    table = _table(value, key)
    _reject_unknown(table, key, _LIMIT_KEYS)

    days = _positive_days(table, key, "days")
    if days is None:
        raise ConfigError(f"{key}.days", "missing")
    if "unit" not in table:
        raise ConfigError(f"{key}.unit", 'missing; use "working" or "calendar"')
    unit_value = table["unit"]
    if unit_value == "working":
        unit: Unit = "working"
    elif unit_value == "calendar":
        unit = "calendar"
    else:
        raise ConfigError(f"{key}.unit", f'must be "working" or "calendar", not {unit_value!r}')

    complex_days = _positive_days(table, key, "complex_days")
    remote_days = _positive_days(table, key, "remote_days")
    remote_complex_days = _positive_days(table, key, "remote_complex_days")
    for name, variant in (("complex_days", complex_days), ("remote_days", remote_days)):
        if variant is not None and variant < days:
            raise ConfigError(f"{key}.{name}", f"{variant} is shorter than days = {days}")
    if remote_complex_days is not None:
        floor = max(d for d in (days, complex_days, remote_days) if d is not None)
        if remote_complex_days < floor:
            raise ConfigError(
                f"{key}.remote_complex_days",
                f"{remote_complex_days} is shorter than the other variants ({floor})",
            )

    extension_days = _positive_days(table, key, "extension_days")
    max_extensions = 1
    if "max_extensions" in table:
        raw = table["max_extensions"]
        if extension_days is None:
            raise ConfigError(f"{key}.max_extensions", "set extension_days too, or remove it")
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 10:
            raise ConfigError(
                f"{key}.max_extensions", f"must be a whole number from 1 to 10, not {raw!r}"
            )
        max_extensions = raw

    return TimeLimit(
        days=days,
        unit=unit,
        complex_days=complex_days,
        remote_days=remote_days,
        remote_complex_days=remote_complex_days,
        extension_days=extension_days,
        max_extensions=max_extensions,
    )
