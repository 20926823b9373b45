"""The statistics service against hand-computed figures, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import statistics
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, text

from bot.config import AppConfig
from bot.reports.periods import Period, parse_period
from bot.rules.deadlines import DeadlineCalculator
from storage.db import Database
from storage.models import Case, Person
from storage.stats import PeriodStats, StatsService, _percentile
from tests.conftest import POSTGRES_URL, make_config, require_postgres
from tests.reports import AS_OF, WEEK, Spec, due, insert_cases, local


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> AppConfig:
    return make_config(tmp_path, database_url)


@pytest.fixture
def db(config: AppConfig) -> Iterator[Database]:
    database = Database(config.storage.database_url)
    database.migrate()
    yield database
    database.close()


@pytest.fixture
def service(config: AppConfig) -> StatsService:
    return StatsService(config, DeadlineCalculator(config.calendar, config.commune.timezone))


Shared = tuple[Database, StatsService]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shared]:
    """The sample cases, written once per module and database (read-only tests)."""
    directory = tmp_path_factory.mktemp("stats")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'pakn.db'}"
    else:
        require_postgres()
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in POSTGRES_URL else "?"
        url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    config = make_config(directory, url)
    database = Database(url)
    database.migrate()
    insert_cases(database)
    yield (
        database,
        StatsService(config, DeadlineCalculator(config.calendar, config.commune.timezone)),
    )
    database.close()
    if schema is not None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_week_summary(shared: Shared) -> None:
    sample, service = shared
    with sample.transaction() as session:
        stats = service.summary(session, WEEK, as_of=AS_OF)
    assert stats.period == WEEK
    # Received C07, C08, C09, C10 (Sun 23:30 local); C11 (Mon 00:30) is next week.
    assert stats.received == 4
    assert (stats.forwarded, stats.rejected) == (1, 1)
    # Answered C01 C02 C03 C04 C05 C13; C03 late; C04 on time thanks to its extension.
    assert stats.answered == 6
    assert (stats.answered_on_time, stats.answered_late) == (5, 1)
    assert stats.on_time_rate == pytest.approx(5 / 6)
    # Handling 3, 4, 8, 8, 11, 35 working days.
    assert stats.handling_median == 8.0
    assert stats.handling_p90 == 23.0
    # Rated C01 C02 C03 C13 (C04 "khong_danh_gia" and C05 awaiting are not ratings).
    assert stats.rated == 4
    assert (stats.very_satisfied, stats.satisfied, stats.not_satisfied) == (2, 3, 1)
    assert stats.closed_unrated == 1
    assert stats.satisfaction_rate == pytest.approx(0.75)
    assert stats.rating_coverage == pytest.approx(4 / 6)
    assert stats.reopened == 1
    # Backlog at Mon 2/3 07:30: C07 C10 C12 C14 C15 (C11 came after the week); C14 C15 late.
    assert (stats.open, stats.overdue_open) == (5, 2)


def test_comparison_with_previous_week(shared: Shared) -> None:
    sample, service = shared
    with sample.transaction() as session:
        stats = service.summary(session, WEEK, as_of=AS_OF)
    before = stats.previous
    assert before is not None
    assert (before.period.first_day, before.period.last_day) == (
        date(2026, 2, 16),
        date(2026, 2, 22),
    )
    # Received C13 (17/2) and C12 (22/2 23:59); answered C16 on Saturday 21/2.
    assert (before.received, before.answered, before.answered_on_time) == (2, 1, 1)
    assert before.handling_median == 4.0
    assert (before.rated, before.satisfied) == (1, 1)
    assert stats.change("received") == 2
    assert stats.change("answered") == 5
    assert stats.change("satisfaction_rate") == pytest.approx(-0.25)
    with pytest.raises(ValueError):
        stats.change("open")

    with sample.transaction() as session:
        alone = service.summary(session, WEEK, as_of=AS_OF, compare=False)
    assert alone.previous is None and alone.change("received") is None
    assert alone == stats  # `previous` is not part of equality


def test_breakdown_by_unit(shared: Shared) -> None:
    sample, service = shared
    config = service.config
    with sample.transaction() as session:
        rows = service.breakdown(session, WEEK, "unit", as_of=AS_OF)
    assert list(rows) == list(config.units)  # every unit, config order
    kinh_te = rows["kinh_te"]
    assert (kinh_te.received, kinh_te.answered, kinh_te.answered_late) == (1, 3, 1)
    assert (kinh_te.handling_median, kinh_te.handling_p90) == (8.0, 10.4)
    assert (kinh_te.rated, kinh_te.satisfied, kinh_te.reopened) == (2, 1, 1)
    assert (kinh_te.open, kinh_te.overdue_open) == (2, 1)
    van_phong = rows["van_phong"]
    assert (van_phong.received, van_phong.rejected, van_phong.answered) == (1, 1, 1)
    assert (van_phong.rated, van_phong.closed_unrated, van_phong.handling_median) == (0, 1, 35.0)
    assert (van_phong.open, van_phong.overdue_open) == (1, 1)
    assert (rows["y_te"].received, rows["y_te"].forwarded) == (1, 1)
    assert (rows["phvhcc"].received, rows["phvhcc"].open) == (1, 1)
    assert (rows["cong_an"].answered, rows["cong_an"].very_satisfied) == (1, 1)
    assert rows["quan_su"] == PeriodStats(period=WEEK, as_of=AS_OF)
    assert rows["quan_su"].satisfaction_rate is None
    # Groups add up to the total.
    with sample.transaction() as session:
        total = service.summary(session, WEEK, as_of=AS_OF, compare=False)
    for name in ("received", "answered", "answered_late", "rated", "open", "overdue_open"):
        assert sum(getattr(row, name) for row in rows.values()) == getattr(total, name)


def test_breakdown_by_category_with_comparison(shared: Shared) -> None:
    sample, service = shared
    with sample.transaction() as session:
        rows = service.breakdown(session, WEEK, "category", as_of=AS_OF, compare=True)
    assert rows["moi_truong"].received == 1 and rows["moi_truong"].answered == 1
    assert rows["giao_duc"].previous is not None
    assert rows["giao_duc"].previous.answered == 1  # C16 in the week before
    assert rows["giao_duc"].change("answered") == -1
    assert rows["khac"].received == 0


def test_filters(shared: Shared) -> None:
    sample, service = shared
    with sample.transaction() as session:
        unit = service.summary(session, WEEK, as_of=AS_OF, unit="kinh_te")
        by_unit = service.breakdown(session, WEEK, "unit", as_of=AS_OF)["kinh_te"]
        to_cao = service.summary(session, WEEK, as_of=AS_OF, kind="to_cao")
        telegram = service.summary(session, WEEK, as_of=AS_OF, channel="telegram")
        land = service.summary(session, WEEK, as_of=AS_OF, category="dat_dai")
    assert unit == by_unit
    assert (to_cao.received, to_cao.answered, to_cao.open, to_cao.overdue_open) == (0, 1, 1, 1)
    assert (telegram.received, telegram.answered) == (1, 3)  # C07; C01 C04 C13
    assert (land.received, land.rejected, land.answered, land.reopened) == (1, 1, 1, 1)


def test_empty_period(db: Database, service: StatsService) -> None:
    with db.transaction() as session:
        stats = service.summary(session, WEEK, as_of=AS_OF)
        trend = service.weekly_trend(session, WEEK.last_day)
        overdue = service.oldest_overdue(session, AS_OF)
    assert stats.is_empty and stats.received == 0 and stats.handling_median is None
    assert stats.on_time_rate is None and stats.rating_coverage is None
    assert [p.received for p in trend] == [0] * 8
    assert overdue == []


def test_weekly_trend(shared: Shared) -> None:
    sample, service = shared
    with sample.transaction() as session:
        trend = service.weekly_trend(session, date(2026, 3, 1), weeks=8)
    assert [p.week.first_day for p in trend] == [
        date(2026, 1, 5) + timedelta(weeks=i) for i in range(8)
    ]
    assert [p.received for p in trend] == [0, 1, 1, 0, 1, 4, 2, 4]
    assert [p.answered for p in trend] == [0, 0, 0, 0, 0, 0, 1, 6]
    assert trend[-1].answered_on_time == 5
    with sample.transaction() as session:
        unit = service.weekly_trend(session, date(2026, 3, 1), weeks=2, unit="vhxh")
    assert [(p.received, p.answered) for p in unit] == [(1, 1), (0, 1)]


def test_oldest_overdue(shared: Shared) -> None:
    sample, service = shared
    with sample.transaction() as session:
        cases = service.oldest_overdue(session, AS_OF)
        mine = service.oldest_overdue(session, AS_OF, unit="van_phong")
        one = service.oldest_overdue(session, AS_OF, limit=1)
    assert [(c.code, c.unit, c.working_days_late) for c in cases] == [
        ("C14", "kinh_te", 17),  # due Thu 29/1; Tết not counted
        ("C15", "van_phong", 5),  # due Mon 23/2
    ]
    assert [c.code for c in mine] == ["C15"]
    assert [c.code for c in one] == ["C14"]
    # The day after the deadline day it is overdue; on the deadline day it is not.
    with sample.transaction() as session:
        assert service.oldest_overdue(session, local("2026-01-29 23:00")) == []
        assert [c.code for c in service.oldest_overdue(session, local("2026-01-30 00:00"))] == [
            "C14"
        ]


def test_case_rows(shared: Shared) -> None:
    sample, service = shared
    with sample.transaction() as session:
        rows = list(service.case_rows(session, WEEK, as_of=AS_OF, batch=3))
    assert [r.code for r in rows] == [
        "C04", "C03", "C02", "C05", "C01", "C13", "C07", "C08", "C09", "C10",
    ]  # fmt: skip
    by_code = {r.code: r for r in rows}
    assert by_code["C03"].timeliness == "late" and by_code["C03"].handling_days == 11
    assert by_code["C04"].timeliness == "on_time" and by_code["C04"].handling_days == 35
    assert by_code["C07"].timeliness == "open" and by_code["C07"].handling_days is None
    assert by_code["C08"].timeliness == "not_applicable"
    assert by_code["C04"].answered_in_period and not by_code["C04"].received_in_period
    assert by_code["C07"].received_in_period and not by_code["C07"].answered_in_period
    assert sum(r.answered_in_period for r in rows) == 6
    assert sum(r.received_in_period for r in rows) == 4
    assert not hasattr(rows[0], "content")


def test_reporting_cycle_boundaries(db: Database, service: StatsService) -> None:
    """NĐ 09/2019 Điều 12: 6 months of 2026 = 15/12/2025 00:00 … 14/6/2026 23:59:59."""
    base = Spec("", "phan_anh_kien_nghi", "khac", "van_phong", "zalo", "open", "", "2027-01-29")
    moments = {
        "B1": "2025-12-14 23:59:59",
        "B2": "2025-12-15 00:00:00",
        "B3": "2026-06-14 23:59:59",
        "B4": "2026-06-15 00:00:00",
        "B5": "2026-12-14 23:59:00",
        "B6": "2026-12-15 00:00:00",
    }
    from dataclasses import replace

    insert_cases(db, tuple(replace(base, code=c, created=m) for c, m in moments.items()))
    today = date(2026, 12, 20)
    as_of = local("2026-12-20 09:00")
    expected = {"2026-6thang": 2, "2026-9thang": 3, "2026-nam": 4, "2026-06": 1, "2026-quy3": 1}
    with db.transaction() as session:
        got = {
            text: service.summary(
                session, parse_period(text, today), as_of=as_of, compare=False
            ).received
            for text in expected
        }
        calendar_half = parse_period("2026-6thang", today, cutoff_day=1)
        plain = service.summary(session, calendar_half, as_of=as_of, compare=False).received
    assert got == expected
    assert plain == 2  # 1/1–30/6/2026: B3, B4


def test_handling_time_matches_the_calendar(db: Database, service: StatsService) -> None:
    """SQL working days = DeadlineCalculator.handling_working_days, over Tết, 30/4, 2/9…"""
    rng = random.Random(5)
    calculator = service.calculator
    specs = []
    expected = []
    for i in range(120):
        created = local("2025-11-03 08:00") + timedelta(hours=rng.randrange(0, 24 * 400))
        answered = created + timedelta(hours=rng.randrange(0, 24 * 70))
        specs.append(
            Spec(
                f"R{i:03d}", "phan_anh_kien_nghi", "khac", "van_phong", "zalo", "closed",
                created.astimezone(service.tz).strftime("%Y-%m-%d %H:%M"),
                "2027-12-31",
                answered.astimezone(service.tz).strftime("%Y-%m-%d %H:%M"),
            )
        )  # fmt: skip
    insert_cases(db, tuple(specs))
    period = Period(date(2025, 11, 1), date(2027, 3, 31))
    start, end = period.bounds(service.tz)
    for spec in specs:
        assert spec.answered is not None
        created, answered = local(spec.created), local(spec.answered)
        if start <= answered < end:
            expected.append(calculator.handling_working_days(created, answered))
    with db.transaction() as session:
        stats = service.summary(session, period, as_of=AS_OF, compare=False)
    assert stats.answered == len(expected)
    assert stats.handling_median == pytest.approx(statistics.median(expected), abs=0.01)
    assert stats.handling_p90 == pytest.approx(_percentile_reference(expected, 0.9), abs=0.01)
    # Each value on its own: a one-case period per answer day gives the exact count.
    with db.transaction() as session:
        for spec in specs[:8]:
            assert spec.answered is not None
            day = local(spec.answered).astimezone(service.tz).date()
            got = service.summary(
                session, Period(day, day), as_of=AS_OF, compare=False, category="khac"
            )
            values = [
                calculator.handling_working_days(local(s.created), local(s.answered))
                for s in specs
                if s.answered and local(s.answered).astimezone(service.tz).date() == day
            ]
            assert got.handling_median == pytest.approx(statistics.median(values), abs=0.01)


def _percentile_reference(values: list[int], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def test_percentile_from_histogram() -> None:
    assert _percentile([(3, 1), (4, 1), (8, 2), (11, 1), (35, 1)], 0.5) == 8.0
    assert _percentile([(3, 1), (4, 1), (8, 2), (11, 1), (35, 1)], 0.9) == 23.0
    assert _percentile([(5, 1)], 0.9) == 5.0
    assert _percentile([(1, 1), (2, 1)], 0.5) == 1.5


def test_no_personal_data_is_read(shared: Shared) -> None:
    """Statistics never touch case_contacts (tố cáo identities) nor the case content."""
    sample, service = shared
    statements: list[str] = []
    from sqlalchemy import event

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement.lower())

    event.listen(sample.engine, "before_cursor_execute", record)
    try:
        with sample.transaction() as session:
            service.summary(session, WEEK, as_of=AS_OF)
            service.breakdown(session, WEEK, "unit", as_of=AS_OF)
            service.weekly_trend(session, WEEK.last_day)
            service.oldest_overdue(session, AS_OF)
            list(service.case_rows(session, WEEK, as_of=AS_OF))
    finally:
        event.remove(sample.engine, "before_cursor_execute", record)
    text = "\n".join(statements)
    assert "case_contacts" not in text
    for column in ("content", "citizen_id", "address", "village", "latitude", "people"):
        assert column not in text, column


def test_many_exceptions_span(db: Database, service: StatsService) -> None:
    """A case open for years: the CASE step function spans many holidays."""
    with db.transaction() as session:
        person = Person(commune="ha_bac", display_name="x", created_at=AS_OF)
        session.add(person)
        session.flush()
        created, answered = local("2021-03-01 09:00"), local("2026-02-25 09:00")
        session.execute(
            insert(Case),
            [
                {
                    "commune": "ha_bac", "code": "OLD", "kind": "khieu_nai", "category": "dat_dai",
                    "unit": "van_phong", "status": "closed", "channel": "zalo",
                    "citizen_id": person.id, "anonymous": False, "content": "x",
                    "created_at": created, "due_at": due("2021-04-01"),
                    "answer_due_at": due("2021-04-01"), "open_due_at": due("2021-03-03"),
                    "answered_at": answered, "extensions": 0, "reopened": 0,
                    "updated_at": answered,
                }
            ],
        )  # fmt: skip
        stats = service.summary(session, WEEK, as_of=AS_OF, compare=False)
    assert stats.answered == 1 and stats.answered_late == 1
    assert stats.handling_median == service.calculator.handling_working_days(created, answered)


def test_grouped_trend_and_overdue(shared: Shared) -> None:
    sample, service = shared
    with sample.transaction() as session:
        trends = service.weekly_trends_by(session, date(2026, 3, 1), "unit", weeks=8)
        overdue = service.oldest_overdue_by_unit(session, AS_OF)
        single = {
            unit: service.weekly_trend(session, date(2026, 3, 1), weeks=8, unit=unit)
            for unit in trends
        }
    assert trends == single
    assert [p.received for p in trends["kinh_te"]] == [0, 1, 0, 0, 1, 2, 0, 1]
    assert [p.answered for p in trends["quan_su"]] == [0] * 8
    assert {unit: [c.code for c in cases] for unit, cases in overdue.items()} == {
        "kinh_te": ["C14"],
        "van_phong": ["C15"],
    }
    assert overdue["kinh_te"][0].working_days_late == 17


def test_summary_and_breakdown_together(shared: Shared) -> None:
    sample, service = shared
    with sample.transaction() as session:
        total, units = service.summary_and_breakdown(
            session, WEEK, "unit", as_of=AS_OF, compare=True
        )
        alone = service.summary(session, WEEK, as_of=AS_OF)
        groups = service.breakdown(session, WEEK, "unit", as_of=AS_OF, compare=True)
        _, categories = service.summary_and_breakdown(session, WEEK, "category", as_of=AS_OF)
        by_category = service.breakdown(session, WEEK, "category", as_of=AS_OF)
        ytd = Period(date(2026, 1, 1), date(2026, 3, 1), "year")
        ytd_total, _ = service.summary_and_breakdown(session, ytd, "kind", as_of=AS_OF)
        ytd_alone = service.summary(session, ytd, as_of=AS_OF, compare=False)
    assert total == alone and total.previous == alone.previous
    assert (total.handling_median, total.handling_p90) == (8.0, 23.0)
    assert units == groups
    assert all(units[k].previous == groups[k].previous for k in units)
    assert categories == by_category
    assert ytd_total == ytd_alone
