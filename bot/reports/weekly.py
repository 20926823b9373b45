"""The weekly report and the ``/thongke`` answer: figures in SQL, then text and a chart.

Two steps so that the database transaction stays short and the chart is drawn outside it:

1. *collect* (inside a session): :func:`collect_weekly` for the Monday job (the commune and
   every unit at once, sharing the queries), :func:`collect_report` for one period and scope;
2. *render* (no database): :func:`render_report` gives a :class:`Report` — the Vietnamese
   text, the PNG chart (``None`` when the period had no cases) and a short photo caption.

Example (the Monday job)::

    data = await db.run(collect_weekly, stats, as_of=clock.now(), units=head_units)
    for leader in leaders:   send(render_report(data.commune, config))
    for head, unit in heads: send(render_report(data.units[unit], config))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.reports.charts import BarGroup, report_chart
from bot.reports.periods import Period, format_day, last_week, year_to_date
from storage.stats import OverdueCase, PeriodStats, StatsService, TrendPoint

__all__ = [
    "EMPTY_PERIOD",
    "EMPTY_WEEK",
    "Report",
    "ReportData",
    "WeeklyData",
    "collect_report",
    "collect_weekly",
    "format_count",
    "format_days",
    "format_percent",
    "render_report",
    "report_text",
]

#: First line of a weekly report when nothing was received or answered.
EMPTY_WEEK = "Tuần qua không có hồ sơ nào."
#: The same for ``/thongke`` and other periods.
EMPTY_PERIOD = "Trong kỳ này không có hồ sơ nào được tiếp nhận hoặc trả lời."
#: How many overdue cases a report lists at most.
OVERDUE_SHOWN = 5

Heading = Literal["weekly", "stats"]


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows, for the commune (``unit is None``) or one unit."""

    period: Period
    as_of: datetime
    unit: str | None
    stats: PeriodStats
    #: Year to date (weekly report), else None.
    ytd: PeriodStats | None
    #: Bars of the chart: per unit for the commune, per category for a unit.
    groups: dict[str, PeriodStats]
    group_by: Literal["unit", "category"]
    trend: list[TrendPoint]
    overdue: list[OverdueCase]
    heading: Heading = "stats"


@dataclass(frozen=True)
class WeeklyData:
    """The Monday report for the commune and for each unit asked for."""

    commune: ReportData
    units: dict[str, ReportData] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    text: str
    #: PNG bytes; None when the period had no cases (the text says so).
    chart: bytes | None
    #: Short caption for the photo (Telegram captions are limited to 1024 characters).
    caption: str


# --------------------------------------------------------------------- collecting


def collect_report(
    session: Session,
    service: StatsService,
    period: Period,
    *,
    as_of: datetime,
    unit: str | None = None,
    ytd: Period | None = None,
    trend_weeks: int = 8,
    heading: Heading = "stats",
) -> ReportData:
    """The figures of one report: ``period`` compared with ``period.previous()``, per unit
    (commune) or per category (``unit`` given), the trend of the ``trend_weeks`` weeks up to
    the end of the period, and the oldest overdue cases."""
    group_by: Literal["unit", "category"] = "unit" if unit is None else "category"
    stats, groups = service.summary_and_breakdown(
        session, period, group_by, as_of=as_of, unit=unit, compare=True
    )
    return ReportData(
        period=period,
        as_of=as_of,
        unit=unit,
        stats=stats,
        ytd=(
            service.summary(session, ytd, as_of=as_of, unit=unit, compare=False)
            if ytd is not None
            else None
        ),
        groups=groups,
        group_by=group_by,
        trend=service.weekly_trend(session, period.last_day, trend_weeks, unit=unit),
        overdue=service.oldest_overdue(session, as_of, unit=unit, limit=OVERDUE_SHOWN),
        heading=heading,
    )


def collect_weekly(
    session: Session,
    service: StatsService,
    *,
    as_of: datetime,
    units: Iterable[str] = (),
    trend_weeks: int = 8,
) -> WeeklyData:
    """The Monday report: the previous week (Monday–Sunday before ``as_of``) and the year
    to date up to its Sunday, for the commune and for each of ``units`` (the units that have
    a head). Queries are shared: per-unit figures come from the breakdowns by unit."""
    today = service.calculator.local_date(as_of)
    week = last_week(today)
    ytd = year_to_date(week.last_day)
    week_total, week_units = service.summary_and_breakdown(
        session, week, "unit", as_of=as_of, compare=True
    )
    ytd_total, ytd_units = service.summary_and_breakdown(session, ytd, "unit", as_of=as_of)
    commune = ReportData(
        period=week,
        as_of=as_of,
        unit=None,
        stats=week_total,
        ytd=ytd_total,
        groups=week_units,
        group_by="unit",
        trend=service.weekly_trend(session, week.last_day, trend_weeks),
        overdue=service.oldest_overdue(session, as_of, limit=OVERDUE_SHOWN),
        heading="weekly",
    )
    wanted = list(dict.fromkeys(units))
    if not wanted:
        return WeeklyData(commune=commune)
    trends = service.weekly_trends_by(session, week.last_day, "unit", trend_weeks)
    overdue = service.oldest_overdue_by_unit(session, as_of, limit=OVERDUE_SHOWN)
    empty_week = PeriodStats(period=week, as_of=as_of)
    per_unit = {}
    for unit in wanted:
        per_unit[unit] = ReportData(
            period=week,
            as_of=as_of,
            unit=unit,
            stats=week_units.get(unit, empty_week),
            ytd=ytd_units.get(unit, PeriodStats(period=ytd, as_of=as_of)),
            groups=service.breakdown(session, week, "category", as_of=as_of, unit=unit),
            group_by="category",
            trend=trends.get(unit)
            or service.weekly_trend(session, week.last_day, trend_weeks, unit=unit),
            overdue=overdue.get(unit, []),
            heading="weekly",
        )
    return WeeklyData(commune=commune, units=per_unit)


# --------------------------------------------------------------------- rendering


def render_report(data: ReportData, config: AppConfig) -> Report:
    """Text, chart and caption of a report (no database access; draws the chart)."""
    title = _title(data, config)
    chart = None
    if not data.stats.is_empty:
        names = config.unit_name if data.group_by == "unit" else config.category_name
        groups = [BarGroup(names(key), stats) for key, stats in data.groups.items()]
        chart = report_chart(
            title,
            groups,
            data.trend,
            group_title="Theo đơn vị" if data.group_by == "unit" else "Theo lĩnh vực",
        )
    return Report(text=report_text(data, config), chart=chart, caption=title)


def report_text(data: ReportData, config: AppConfig) -> str:
    """The Vietnamese text of a report (weekly or ``/thongke``)."""
    stats = data.stats
    tz = config.commune.timezone
    local = data.as_of.astimezone(tz)
    lines = [
        _title(data, config),
        f"Số liệu đến {local:%H:%M} ngày {format_day(local.date())}.",
        "",
    ]
    if stats.is_empty:
        lines.append(EMPTY_WEEK if data.heading == "weekly" else EMPTY_PERIOD)
    else:
        lines.extend(_figure_lines(stats, data.period))
    lines.append(_backlog_line(stats))

    if data.ytd is not None and not data.ytd.is_empty:
        lines.extend(["", _ytd_line(data.ytd)])

    if data.overdue:
        lines.extend(["", "Hồ sơ quá hạn lâu nhất:"])
        for number, case in enumerate(data.overdue[:OVERDUE_SHOWN], 1):
            late = (
                f"quá hạn {case.working_days_late} ngày làm việc"
                if case.working_days_late
                else "quá hạn"
            )
            due_day = format_day(case.answer_due_at.astimezone(tz).date())
            lines.append(
                f"{number}. {case.code} — {config.unit_name(case.unit)} — {late} (hạn {due_day})"
            )
    return "\n".join(lines)


def _title(data: ReportData, config: AppConfig) -> str:
    scope = config.commune.name if data.unit is None else config.unit_name(data.unit)
    if data.heading == "weekly":
        return f"Báo cáo {data.period.label} — {scope}"
    return f"Thống kê {data.period.title} — {scope}"


def _figure_lines(stats: PeriodStats, period: Period) -> list[str]:
    before = stats.previous
    name = period.previous_name
    lines = [f"• Tiếp nhận: {format_count(stats.received)} hồ sơ{_versus(stats, 'received', name)}"]

    answered = f"• Đã trả lời: {format_count(stats.answered)}"
    if stats.answered:
        answered += (
            f" — đúng hạn {format_count(stats.answered_on_time)}"
            f" ({format_percent(stats.on_time_rate)}), quá hạn {format_count(stats.answered_late)}"
        )
    lines.append(answered + _versus(stats, "answered", name))

    if stats.handling_median is not None and stats.handling_p90 is not None:
        lines.append(
            f"• Thời gian xử lý: trung vị {format_days(stats.handling_median)} ngày làm việc; "
            f"90% hồ sơ trả lời trong {format_days(stats.handling_p90)} ngày làm việc"
        )

    if stats.rated:
        satisfaction = (
            f"• Hài lòng: {format_percent(stats.satisfaction_rate)} "
            f"({format_count(stats.satisfied)}/{format_count(stats.rated)} lượt đánh giá"
        )
        if before is not None and before.satisfaction_rate is not None:
            satisfaction += f"; {name} {format_percent(before.satisfaction_rate)}"
        satisfaction += f"); {format_percent(stats.rating_coverage)} hồ sơ đã trả lời được đánh giá"
        lines.append(satisfaction)
    elif stats.answered:
        lines.append("• Hài lòng: chưa có đánh giá")

    extras = []
    if stats.reopened:
        extras.append(f"mở lại {format_count(stats.reopened)}")
    if stats.forwarded:
        extras.append(f"chuyển cơ quan có thẩm quyền {format_count(stats.forwarded)}")
    if stats.rejected:
        extras.append(f"không xử lý {format_count(stats.rejected)}")
    if extras:
        lines.append("• Khác: " + ", ".join(extras))
    return lines


def _backlog_line(stats: PeriodStats) -> str:
    if not stats.open:
        return "• Đang xử lý: không còn hồ sơ nào"
    line = f"• Đang xử lý: {format_count(stats.open)}"
    if stats.overdue_open:
        line += f", trong đó quá hạn {format_count(stats.overdue_open)}"
    return line


def _ytd_line(ytd: PeriodStats) -> str:
    line = (
        f"Từ đầu năm ({ytd.period.range_text}): tiếp nhận {format_count(ytd.received)}, "
        f"đã trả lời {format_count(ytd.answered)}"
    )
    if ytd.answered:
        line += f" (đúng hạn {format_percent(ytd.on_time_rate)})"
    if ytd.rated:
        line += (
            f", hài lòng {format_percent(ytd.satisfaction_rate)}"
            f" ({format_count(ytd.satisfied)}/{format_count(ytd.rated)})"
        )
    return line + "."


def _versus(stats: PeriodStats, name: str, previous_name: str) -> str:
    before = stats.previous
    if before is None:
        return ""
    old = getattr(before, name)
    delta = getattr(stats, name) - old
    if delta > 0:
        trend = f"tăng {format_count(delta)}"
    elif delta < 0:
        trend = f"giảm {format_count(-delta)}"
    else:
        trend = "không đổi"
    return f" ({previous_name}: {format_count(old)}, {trend})"


# --------------------------------------------------------------------- numbers


def format_count(value: int) -> str:
    """``1.020``: Vietnamese thousands separator."""
    return f"{value:,}".replace(",", ".")


def format_percent(value: float | None) -> str:
    """``83,3%``; whole numbers without decimals (``75%``); ``—`` when undefined."""
    if value is None:
        return "—"
    return _decimal(value * 100) + "%"


def format_days(value: float) -> str:
    """``8`` or ``10,4``."""
    return _decimal(value)


def _decimal(value: float) -> str:
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return text.replace(".", ",")
