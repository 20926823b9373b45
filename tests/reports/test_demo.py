"""`pakn demo seed`: realistic sample data on SQLite and PostgreSQL, written once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config import AppConfig
from bot.demo import DemoRefused, demo_present, seed_demo
from bot.reports.weekly import collect_weekly, render_report
from bot.rules.deadlines import DeadlineCalculator
from storage.db import Database
from storage.models import Case, CaseEvent, ChannelIdentity, OutboxMessage
from storage.stats import StatsService
from tests.conftest import make_config
from tests.reports import insert_cases


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> AppConfig:
    return make_config(tmp_path, database_url)


@pytest.fixture
def db(config: AppConfig) -> Iterator[Database]:
    database = Database(config.storage.database_url)
    database.migrate()
    yield database
    database.close()


def counts(db: Database, column: object) -> dict[object, int]:
    with db.transaction() as session:
        rows = session.execute(select(column, func.count()).group_by(column)).all()
    return {value: count for value, count in rows}


def test_seed_fills_every_dimension(db: Database, config: AppConfig, clock: FakeClock) -> None:
    written = seed_demo(db, config, clock, weeks=12, cases_per_week=30)
    assert 300 <= written <= 420
    assert seed_demo(db, config, clock) == 0  # already there: nothing more

    statuses = counts(db, Case.status)
    assert set(statuses) >= {"new", "open", "closed", "forwarded", "rejected"}
    assert set(counts(db, Case.kind)) == {"phan_anh_kien_nghi", "khieu_nai", "to_cao"}
    assert set(counts(db, Case.channel)) == {"zalo", "telegram"}
    assert set(counts(db, Case.unit)) >= {"kinh_te", "vhxh", "van_phong", "cong_an"}
    assert len(counts(db, Case.category)) >= 12
    ratings = counts(db, Case.rating)
    assert set(ratings) >= {"rat_hai_long", "hai_long", "chua_hai_long", "khong_danh_gia"}
    events = counts(db, CaseEvent.kind)
    assert events["created"] == written
    assert {"opened", "answered", "rated", "reopened", "forwarded", "rejected"} <= set(events)
    with db.transaction() as session:
        assert demo_present(session)
        assert session.scalar(select(func.count()).where(Case.reopened > 0)) > 0
        assert session.scalar(select(func.min(Case.created_at))) >= clock.now().replace(
            year=2026, month=8, day=24, hour=0
        )
        assert session.scalar(select(func.max(Case.created_at))) <= clock.now()
        # Nobody can be messaged: no chat identities, nothing queued.
        assert session.scalar(select(func.count()).select_from(ChannelIdentity)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        codes = session.scalars(select(Case.code).order_by(Case.created_at)).all()
    assert codes[0] == "HB-2026-00001" and len(set(codes)) == len(codes)

    # The weekly report over demo data has a chart and overdue cases.
    service = StatsService(config, DeadlineCalculator(config.calendar, config.commune.timezone))
    with db.transaction() as session:
        data = collect_weekly(session, service, as_of=clock.now())
    stats = data.commune.stats
    assert stats.received > 10 and stats.answered > 10 and stats.rated > 0
    assert data.commune.overdue
    assert render_report(data.commune, config).chart is not None


def test_refuses_a_database_with_real_cases(
    db: Database, config: AppConfig, clock: FakeClock
) -> None:
    insert_cases(db)
    with pytest.raises(DemoRefused):
        seed_demo(db, config, clock)
    assert seed_demo(db, config, clock, weeks=1, cases_per_week=5, allow_existing=True) > 0


def test_seed_is_deterministic(tmp_path: Path, clock: FakeClock) -> None:
    def seeded(name: str) -> list[tuple[str, str, str | None]]:
        cfg = make_config(tmp_path / name, f"sqlite:///{tmp_path / name / 'demo.db'}")
        database = Database(cfg.storage.database_url)
        database.migrate()
        seed_demo(database, cfg, clock, weeks=2, cases_per_week=10)
        with database.transaction() as session:
            rows = session.execute(select(Case.code, Case.status, Case.rating)).all()
        database.close()
        return [tuple(row) for row in rows]

    assert seeded("a") == seeded("b")
