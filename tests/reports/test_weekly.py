"""The weekly report and /thongke answer: text, chart, empty weeks, unit heads."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from bot.config import AppConfig
from bot.reports.charts import BarGroup, report_chart
from bot.reports.periods import parse_period
from bot.reports.weekly import (
    EMPTY_WEEK,
    collect_report,
    collect_weekly,
    format_count,
    format_percent,
    render_report,
    report_text,
)
from bot.rules.deadlines import DeadlineCalculator
from storage.db import Database
from storage.stats import PeriodStats, StatsService
from tests.conftest import make_config
from tests.reports import AS_OF, WEEK, insert_cases, local


@pytest.fixture
def config(tmp_path: Path, sqlite_url: str) -> AppConfig:
    return make_config(tmp_path, sqlite_url)


@pytest.fixture
def db(config: AppConfig) -> Iterator[Database]:
    database = Database(config.storage.database_url)
    database.migrate()
    yield database
    database.close()


@pytest.fixture
def service(config: AppConfig) -> StatsService:
    return StatsService(config, DeadlineCalculator(config.calendar, config.commune.timezone))


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


def test_weekly_commune_report(db: Database, service: StatsService, config: AppConfig) -> None:
    insert_cases(db)
    with db.transaction() as session:
        data = collect_weekly(session, service, as_of=AS_OF)
    assert data.commune.period == WEEK and data.units == {}
    report = render_report(data.commune, config)
    lines = report.text.splitlines()
    assert lines[0] == "Báo cáo tuần 23/02–01/03/2026 — Xã Hà Bắc"
    assert lines[1] == "Số liệu đến 07:30 ngày 02/03/2026."
    assert "• Tiếp nhận: 4 hồ sơ (tuần trước: 2, tăng 2)" in lines
    assert "• Đã trả lời: 6 — đúng hạn 5 (83,3%), quá hạn 1 (tuần trước: 1, tăng 5)" in lines
    assert (
        "• Thời gian xử lý: trung vị 8 ngày làm việc; "
        "90% hồ sơ trả lời trong 23 ngày làm việc" in lines
    )
    assert (
        "• Hài lòng: 75% (3/4 lượt đánh giá; tuần trước 100%); "
        "66,7% hồ sơ đã trả lời được đánh giá" in lines
    )
    assert "• Khác: mở lại 1, chuyển cơ quan có thẩm quyền 1, không xử lý 1" in lines
    assert "• Đang xử lý: 5, trong đó quá hạn 2" in lines
    assert any(line.startswith("Từ đầu năm (01/01–01/03/2026): tiếp nhận 14") for line in lines)
    overdue = lines[lines.index("Hồ sơ quá hạn lâu nhất:") + 1 :]
    assert overdue == [
        "1. C14 — Phòng Kinh tế — quá hạn 17 ngày làm việc (hạn 29/01/2026)",
        "2. C15 — Văn phòng HĐND và UBND xã — quá hạn 5 ngày làm việc (hạn 23/02/2026)",
    ]
    assert report.chart is not None
    width, height = png_size(report.chart)
    assert width >= 800 and height >= 500
    assert report.caption == "Báo cáo tuần 23/02–01/03/2026 — Xã Hà Bắc"
    assert len(report.caption) < 1024


def test_weekly_unit_reports(db: Database, service: StatsService, config: AppConfig) -> None:
    insert_cases(db)
    with db.transaction() as session:
        data = collect_weekly(session, service, as_of=AS_OF, units=["kinh_te", "quan_su"])
    kinh_te = data.units["kinh_te"]
    assert kinh_te.stats == data.commune.groups["kinh_te"]
    assert kinh_te.group_by == "category"
    assert [c.code for c in kinh_te.overdue] == ["C14"]
    text = render_report(kinh_te, config).text
    assert text.startswith("Báo cáo tuần 23/02–01/03/2026 — Phòng Kinh tế")
    assert "• Tiếp nhận: 1 hồ sơ (tuần trước: 0, tăng 1)" in text
    assert "C15" not in text  # another unit's case

    quiet = render_report(data.units["quan_su"], config)
    assert quiet.chart is None
    assert EMPTY_WEEK in quiet.text
    assert "• Đang xử lý: không còn hồ sơ nào" in quiet.text


def test_empty_week_has_no_chart(db: Database, service: StatsService, config: AppConfig) -> None:
    with db.transaction() as session:
        data = collect_weekly(session, service, as_of=local("2026-11-23 07:30"))
    report = render_report(data.commune, config)
    assert report.chart is None
    assert report.text.splitlines()[3] == "Tuần qua không có hồ sơ nào."
    assert "Từ đầu năm" not in report.text and "quá hạn lâu nhất" not in report.text


def test_backlog_shown_even_in_an_empty_week(
    db: Database, service: StatsService, config: AppConfig
) -> None:
    insert_cases(db)
    with db.transaction() as session:
        data = collect_weekly(session, service, as_of=local("2026-03-16 07:30"))
    report = render_report(data.commune, config)
    assert report.chart is None
    assert EMPTY_WEEK in report.text
    # C11 (received 2/3, due 16/3) is open too by now, not yet overdue.
    assert "• Đang xử lý: 6, trong đó quá hạn 5" in report.text
    assert "1. C14 — Phòng Kinh tế" in report.text


def test_thongke_text(db: Database, service: StatsService, config: AppConfig) -> None:
    insert_cases(db)
    today = date(2026, 3, 2)
    with db.transaction() as session:
        month = collect_report(session, service, parse_period("thang-truoc", today), as_of=AS_OF)
        unit = collect_report(
            session, service, parse_period("tuan-truoc", today), as_of=AS_OF, unit="vhxh"
        )
        nothing = collect_report(
            session, service, parse_period("2025-06-01..2025-06-30", today), as_of=AS_OF
        )
    text = report_text(month, config)
    assert text.startswith("Thống kê tháng 02/2026 (01/02–28/02/2026) — Xã Hà Bắc")
    assert "(tháng trước: " in text
    assert report_text(unit, config).startswith("Thống kê tuần 23/02–01/03/2026 — Phòng Văn")
    empty = render_report(nothing, config)
    assert "Trong kỳ này không có hồ sơ nào" in empty.text and empty.chart is None


def test_chart_has_every_vietnamese_glyph(service: StatsService) -> None:
    """matplotlib warns "Glyph … missing from font" when a letter cannot be drawn."""
    stats = PeriodStats(
        period=WEEK, as_of=AS_OF, answered=5, answered_on_time=4, answered_late=1, open=3,
        overdue_open=1,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = report_chart(
            "Báo cáo tuần — Ủy ban nhân dân xã Hà Bắc: ỹ ự ữ ẫ ổ ợ ằ đ Ư Đ",
            [BarGroup("Phòng Văn hóa - Xã hội", stats), BarGroup("Trạm Y tế xã", stats)],
            [],
        )
    png_size(png)


def test_numbers() -> None:
    assert format_count(1020) == "1.020"
    assert format_count(1_234_567) == "1.234.567"
    assert format_percent(0.75) == "75%"
    assert format_percent(5 / 6) == "83,3%"
    assert format_percent(None) == "—"


def test_same_report_on_both_databases(tmp_path: Path, database_url: str) -> None:
    other = make_config(tmp_path / "both", database_url)
    database = Database(database_url)
    database.migrate()
    insert_cases(database)
    service = StatsService(other, DeadlineCalculator(other.calendar, other.commune.timezone))
    with database.transaction() as session:
        data = collect_weekly(session, service, as_of=AS_OF, units=list(other.units))
    database.close()
    text = report_text(data.commune, other)
    assert "90% hồ sơ trả lời trong 23 ngày làm việc" in text
    assert "• Đang xử lý: 5, trong đó quá hạn 2" in text
    assert sum(u.stats.received for u in data.units.values()) == data.commune.stats.received
    assert sum(u.stats.answered for u in data.units.values()) == data.commune.stats.answered
