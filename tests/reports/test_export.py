"""XLSX and CSV exports: they open, and their numbers are the statistics service's."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils.escape import unescape

from bot.config import AppConfig
from bot.reports.export import (
    CASE_COLUMNS,
    CASES_SHEET,
    SUMMARY_COLUMNS,
    SUMMARY_HEADER_ROW,
    SUMMARY_SHEET,
    export_csv,
    export_file,
    export_xlsx,
    xlsx_bytes,
)
from bot.rules.deadlines import DeadlineCalculator
from storage.db import Database
from storage.stats import PeriodStats, StatsService
from tests.conftest import make_config
from tests.reports import AS_OF, WEEK, insert_cases


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> AppConfig:
    return make_config(tmp_path, database_url)


@pytest.fixture
def db(config: AppConfig) -> Iterator[Database]:
    database = Database(config.storage.database_url)
    database.migrate()
    insert_cases(database)
    yield database
    database.close()


@pytest.fixture
def service(config: AppConfig) -> StatsService:
    return StatsService(config, DeadlineCalculator(config.calendar, config.commune.timezone))


def summary_table(path_or_bytes: Path | bytes) -> dict[tuple[str, str], dict[str, Any]]:
    """(group, key) -> {header: value} from the summary sheet."""
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    book = openpyxl.load_workbook(source)
    sheet = book[SUMMARY_SHEET]
    rows = list(sheet.iter_rows(min_row=SUMMARY_HEADER_ROW, values_only=True))
    headers = rows[0]
    # Ids such as "an_sinh_xa_hoi" are stored escaped ("an_sinh_x005F_xa_hoi").
    return {
        (row[0], unescape(row[1] or "")): dict(zip(headers, row, strict=True)) for row in rows[1:]
    }


def assert_same(values: dict[str, Any], stats: PeriodStats) -> None:
    for column in SUMMARY_COLUMNS:
        assert values[column.header] == getattr(stats, column.field), column.header


def test_xlsx_summary_equals_the_service(
    db: Database, service: StatsService, config: AppConfig, tmp_path: Path
) -> None:
    out = tmp_path / "bao-cao.xlsx"
    with db.transaction() as session:
        export_xlsx(session, service, WEEK, out, as_of=AS_OF)
        total = service.summary(session, WEEK, as_of=AS_OF)
        units = service.breakdown(session, WEEK, "unit", as_of=AS_OF)
        categories = service.breakdown(session, WEEK, "category", as_of=AS_OF)
        kinds = service.breakdown(session, WEEK, "kind", as_of=AS_OF)
    table = summary_table(out)
    assert_same(table[("Tổng", "")], total)
    assert table[("Tổng", "")]["Tên"] == "Toàn xã"
    assert table[("Tổng", "")]["Tiếp nhận"] == 4
    assert table[("Tổng", "")]["Tỷ lệ hài lòng"] == 0.75
    comparison = table[("Kỳ so sánh", "")]
    assert comparison["Tên"] == "Tuần trước (16/02–22/02/2026)"
    assert comparison["Tiếp nhận"] == 2 and comparison["Đang xử lý"] is None
    for key, stats in units.items():
        assert_same(table[("Đơn vị", key)], stats)
    for key, stats in categories.items():
        assert_same(table[("Lĩnh vực", key)], stats)
    for key, stats in kinds.items():
        assert_same(table[("Loại hồ sơ", key)], stats)
    assert table[("Đơn vị", "kinh_te")]["Tên"] == config.unit_name("kinh_te")
    assert ("Lĩnh vực", "an_sinh_xa_hoi") in table

    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [SUMMARY_SHEET, CASES_SHEET, "Cách tính"]
    title = book[SUMMARY_SHEET]["A2"].value
    assert title == "Xã Hà Bắc — tuần 23/02–01/03/2026"


def test_xlsx_case_list(db: Database, service: StatsService) -> None:
    with db.transaction() as session:
        data = xlsx_bytes(session, service, WEEK, as_of=AS_OF, unit="kinh_te")
    book = openpyxl.load_workbook(io.BytesIO(data))
    rows = list(book[CASES_SHEET].iter_rows(values_only=True))
    assert rows[0] == tuple(column.header for column in CASE_COLUMNS)
    by_code = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert sorted(by_code) == ["C01", "C03", "C05", "C07"]
    c03 = by_code["C03"]
    assert c03["Ngày tiếp nhận"] == datetime(2026, 2, 2, 9, 0)  # local time
    assert c03["Tiến độ"] == "Quá hạn" and c03["Số ngày làm việc xử lý"] == 11
    assert c03["Đánh giá"] == "Chưa hài lòng" and c03["Đơn vị xử lý"] == "Phòng Kinh tế"
    assert by_code["C05"]["Số lần mở lại"] == 1
    assert by_code["C07"]["Tiến độ"] == "Đang xử lý, trong hạn"
    assert by_code["C07"]["Trong kỳ"] == "Tiếp nhận"
    # Scope: only the unit's rows in the summary; no personal data anywhere.
    assert summary_table(data)[("Tổng", "")]["Tên"] == "Toàn bộ"
    for sheet in book:
        for row in sheet.iter_rows(values_only=True):
            assert "Nội dung thử" not in row and "Người dân thử" not in row


def test_csv_summary_and_cases(db: Database, service: StatsService, tmp_path: Path) -> None:
    summary, cases = tmp_path / "tong-hop.csv", tmp_path / "ho-so.csv"
    with db.transaction() as session:
        export_csv(session, service, WEEK, summary, as_of=AS_OF)
        export_csv(session, service, WEEK, cases, as_of=AS_OF, what="cases")
    raw = summary.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Nhóm", "Mã", "Tên", "Tiếp nhận"]
    assert "Tỷ lệ hài lòng (%)" in rows[0]
    total = dict(zip(rows[0], rows[1], strict=True))
    assert total["Nhóm"] == "Tổng" and total["Tiếp nhận"] == "4" and total["Đã trả lời"] == "6"
    assert total["Tỷ lệ hài lòng (%)"] == "75.0"
    assert total["Thời gian xử lý, 90% hồ sơ (ngày làm việc)"] == "23.0"
    assert len(rows) == 1 + 2 + 7 + 15 + 3  # header, total, comparison, units, categories, kinds

    case_rows = list(csv.reader(io.StringIO(cases.read_text(encoding="utf-8-sig"))))
    assert case_rows[0] == [column.header for column in CASE_COLUMNS]
    assert len(case_rows) == 1 + 10
    assert case_rows[1][:2] == ["C04", "2026-01-02 09:00"]


def test_csv_to_a_text_stream(db: Database, service: StatsService) -> None:
    buffer = io.StringIO()
    with db.transaction() as session:
        export_csv(session, service, WEEK, buffer, as_of=AS_OF, what="cases")
    assert buffer.getvalue().splitlines()[0].startswith("Mã hồ sơ,Ngày tiếp nhận")


def test_export_file_by_format(db: Database, service: StatsService, tmp_path: Path) -> None:
    with db.transaction() as session:
        export_file(session, service, WEEK, tmp_path / "r.xlsx", fmt="xlsx", as_of=AS_OF)
        export_file(session, service, WEEK, tmp_path / "r.csv", fmt="csv", as_of=AS_OF)
        with pytest.raises(ValueError):
            export_file(session, service, WEEK, tmp_path / "r.pdf", fmt="pdf", as_of=AS_OF)  # type: ignore[arg-type]
    assert summary_table(tmp_path / "r.xlsx")[("Tổng", "")]["Tiếp nhận"] == 4
    assert (tmp_path / "r.csv").read_text(encoding="utf-8-sig").startswith("Nhóm,Mã,Tên")
