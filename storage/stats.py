"""Statistics of case handling for leaders and the periodic reports, computed in SQL.

Every figure is an aggregate (``COUNT``, conditional ``SUM``, ``GROUP BY``) over the ``cases``
table; nothing here loops over case rows in Python except :meth:`StatsService.case_rows`,
which streams the rows of an export. ``case_contacts`` is never read, so the identity of a
person who filed a tố cáo cannot reach any statistic or export.

What the figures mean (docs/reports.md has the long version). For a period ``P`` of local
days, turned into ``[start, end)`` in UTC:

* **received**: cases with ``created_at`` in ``P``; **forwarded** / **rejected**: those of
  them now in status ``forwarded`` / ``rejected``.
* **answered**: cases whose answer was sent in ``P`` (``answered_at`` in ``P``; forwarded and
  rejected cases are never "answered"). **On time** when ``answered_at <= answer_due_at``
  (the resolution deadline in force, extensions and the reopen deadline included), else
  **late**. Handling time, ratings and **reopened** are about these answered cases.
* **open** / **overdue open**: the backlog at ``as_of`` — cases received before the end of
  ``P`` whose status is new, open or waiting_citizen; overdue when ``answer_due_at`` has
  passed at ``as_of``. The status is the current one, so ``as_of`` should be "now".
* **handling time**: working days from the local day of receipt (not counted) to the local
  day of the answer, holidays excluded (as ``DeadlineCalculator.handling_working_days``);
  median and 90th percentile use linear interpolation (``percentile_cont``).
* **satisfaction rate** = (rất hài lòng + hài lòng) ÷ rated; **rating coverage** = rated ÷
  answered. "khong_danh_gia" (closed without a rating) is not a rating.

Working days in SQL: the local day number ``n`` (days since Monday 3/1/2000) gives the
number of Mondays–Fridays up to ``n`` in closed form; the exceptions (holidays on weekdays,
Saturdays worked in exchange) come from the :class:`~bot.rules.workdays.WorkCalendar`, from
its first day to the end of the period, and are added as a step function written as a
balanced ``CASE`` tree (about 7 comparisons for 80 exception days). PostgreSQL then takes
``percentile_cont``; SQLite returns the histogram of whole day counts per group
(``GROUP BY group, days``) and the same interpolation is read off it.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from bot.config import CASE_KINDS, AppConfig
from bot.reports.periods import Period, week_of
from bot.rules.deadlines import DeadlineCalculator
from storage.cases import OPEN_STATUSES
from storage.models import Case

__all__ = [
    "GROUPINGS",
    "NOT_ANSWERED_STATUSES",
    "RATED",
    "SATISFIED",
    "CaseFilter",
    "CaseRow",
    "Grouping",
    "OverdueCase",
    "PeriodStats",
    "StatsService",
    "Timeliness",
    "TrendPoint",
]

#: Ratings that count as a rating ("khong_danh_gia" does not).
RATED: tuple[str, ...] = ("rat_hai_long", "hai_long", "chua_hai_long")
#: Ratings that count as satisfied.
SATISFIED: tuple[str, ...] = ("rat_hai_long", "hai_long")
#: Closed without answering the citizen: handled, but never "answered".
NOT_ANSWERED_STATUSES: tuple[str, ...] = ("forwarded", "rejected")

Grouping = Literal["unit", "category", "kind", "channel"]
GROUPINGS: tuple[Grouping, ...] = ("unit", "category", "kind", "channel")

#: Where a case stands against its deadline (export column).
Timeliness = Literal["on_time", "late", "open", "open_overdue", "not_applicable"]

_EPOCH = date(2000, 1, 3)  # a Monday: local day numbers count from it
_JD_EPOCH = 2451546.5  # SQLite julianday('2000-01-03 00:00:00')
_BACKLOG_FIELDS = ("open", "overdue_open")


@dataclass(frozen=True)
class CaseFilter:
    """Optional restrictions; ``None`` means all."""

    unit: str | None = None
    category: str | None = None
    kind: str | None = None
    channel: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        result: list[ColumnElement[bool]] = []
        if self.unit is not None:
            result.append(Case.unit == self.unit)
        if self.category is not None:
            result.append(Case.category == self.category)
        if self.kind is not None:
            result.append(Case.kind == self.kind)
        if self.channel is not None:
            result.append(Case.channel == self.channel)
        return result


@dataclass(frozen=True)
class PeriodStats:
    """The figures of one period (and one group, for breakdowns). See the module docstring."""

    period: Period
    as_of: datetime
    received: int = 0
    answered: int = 0
    answered_on_time: int = 0
    answered_late: int = 0
    open: int = 0
    overdue_open: int = 0
    #: Working days; ``None`` when nothing was answered.
    handling_median: float | None = None
    handling_p90: float | None = None
    rated: int = 0
    very_satisfied: int = 0
    #: Rất hài lòng + hài lòng.
    satisfied: int = 0
    not_satisfied: int = 0
    #: Closed without a rating ("khong_danh_gia"); not part of ``rated``.
    closed_unrated: int = 0
    #: Answered cases that were reopened at least once.
    reopened: int = 0
    forwarded: int = 0
    rejected: int = 0
    #: The comparison period's figures (flow figures only; its backlog is not computed).
    previous: PeriodStats | None = field(default=None, compare=False)

    @property
    def on_time_rate(self) -> float | None:
        """Answered on time ÷ answered (0–1), ``None`` when nothing was answered."""
        return _ratio(self.answered_on_time, self.answered)

    @property
    def satisfaction_rate(self) -> float | None:
        """(Rất hài lòng + hài lòng) ÷ rated (0–1), ``None`` without ratings."""
        return _ratio(self.satisfied, self.rated)

    @property
    def rating_coverage(self) -> float | None:
        """Rated ÷ answered (0–1), ``None`` when nothing was answered."""
        return _ratio(self.rated, self.answered)

    @property
    def is_empty(self) -> bool:
        """Nothing received and nothing answered in the period."""
        return self.received == 0 and self.answered == 0

    def change(self, name: str) -> float | None:
        """``self.<name> - previous.<name>`` for a count, a rate or a handling time; ``None``
        without a comparison or when either side is ``None``. The backlog has no change."""
        if name in _BACKLOG_FIELDS:
            raise ValueError(f"{name} is a backlog figure: it has no previous value")
        if self.previous is None:
            return None
        now, before = getattr(self, name), getattr(self.previous, name)
        if now is None or before is None:
            return None
        return float(now - before)


@dataclass(frozen=True)
class TrendPoint:
    """One week of the trend chart."""

    week: Period
    received: int
    answered: int
    answered_on_time: int


@dataclass(frozen=True)
class OverdueCase:
    """An open case past its resolution deadline. No content, no personal data."""

    code: str
    kind: str
    category: str
    unit: str
    status: str
    created_at: datetime
    answer_due_at: datetime
    working_days_late: int


@dataclass(frozen=True)
class CaseRow:
    """One line of the case list of an export. No content, no personal data."""

    code: str
    kind: str
    category: str
    unit: str
    channel: str
    status: str
    created_at: datetime
    opened_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    answer_due_at: datetime
    extensions: int
    reopened: int
    rating: str | None
    received_in_period: bool
    answered_in_period: bool
    timeliness: Timeliness
    #: Working days from receipt to answer; ``None`` while not answered.
    handling_days: int | None


class StatsService:
    """Builds :class:`PeriodStats` and friends inside the caller's session (read only)."""

    def __init__(self, config: AppConfig, calculator: DeadlineCalculator) -> None:
        self.config = config
        self.calculator = calculator
        self.calendar = calculator.calendar
        self.tz = calculator.tz
        self.offset_seconds = _fixed_offset(
            self.tz, self.calendar.first_day.year, self.calendar.last_day.year
        )
        self._exception_cache: dict[tuple[date, date], list[tuple[int, int]]] = {}

    # ----------------------------------------------------------------- public API

    def summary(
        self,
        session: Session,
        period: Period,
        *,
        as_of: datetime,
        unit: str | None = None,
        category: str | None = None,
        kind: str | None = None,
        channel: str | None = None,
        compare: bool | Period = True,
    ) -> PeriodStats:
        """The figures of ``period`` for the whole commune or the given filters.

        ``compare``: ``True`` attaches ``period.previous()`` as ``.previous``; a
        :class:`Period` attaches that one instead; ``False`` none.
        """
        filt = CaseFilter(unit=unit, category=category, kind=kind, channel=channel)
        stats = self._collect(session, period, None, filt, as_of, backlog=True).get(
            "", PeriodStats(period=period, as_of=as_of)
        )
        other = _comparison(period, compare)
        if other is not None:
            before = self._collect(session, other, None, filt, as_of, backlog=False).get(
                "", PeriodStats(period=other, as_of=as_of)
            )
            stats = replace(stats, previous=before)
        return stats

    def breakdown(
        self,
        session: Session,
        period: Period,
        by: Grouping,
        *,
        as_of: datetime,
        unit: str | None = None,
        category: str | None = None,
        kind: str | None = None,
        channel: str | None = None,
        compare: bool | Period = False,
    ) -> dict[str, PeriodStats]:
        """Figures per unit, category, case kind or channel, keyed by id.

        Every configured unit (category, kind) is present, in config order, even with no
        cases; ids found in the data but no longer configured come last.
        """
        if by not in GROUPINGS:
            raise ValueError(f"unknown grouping {by!r}; use one of {', '.join(GROUPINGS)}")
        filt = CaseFilter(unit=unit, category=category, kind=kind, channel=channel)
        found = self._collect(session, period, by, filt, as_of, backlog=True)
        result = self._complete(by, filt, found, period, as_of)
        other = _comparison(period, compare)
        if other is not None:
            before = self._collect(session, other, by, filt, as_of, backlog=False)
            empty = PeriodStats(period=other, as_of=as_of)
            result = {
                key: replace(stats, previous=before.get(key, empty))
                for key, stats in result.items()
            }
        return result

    def summary_and_breakdown(
        self,
        session: Session,
        period: Period,
        by: Grouping,
        *,
        as_of: datetime,
        unit: str | None = None,
        category: str | None = None,
        kind: str | None = None,
        channel: str | None = None,
        compare: bool | Period = False,
    ) -> tuple[PeriodStats, dict[str, PeriodStats]]:
        """:meth:`summary` and :meth:`breakdown` together, from the same grouped queries
        (about half the work of calling both; the totals are identical)."""
        if by not in GROUPINGS:
            raise ValueError(f"unknown grouping {by!r}; use one of {', '.join(GROUPINGS)}")
        filt = CaseFilter(unit=unit, category=category, kind=kind, channel=channel)
        found = self._collect(session, period, by, filt, as_of, backlog=True, total=True)
        total = found.pop("")
        groups = self._complete(by, filt, found, period, as_of)
        other = _comparison(period, compare)
        if other is not None:
            before = self._collect(session, other, by, filt, as_of, backlog=False, total=True)
            empty = PeriodStats(period=other, as_of=as_of)
            total = replace(total, previous=before.pop("", empty))
            groups = {
                key: replace(stats, previous=before.get(key, empty))
                for key, stats in groups.items()
            }
        return total, groups

    def weekly_trend(
        self,
        session: Session,
        end: date,
        weeks: int = 8,
        *,
        unit: str | None = None,
        category: str | None = None,
        kind: str | None = None,
        channel: str | None = None,
    ) -> list[TrendPoint]:
        """Received and answered per week (Monday–Sunday) for the ``weeks`` weeks up to the
        one containing the local date ``end``, oldest first."""
        filt = CaseFilter(unit=unit, category=category, kind=kind, channel=channel)
        return self._trend(session, end, weeks, None, filt).get("") or self._empty_trend(end, weeks)

    def weekly_trends_by(
        self,
        session: Session,
        end: date,
        by: Grouping,
        weeks: int = 8,
    ) -> dict[str, list[TrendPoint]]:
        """:meth:`weekly_trend` for every unit (category, kind, channel) in two queries;
        configured ids are always present."""
        if by not in GROUPINGS:
            raise ValueError(f"unknown grouping {by!r}; use one of {', '.join(GROUPINGS)}")
        found = self._trend(session, end, weeks, by, CaseFilter())
        result = {
            key: found.get(key) or self._empty_trend(end, weeks)
            for key in self._known_keys(by, CaseFilter())
        }
        for key in sorted(found):
            result.setdefault(key, found[key])
        return result

    def oldest_overdue(
        self,
        session: Session,
        as_of: datetime,
        *,
        unit: str | None = None,
        limit: int = 5,
    ) -> list[OverdueCase]:
        """Open cases past their resolution deadline at ``as_of``, longest overdue first."""
        rows = session.execute(
            select(*_OVERDUE_COLUMNS)
            .where(*_overdue_where(as_of), *CaseFilter(unit=unit).clauses())
            .order_by(*_OVERDUE_ORDER)
            .limit(limit)
        )
        return [self._overdue_case(row, as_of) for row in rows]

    def oldest_overdue_by_unit(
        self, session: Session, as_of: datetime, *, limit: int = 5
    ) -> dict[str, list[OverdueCase]]:
        """:meth:`oldest_overdue` of every unit in one query (units without any are absent)."""
        rank = (
            func.row_number()
            .over(partition_by=Case.unit, order_by=list(_OVERDUE_ORDER))
            .label("rank")
        )
        ranked = select(*_OVERDUE_COLUMNS, rank).where(*_overdue_where(as_of)).subquery()
        statement = (
            select(*(ranked.c[column.key] for column in _OVERDUE_COLUMNS))
            .where(ranked.c.rank <= limit)
            .order_by(ranked.c.unit, ranked.c.rank)
        )
        result: dict[str, list[OverdueCase]] = {}
        for row in session.execute(statement):
            case_ = self._overdue_case(row, as_of)
            result.setdefault(case_.unit, []).append(case_)
        return result

    def case_rows(
        self,
        session: Session,
        period: Period,
        *,
        as_of: datetime,
        unit: str | None = None,
        category: str | None = None,
        kind: str | None = None,
        channel: str | None = None,
        batch: int = 1000,
    ) -> Iterator[CaseRow]:
        """The cases received or answered in ``period``, oldest first, streamed in batches
        (a server-side cursor on PostgreSQL). Consume it inside the session's transaction."""
        start, end = period.bounds(self.tz)
        filters = CaseFilter(unit=unit, category=category, kind=kind, channel=channel).clauses()
        received = and_(Case.created_at >= start, Case.created_at < end)
        answered = and_(*self._answered_where(start, end))
        statement = (
            select(
                Case.code,
                Case.kind,
                Case.category,
                Case.unit,
                Case.channel,
                Case.status,
                Case.created_at,
                Case.opened_at,
                Case.answered_at,
                Case.closed_at,
                Case.answer_due_at,
                Case.extensions,
                Case.reopened,
                Case.rating,
            )
            .where(or_(received, answered), *filters)
            .order_by(Case.created_at, Case.id)
            .execution_options(yield_per=batch)
        )
        for row in session.execute(statement):
            (code, kind_id, category_id, unit_id, channel_id, status, created_at) = row[:7]
            opened_at, answered_at, closed_at, due, extensions, reopened, rating = row[7:]
            answer_time: datetime | None = (
                answered_at if status not in NOT_ANSWERED_STATUSES else None
            )
            yield CaseRow(
                code=code,
                kind=kind_id,
                category=category_id,
                unit=unit_id,
                channel=channel_id,
                status=status,
                created_at=created_at,
                opened_at=opened_at,
                answered_at=answered_at,
                closed_at=closed_at,
                answer_due_at=due,
                extensions=extensions,
                reopened=reopened,
                rating=rating,
                received_in_period=start <= created_at < end,
                answered_in_period=answer_time is not None and start <= answer_time < end,
                timeliness=self._timeliness(status, answered_at, due, as_of),
                handling_days=(
                    None
                    if answer_time is None
                    else self.calculator.handling_working_days(created_at, answer_time)
                ),
            )

    # ----------------------------------------------------------------- internals

    def _trend(
        self,
        session: Session,
        end: date,
        weeks: int,
        by: Grouping | None,
        filt: CaseFilter,
    ) -> dict[str, list[TrendPoint]]:
        if weeks < 1:
            raise ValueError("weeks must be at least 1")
        first_day = week_of(end).first_day - timedelta(days=7 * (weeks - 1))
        start, stop = Period(first_day, week_of(end).last_day).bounds(self.tz)
        dialect = _dialect(session)
        filters = filt.clauses()
        keys: list[ColumnElement[Any]] = [getattr(Case, by).label("k")] if by else []
        base = _day_number(first_day)
        counts: dict[str, dict[int, list[int]]] = {}

        week = ((self._local_day(Case.created_at, dialect) - base) // 7).label("w")
        for row in session.execute(
            select(*keys, week, func.count())
            .where(Case.created_at >= start, Case.created_at < stop, *filters)
            .group_by(*keys, week)
        ):
            key, (index, received) = _split_key(row, by)
            counts.setdefault(key, {}).setdefault(int(index), [0, 0, 0])[0] = int(received)

        week = ((self._local_day(Case.answered_at, dialect) - base) // 7).label("w")
        for row in session.execute(
            select(*keys, week, func.count(), _count_if(_on_time()))
            .where(*self._answered_where(start, stop), *filters)
            .group_by(*keys, week)
        ):
            key, (index, answered, on_time) = _split_key(row, by)
            slot = counts.setdefault(key, {}).setdefault(int(index), [0, 0, 0])
            slot[1], slot[2] = int(answered), int(on_time or 0)

        result: dict[str, list[TrendPoint]] = {}
        for key, per_week in counts.items():
            points = self._empty_trend(end, weeks)
            for index, (received, answered, on_time) in per_week.items():
                if 0 <= index < weeks:
                    points[index] = replace(
                        points[index],
                        received=received,
                        answered=answered,
                        answered_on_time=on_time,
                    )
            result[key] = points
        return result

    def _empty_trend(self, end: date, weeks: int) -> list[TrendPoint]:
        last = week_of(end).first_day
        return [
            TrendPoint(week_of(last - timedelta(days=7 * (weeks - 1 - i))), 0, 0, 0)
            for i in range(weeks)
        ]

    def _overdue_case(self, row: Any, as_of: datetime) -> OverdueCase:
        code, kind, category, unit_id, status, created_at, due = tuple(row)[:7]
        return OverdueCase(
            code=code,
            kind=kind,
            category=category,
            unit=unit_id,
            status=status,
            created_at=created_at,
            answer_due_at=due,
            working_days_late=self.calculator.working_days_late(due, as_of),
        )

    def _complete(
        self,
        by: Grouping,
        filt: CaseFilter,
        found: dict[str, PeriodStats],
        period: Period,
        as_of: datetime,
    ) -> dict[str, PeriodStats]:
        """Configured keys first (empty figures when absent), then unknown ones sorted."""
        result = {
            key: found.get(key, PeriodStats(period=period, as_of=as_of))
            for key in self._known_keys(by, filt)
        }
        for key in sorted(found):
            result.setdefault(key, found[key])
        return result

    def _known_keys(self, by: Grouping, filt: CaseFilter) -> list[str]:
        if by == "unit":
            keys = list(self.config.units)
            return [filt.unit] if filt.unit is not None else keys
        if by == "category":
            keys = list(self.config.categories)
            return [filt.category] if filt.category is not None else keys
        if by == "kind":
            return [filt.kind] if filt.kind is not None else list(CASE_KINDS)
        return [filt.channel] if filt.channel is not None else []

    def _timeliness(
        self, status: str, answered_at: datetime | None, due: datetime, as_of: datetime
    ) -> Timeliness:
        if status in NOT_ANSWERED_STATUSES:
            return "not_applicable"
        if status in OPEN_STATUSES:
            return "open_overdue" if due < as_of else "open"
        if answered_at is None:
            return "not_applicable"
        return "on_time" if answered_at <= due else "late"

    def _answered_where(self, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
        return [
            Case.answered_at >= start,
            Case.answered_at < end,
            Case.status.not_in(NOT_ANSWERED_STATUSES),
        ]

    def _collect(
        self,
        session: Session,
        period: Period,
        by: Grouping | None,
        filt: CaseFilter,
        as_of: datetime,
        *,
        backlog: bool,
        total: bool = False,
    ) -> dict[str, PeriodStats]:
        """Figures per group key; ``""`` is the total (the only key when not grouped, and
        added to the groups when ``total``)."""
        start, end = period.bounds(self.tz)
        filters = filt.clauses()
        keys: list[ColumnElement[Any]] = [getattr(Case, by).label("k")] if by else []
        want_total = by is None or total
        values: dict[str, dict[str, int]] = {}

        def add(key: str, **figures: int) -> None:
            slot = values.setdefault(key, {})
            for name, value in figures.items():
                slot[name] = slot.get(name, 0) + int(value or 0)

        def put(key: str, **figures: Any) -> None:
            if by is not None and want_total:
                add("", **figures)
            add(key, **figures)

        # Received in the period, and what became of them.
        for row in session.execute(
            select(
                *keys,
                func.count(),
                _count_if(Case.status == "forwarded"),
                _count_if(Case.status == "rejected"),
            )
            .where(Case.created_at >= start, Case.created_at < end, *filters)
            .group_by(*keys)
        ):
            key, (received, forwarded, rejected) = _split_key(row, by)
            if received:
                put(key, received=received, forwarded=forwarded, rejected=rejected)

        # Answered in the period: timeliness, ratings, reopened, handling time.
        handling = self._answered(session, keys, by, filters, start, end, period, want_total)
        for key, (figures, _) in handling.items():
            if key == "" and by is not None:
                continue  # the total is added up from the groups
            put(key, **figures)

        # The backlog at `as_of`. Only the (rare) open statuses are read: the condition on
        # created_at stays out of WHERE so that the planner uses the status index.
        if backlog:
            received_before = Case.created_at < end
            for row in session.execute(
                select(
                    *keys,
                    _count_if(received_before),
                    _count_if(and_(received_before, Case.answer_due_at < as_of)),
                )
                .where(Case.status.in_(OPEN_STATUSES), *filters)
                .group_by(*keys)
            ):
                key, (count, overdue) = _split_key(row, by)
                if count:
                    put(key, open=count, overdue_open=overdue)

        result: dict[str, PeriodStats] = {}
        for key, figures in values.items():
            answered = figures.get("answered", 0)
            figures["answered_late"] = answered - figures.get("answered_on_time", 0)
            median, p90 = handling.get(key, ({}, (None, None)))[1]
            counts: dict[str, Any] = figures
            result[key] = PeriodStats(
                period=period, as_of=as_of, handling_median=median, handling_p90=p90, **counts
            )
        if want_total and "" not in result:
            result[""] = PeriodStats(period=period, as_of=as_of)
        return result

    def _answered(
        self,
        session: Session,
        keys: Sequence[ColumnElement[Any]],
        by: Grouping | None,
        filters: Sequence[ColumnElement[bool]],
        start: datetime,
        end: datetime,
        period: Period,
        total: bool,
    ) -> dict[str, tuple[dict[str, int], tuple[float | None, float | None]]]:
        """Counts and handling-time percentiles of the cases answered in ``[start, end)``,
        per group key (and ``""`` for the total when ``total``), in one pass.

        The day numbers of receipt and answer are computed once per case (a materialised
        CTE on SQLite, an ``OFFSET 0`` subquery on PostgreSQL); the working days between them use the closed-form weekday count plus the
        calendar's exceptions as a balanced CASE tree. PostgreSQL aggregates per group (with
        ROLLUP for the total) and takes ``percentile_cont``; SQLite groups by (key, days) —
        a histogram — and the percentiles are read off it.
        """
        dialect = _dialect(session)
        rated = Case.rating.in_(RATED)
        per_case = select(
            *keys,
            self._local_day(Case.created_at, dialect).label("r"),
            self._local_day(Case.answered_at, dialect).label("a"),
            case((_on_time(), 1), else_=0).label("on_time"),
            case((rated, 1), else_=0).label("rated"),
            case((Case.rating == "rat_hai_long", 1), else_=0).label("very"),
            case((Case.rating.in_(SATISFIED), 1), else_=0).label("satisfied"),
            case((Case.rating == "chua_hai_long", 1), else_=0).label("unhappy"),
            case((Case.rating == "khong_danh_gia", 1), else_=0).label("unrated"),
            case((Case.reopened > 0, 1), else_=0).label("reopened"),
        ).where(*self._answered_where(start, end), *filters)
        handled: Any
        if dialect == "postgresql":
            # OFFSET 0 keeps the subquery from being pulled up (so each day number is
            # computed once per row) without writing it to a temporary table.
            handled = per_case.offset(0).subquery("handled")
        else:
            handled = per_case.cte("handled")
            if _materialized_ok(dialect):
                handled = handled.prefix_with("MATERIALIZED")
        c = handled.c
        exceptions = self._exceptions(self.calendar.first_day - timedelta(days=1), period.last_day)
        span = _weekdays_through(c.a) - _weekdays_through(c.r)
        if exceptions:
            span = span + _step(c.a, exceptions) - _step(c.r, exceptions)
        # Never negative (an answer stamped before receipt would be a data error).
        days = func.greatest(span, 0) if dialect == "postgresql" else func.max(span, 0)
        names = (
            "answered",
            "answered_on_time",
            "rated",
            "very_satisfied",
            "satisfied",
            "not_satisfied",
            "closed_unrated",
            "reopened",
        )
        group = [c.k] if by else []
        result: dict[str, tuple[dict[str, int], tuple[float | None, float | None]]] = {}

        if dialect == "postgresql":
            inner = select(*group, days.label("h"), *(getattr(c, n) for n in _FLAGS)).subquery()
            inner_group = [inner.c.k] if by else []
            grouping = [func.rollup(*inner_group)] if by and total else inner_group
            statement = select(
                *inner_group,
                func.count(),
                *(func.sum(getattr(inner.c, n)) for n in _FLAGS),
                func.percentile_cont(0.5).within_group(inner.c.h),
                func.percentile_cont(0.9).within_group(inner.c.h),
            ).group_by(*grouping)
            for row in session.execute(statement):
                values = tuple(row)
                key = "" if not by or values[0] is None else str(values[0])
                numbers = values[1:] if by else values
                count = int(numbers[0] or 0)
                if not count:
                    continue
                median, p90 = numbers[-2], numbers[-1]
                result[key] = (
                    {n: int(v or 0) for n, v in zip(names, numbers[:-2], strict=True)},
                    (round(float(median), 2), round(float(p90), 2)),
                )
            return result

        inner = select(*group, days.label("h"), *(getattr(c, n) for n in _FLAGS)).subquery()
        inner_group = [inner.c.k] if by else []
        statement = select(
            *inner_group,
            inner.c.h,
            func.count(),
            *(func.sum(getattr(inner.c, n)) for n in _FLAGS),
        ).group_by(*inner_group, inner.c.h)
        counts: dict[str, dict[str, int]] = {}
        histograms: dict[str, dict[int, int]] = {}
        for row in session.execute(statement):
            key, (value, *sums) = _split_key(row, by)
            targets = [key, ""] if by and total else [key]
            for target in targets:
                slot = counts.setdefault(target, dict.fromkeys(names, 0))
                for name, number in zip(names, sums, strict=True):
                    slot[name] += int(number or 0)
                histogram = histograms.setdefault(target, {})
                histogram[int(value)] = histogram.get(int(value), 0) + int(sums[0])
        for key, slot in counts.items():
            ordered = sorted(histograms[key].items())
            result[key] = (
                slot,
                (round(_percentile(ordered, 0.5), 2), round(_percentile(ordered, 0.9), 2)),
            )
        return result

    def _exceptions(self, first_day: date, last_day: date) -> list[tuple[int, int]]:
        key = (first_day, last_day)
        if key not in self._exception_cache:
            if len(self._exception_cache) > 64:
                self._exception_cache.clear()
            self._exception_cache[key] = self._compute_exceptions(first_day, last_day)
        return self._exception_cache[key]

    def _compute_exceptions(self, first_day: date, last_day: date) -> list[tuple[int, int]]:
        """Day numbers in ``(first_day, last_day]`` where the working-day count differs from
        Monday–Friday, with the running correction from ``first_day``: −1 per weekday off,
        +1 per weekend day worked."""
        changes: list[tuple[int, int]] = []
        for day in self.calendar.non_working_days(first_day + timedelta(days=1), last_day):
            if day.weekday() < 5:
                changes.append((_day_number(day), -1))
        day = first_day + timedelta(days=1)
        while day <= last_day:
            if day.weekday() >= 5 and self.calendar.is_working_day(day):
                changes.append((_day_number(day), +1))
            day += timedelta(days=1 if day.weekday() >= 5 else 5 - day.weekday())
        changes.sort()
        running, result = 0, []
        for number, delta in changes:
            running += delta
            result.append((number, running))
        return result

    def _local_day(self, column: Any, dialect: str) -> ColumnElement[int]:
        """Local day number of a UTC timestamp column (days since Monday 3/1/2000)."""
        offset = self.offset_seconds
        if dialect == "sqlite":
            shifted = func.julianday(column, f"{offset:+d} seconds")
            return cast(shifted - _JD_EPOCH, Integer)
        if dialect == "postgresql":
            moved = cast(column + literal_column(f"INTERVAL '{offset} seconds'"), Date)
            return type_coerce(moved - literal_column(f"DATE '{_EPOCH.isoformat()}'"), Integer)
        raise NotImplementedError(f"statistics are not implemented for {dialect}")


# --------------------------------------------------------------------- SQL helpers


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _materialized_ok(dialect: str) -> bool:
    if dialect == "sqlite":
        return sqlite3.sqlite_version_info >= (3, 35, 0)
    return dialect == "postgresql"


#: 0/1 columns of the answered cases, summed per group (after the count).
_FLAGS = ("on_time", "rated", "very", "satisfied", "unhappy", "unrated", "reopened")

_OVERDUE_COLUMNS = (
    Case.code,
    Case.kind,
    Case.category,
    Case.unit,
    Case.status,
    Case.created_at,
    Case.answer_due_at,
)
_OVERDUE_ORDER = (Case.answer_due_at, Case.created_at, Case.id)


def _overdue_where(as_of: datetime) -> list[ColumnElement[bool]]:
    return [Case.status.in_(OPEN_STATUSES), Case.answer_due_at < as_of]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _on_time() -> ColumnElement[bool]:
    return Case.answered_at <= Case.answer_due_at


def _weekdays_through(day: Any) -> ColumnElement[int]:
    """Mondays–Fridays among day numbers ``0..day`` (day 0 is a Monday)."""
    remainder = day % 7
    result: ColumnElement[int] = 5 * (day // 7) + case((remainder >= 5, 5), else_=remainder + 1)
    return result


def _step(day: Any, exceptions: Sequence[tuple[int, int]]) -> ColumnElement[Any]:
    """The running correction at ``day``: a balanced CASE tree over the sorted exception
    days, so that each value costs about log2(len(exceptions)) comparisons."""

    def tree(low: int, high: int, below: int) -> ColumnElement[Any]:
        if low > high:
            return literal_column(str(below))
        middle = (low + high) // 2
        number, running = exceptions[middle]
        return case(
            (day >= literal_column(str(number)), tree(middle + 1, high, running)),
            else_=tree(low, middle - 1, below),
        )

    return tree(0, len(exceptions) - 1, 0)


def _split_key(row: Any, by: Grouping | None) -> tuple[str, tuple[Any, ...]]:
    values = tuple(row)
    if by is None:
        return "", values
    return str(values[0]), values[1:]


def _comparison(period: Period, compare: bool | Period) -> Period | None:
    if isinstance(compare, Period):
        return compare
    return period.previous() if compare else None


# --------------------------------------------------------------------- plain helpers


def _day_number(day: date) -> int:
    return (day - _EPOCH).days


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _percentile(histogram: Sequence[tuple[int, int]], fraction: float) -> float:
    """``percentile_cont(fraction)`` of the values described by sorted (value, count) pairs."""
    total = sum(count for _, count in histogram)
    position = fraction * (total - 1)
    lower = math.floor(position)
    weight = position - lower

    def value_at(index: int) -> int:
        seen = 0
        for value, count in histogram:
            seen += count
            if index < seen:
                return value
        return histogram[-1][0]

    low = value_at(lower)
    if weight == 0:
        return float(low)
    high = value_at(lower + 1)
    return low + weight * (high - low)


def _fixed_offset(tz: tzinfo, first_year: int, last_year: int) -> int:
    """The UTC offset of ``tz`` in seconds; SQL local days need it constant (no DST)."""
    offsets = set()
    for year in range(first_year, last_year + 1):
        for month in (1, 4, 7, 10):
            moment = datetime(year, month, 1, 12, tzinfo=UTC).astimezone(tz)
            offset = moment.utcoffset()
            if offset is not None:
                offsets.add(int(offset.total_seconds()))
    if len(offsets) != 1:
        raise ValueError(f"time zone {tz} changes its UTC offset; statistics need a fixed one")
    return offsets.pop()
