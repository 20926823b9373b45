"""Period reports as XLSX (openpyxl, streaming) and CSV, for the commune's periodic reports.

The workbook has three sheets:

* **Tổng hợp** — the figures of :class:`storage.stats.PeriodStats` for the whole commune, the
  comparison period, each unit, each category and each case kind (one row each; the column
  headers are :data:`SUMMARY_COLUMNS`);
* **Danh sách hồ sơ** — the cases received or answered in the period: code, dates (local
  time), kind, category, unit, channel, status, on time or late, handling days, rating.
  No content, no name, phone, address or chat identity of anyone;
* **Cách tính** — what each figure means.

Everything runs inside the caller's session (the case list is streamed from the database),
so call :func:`export_xlsx` / :func:`export_csv` through ``db.run`` / ``db.call``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.reports.periods import Period, format_day
from storage.stats import CaseRow, PeriodStats, StatsService, Timeliness

__all__ = [
    "CASES_SHEET",
    "CASE_COLUMNS",
    "SUMMARY_COLUMNS",
    "SUMMARY_SHEET",
    "ExportData",
    "SummaryRow",
    "collect_export",
    "export_csv",
    "export_file",
    "export_xlsx",
    "write_xlsx",
    "xlsx_bytes",
]

SUMMARY_SHEET = "Tổng hợp"
CASES_SHEET = "Danh sách hồ sơ"
NOTES_SHEET = "Cách tính"
#: Row of the column headers in the summary sheet (1-based); data rows follow it.
SUMMARY_HEADER_ROW = 5

KIND_LABELS = {
    "phan_anh_kien_nghi": "Phản ánh, kiến nghị",
    "khieu_nai": "Khiếu nại",
    "to_cao": "Tố cáo",
}
STATUS_LABELS = {
    "new": "Chờ tiếp nhận",
    "open": "Đang xử lý",
    "waiting_citizen": "Chờ người dân bổ sung",
    "answered": "Đã trả lời, chờ đánh giá",
    "forwarded": "Đã chuyển cơ quan có thẩm quyền",
    "rejected": "Không xử lý",
    "closed": "Đã kết thúc",
}
RATING_LABELS = {
    "rat_hai_long": "Rất hài lòng",
    "hai_long": "Hài lòng",
    "chua_hai_long": "Chưa hài lòng",
    "khong_danh_gia": "Không đánh giá",
}
TIMELINESS_LABELS: dict[Timeliness, str] = {
    "on_time": "Đúng hạn",
    "late": "Quá hạn",
    "open": "Đang xử lý, trong hạn",
    "open_overdue": "Đang xử lý, quá hạn",
    "not_applicable": "",
}
CHANNEL_LABELS = {"telegram": "Telegram", "zalo": "Zalo", "console": "Thử nghiệm (console)"}

Number = Literal["count", "rate", "days"]


@dataclass(frozen=True)
class SummaryColumn:
    header: str
    #: Attribute or property of PeriodStats.
    field: str
    number: Number


#: Columns of the summary sheet and CSV after "Nhóm", "Mã", "Tên".
SUMMARY_COLUMNS: tuple[SummaryColumn, ...] = (
    SummaryColumn("Tiếp nhận", "received", "count"),
    SummaryColumn("Đã trả lời", "answered", "count"),
    SummaryColumn("Trả lời đúng hạn", "answered_on_time", "count"),
    SummaryColumn("Trả lời quá hạn", "answered_late", "count"),
    SummaryColumn("Tỷ lệ đúng hạn", "on_time_rate", "rate"),
    SummaryColumn("Đang xử lý", "open", "count"),
    SummaryColumn("Đang xử lý quá hạn", "overdue_open", "count"),
    SummaryColumn("Thời gian xử lý trung vị (ngày làm việc)", "handling_median", "days"),
    SummaryColumn("Thời gian xử lý, 90% hồ sơ (ngày làm việc)", "handling_p90", "days"),
    SummaryColumn("Lượt đánh giá", "rated", "count"),
    SummaryColumn("Rất hài lòng", "very_satisfied", "count"),
    SummaryColumn("Hài lòng (gồm rất hài lòng)", "satisfied", "count"),
    SummaryColumn("Chưa hài lòng", "not_satisfied", "count"),
    SummaryColumn("Tỷ lệ hài lòng", "satisfaction_rate", "rate"),
    SummaryColumn("Tỷ lệ được đánh giá", "rating_coverage", "rate"),
    SummaryColumn("Kết thúc không đánh giá", "closed_unrated", "count"),
    SummaryColumn("Mở lại", "reopened", "count"),
    SummaryColumn("Chuyển cơ quan có thẩm quyền", "forwarded", "count"),
    SummaryColumn("Không xử lý", "rejected", "count"),
)


@dataclass(frozen=True)
class CaseColumn:
    header: str
    value: Callable[[CaseRow, ExportData], Any]
    width: int
    date: bool = False


@dataclass(frozen=True)
class SummaryRow:
    group: str
    key: str
    name: str
    stats: PeriodStats


@dataclass(frozen=True)
class ExportData:
    config: AppConfig
    period: Period
    as_of: datetime
    unit: str | None
    total: PeriodStats
    by_unit: dict[str, PeriodStats]
    by_category: dict[str, PeriodStats]
    by_kind: dict[str, PeriodStats]

    @property
    def scope(self) -> str:
        if self.unit is None:
            return self.config.commune.name
        return f"{self.config.unit_name(self.unit)} — {self.config.commune.name}"

    def summary_rows(self) -> list[SummaryRow]:
        """Total, comparison period, then units, categories and kinds (config order)."""
        config = self.config
        rows = [SummaryRow("Tổng", "", "Toàn bộ" if self.unit else "Toàn xã", self.total)]
        if self.total.previous is not None:
            before = self.total.previous
            name = f"{self.period.previous_name.capitalize()} ({before.period.range_text})"
            rows.append(SummaryRow("Kỳ so sánh", "", name, before))
        rows += [
            SummaryRow("Đơn vị", key, config.unit_name(key), stats)
            for key, stats in self.by_unit.items()
        ]
        rows += [
            SummaryRow("Lĩnh vực", key, config.category_name(key), stats)
            for key, stats in self.by_category.items()
        ]
        rows += [
            SummaryRow("Loại hồ sơ", key, KIND_LABELS.get(key, key), stats)
            for key, stats in self.by_kind.items()
        ]
        return rows


def collect_export(
    session: Session,
    service: StatsService,
    period: Period,
    *,
    as_of: datetime,
    unit: str | None = None,
) -> ExportData:
    """The summary figures of an export (the case list is streamed when writing)."""
    total, by_unit = service.summary_and_breakdown(
        session, period, "unit", as_of=as_of, unit=unit, compare=True
    )
    return ExportData(
        config=service.config,
        period=period,
        as_of=as_of,
        unit=unit,
        total=total,
        by_unit=by_unit,
        by_category=service.breakdown(session, period, "category", as_of=as_of, unit=unit),
        by_kind=service.breakdown(session, period, "kind", as_of=as_of, unit=unit),
    )


def _local(moment: datetime | None, data: ExportData) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(data.config.commune.timezone).replace(tzinfo=None)


def _in_period(row: CaseRow) -> str:
    parts = []
    if row.received_in_period:
        parts.append("Tiếp nhận")
    if row.answered_in_period:
        parts.append("Trả lời")
    return ", ".join(parts)


#: Columns of the case list (sheet and CSV).
CASE_COLUMNS: tuple[CaseColumn, ...] = (
    CaseColumn("Mã hồ sơ", lambda r, d: r.code, 16),
    CaseColumn("Ngày tiếp nhận", lambda r, d: _local(r.created_at, d), 17, date=True),
    CaseColumn("Hạn giải quyết", lambda r, d: _local(r.answer_due_at, d), 17, date=True),
    CaseColumn("Ngày trả lời", lambda r, d: _local(r.answered_at, d), 17, date=True),
    CaseColumn("Ngày kết thúc", lambda r, d: _local(r.closed_at, d), 17, date=True),
    CaseColumn("Loại", lambda r, d: KIND_LABELS.get(r.kind, r.kind), 20),
    CaseColumn("Lĩnh vực", lambda r, d: d.config.category_name(r.category), 30),
    CaseColumn("Đơn vị xử lý", lambda r, d: d.config.unit_name(r.unit), 30),
    CaseColumn("Kênh", lambda r, d: CHANNEL_LABELS.get(r.channel, r.channel), 12),
    CaseColumn("Trạng thái", lambda r, d: STATUS_LABELS.get(r.status, r.status), 24),
    CaseColumn("Tiến độ", lambda r, d: TIMELINESS_LABELS[r.timeliness], 22),
    CaseColumn("Số ngày làm việc xử lý", lambda r, d: r.handling_days, 12),
    CaseColumn("Số lần gia hạn", lambda r, d: r.extensions, 10),
    CaseColumn("Số lần mở lại", lambda r, d: r.reopened, 10),
    CaseColumn("Đánh giá", lambda r, d: RATING_LABELS.get(r.rating or "", ""), 16),
    CaseColumn("Trong kỳ", lambda r, d: _in_period(r), 18),
)

NOTES: tuple[tuple[str, str], ...] = (
    ("Kỳ báo cáo", "Tính theo ngày giờ Việt Nam, từ 00:00 ngày đầu đến 24:00 ngày cuối kỳ."),
    ("Tiếp nhận", "Hồ sơ người dân gửi trong kỳ."),
    ("Đã trả lời", "Hồ sơ được gửi kết quả trả lời cho người dân trong kỳ (không tính hồ sơ chuyển cơ quan khác hoặc không xử lý)."),
    ("Đúng hạn", "Trả lời không muộn hơn hạn giải quyết đang áp dụng (đã tính gia hạn được duyệt; hồ sơ mở lại tính theo hạn mới)."),
    ("Đang xử lý", "Hồ sơ tiếp nhận đến hết kỳ còn chưa trả lời (chờ tiếp nhận, đang xử lý, chờ bổ sung) tại thời điểm lập báo cáo; quá hạn khi đã qua hạn giải quyết."),
    ("Thời gian xử lý", "Số ngày làm việc từ sau ngày tiếp nhận đến ngày trả lời (không tính thứ Bảy, Chủ nhật, ngày lễ, Tết). Trung vị: một nửa số hồ sơ được trả lời trong thời gian này; 90%: chín phần mười số hồ sơ."),
    ("Tỷ lệ hài lòng", "(Rất hài lòng + Hài lòng) ÷ số lượt đánh giá. Hồ sơ kết thúc không đánh giá không được tính là đánh giá."),
    ("Tỷ lệ được đánh giá", "Số lượt đánh giá ÷ số hồ sơ đã trả lời trong kỳ. Hồ sơ vừa trả lời có thể còn trong thời gian chờ đánh giá."),
    ("Mở lại", "Hồ sơ đã trả lời trong kỳ mà người dân chưa hài lòng và đề nghị xử lý lại."),
    ("Chuyển, không xử lý", "Trong số hồ sơ tiếp nhận trong kỳ: đã chuyển cơ quan có thẩm quyền, hoặc không xử lý."),
    ("Kỳ so sánh", "Tuần, tháng, quý: kỳ liền trước. Kỳ báo cáo 6 tháng, 9 tháng, năm: cùng kỳ năm trước."),
    ("Dữ liệu cá nhân", "Báo cáo không chứa nội dung, họ tên, số điện thoại, địa chỉ của người gửi."),
)  # fmt: skip


# --------------------------------------------------------------------- XLSX


def export_xlsx(
    session: Session,
    service: StatsService,
    period: Period,
    out: IO[bytes] | Path,
    *,
    as_of: datetime,
    unit: str | None = None,
) -> ExportData:
    """Write the XLSX report of ``period`` (the commune, or one unit) to ``out``."""
    data = collect_export(session, service, period, as_of=as_of, unit=unit)
    rows = service.case_rows(session, period, as_of=as_of, unit=unit)
    write_xlsx(data, rows, out)
    return data


def write_xlsx(data: ExportData, rows: Iterable[CaseRow], out: IO[bytes] | Path) -> None:
    """The workbook from already collected figures and a stream of case rows."""
    book = Workbook(write_only=True)
    _summary_sheet(book.create_sheet(SUMMARY_SHEET), data)
    _cases_sheet(book.create_sheet(CASES_SHEET), data, rows)
    _notes_sheet(book.create_sheet(NOTES_SHEET))
    book.save(out)


_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEADER = Alignment(wrap_text=True, vertical="center", horizontal="center")
_NUMBER_FORMATS: dict[Number, str] = {"count": "#,##0", "rate": "0.0%", "days": "0.0"}
_DATE_FORMAT = "dd/mm/yyyy hh:mm"


# "_x" + hex digits is an escape sequence in OOXML strings ("_x000A_" is a line feed), and
# LibreOffice also decodes short forms: the category id "an_sinh_xa_hoi" would show a line
# break. Such an underscore is written as "_x005F_" (ECMA-376 Part 1, 22.9.2.19); Excel and
# LibreOffice show "_"; openpyxl readers get it back with openpyxl.utils.escape.unescape.
_FALSE_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f])")


def _text(value: Any) -> Any:
    if isinstance(value, str) and "_x" in value:
        return _FALSE_ESCAPE.sub("_x005F_", value)
    return value


def _cell(sheet: WriteOnlyWorksheet, value: Any, **style: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=_text(value))
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _landscape(sheet: WriteOnlyWorksheet, *, title_rows: str | None = None) -> None:
    """Printed on A4 landscape, as wide as the page (communes print their reports)."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        sheet.print_title_rows = title_rows


def _summary_sheet(sheet: WriteOnlyWorksheet, data: ExportData) -> None:
    _landscape(sheet, title_rows=f"{SUMMARY_HEADER_ROW}:{SUMMARY_HEADER_ROW}")
    sheet.freeze_panes = f"D{SUMMARY_HEADER_ROW + 1}"
    for letter, width in (("A", 11), ("B", 22), ("C", 40)):
        sheet.column_dimensions[letter].width = width
    for index in range(len(SUMMARY_COLUMNS)):
        sheet.column_dimensions[_column_letter(4 + index)].width = 11
    sheet.row_dimensions[SUMMARY_HEADER_ROW].height = 58
    tz = data.config.commune.timezone
    local = data.as_of.astimezone(tz)
    sheet.append(
        [
            _cell(
                sheet,
                "Kết quả tiếp nhận, xử lý phản ánh, kiến nghị, khiếu nại, tố cáo",
                font=_TITLE,
            )
        ]
    )
    sheet.append([f"{data.scope} — {data.period.title}"])
    sheet.append(
        [
            f"Số liệu đến {local:%H:%M} ngày {format_day(local.date())}. "
            "Thời gian xử lý tính bằng ngày làm việc. Xem cách tính ở trang «Cách tính»."
        ]
    )
    sheet.append([])
    headers = ["Nhóm", "Mã", "Tên", *(column.header for column in SUMMARY_COLUMNS)]
    sheet.append([_cell(sheet, h, font=_BOLD, fill=_HEADER_FILL, alignment=_WRAP) for h in headers])
    for row in data.summary_rows():
        total = row.group in ("Tổng", "Kỳ so sánh")
        style: dict[str, Any] = {"fill": _TOTAL_FILL, "font": _BOLD} if total else {}
        cells = [
            _cell(sheet, row.group, **style),
            _cell(sheet, row.key or None, **style),
            _cell(sheet, row.name, **style),
        ]
        for column in SUMMARY_COLUMNS:
            value = _figure(row, column)
            cells.append(_cell(sheet, value, number_format=_NUMBER_FORMATS[column.number], **style))
        sheet.append(cells)


def _figure(row: SummaryRow, column: SummaryColumn) -> float | int | None:
    if column.field in ("open", "overdue_open") and row.group == "Kỳ so sánh":
        return None  # the backlog exists only "now"
    value: float | int | None = getattr(row.stats, column.field)
    return value


def _cases_sheet(sheet: WriteOnlyWorksheet, data: ExportData, rows: Iterable[CaseRow]) -> None:
    _landscape(sheet, title_rows="1:1")
    sheet.freeze_panes = "B2"
    for index, column in enumerate(CASE_COLUMNS, 1):
        sheet.column_dimensions[_column_letter(index)].width = column.width
    sheet.row_dimensions[1].height = 32
    sheet.append(
        [
            _cell(sheet, column.header, font=_BOLD, fill=_HEADER_FILL, alignment=_HEADER)
            for column in CASE_COLUMNS
        ]
    )
    for row in rows:
        sheet.append(
            [
                _cell(sheet, column.value(row, data), number_format=_DATE_FORMAT)
                if column.date
                else _text(column.value(row, data))
                for column in CASE_COLUMNS
            ]
        )


def _notes_sheet(sheet: WriteOnlyWorksheet) -> None:
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 100
    sheet.append([_cell(sheet, "Chỉ tiêu", font=_BOLD), _cell(sheet, "Cách tính", font=_BOLD)])
    for name, text in NOTES:
        sheet.append([_cell(sheet, name, font=_BOLD), _cell(sheet, text, alignment=_WRAP)])


def _column_letter(index: int) -> str:
    letter: str = get_column_letter(index)
    return letter


# --------------------------------------------------------------------- CSV


def export_csv(
    session: Session,
    service: StatsService,
    period: Period,
    out: IO[str] | Path,
    *,
    as_of: datetime,
    unit: str | None = None,
    what: Literal["summary", "cases"] = "summary",
) -> ExportData:
    """Write the summary table (or the case list) of ``period`` as CSV: UTF-8 with a byte
    order mark so that Excel shows the Vietnamese letters, comma separated, one header row;
    rates in percent, dates in local time ``YYYY-MM-DD HH:MM``."""
    data = collect_export(session, service, period, as_of=as_of, unit=unit)
    if what == "summary":
        lines: Iterator[list[Any]] = summary_csv_rows(data)
    else:
        lines = case_csv_rows(data, service.case_rows(session, period, as_of=as_of, unit=unit))
    if isinstance(out, Path):
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(lines)
    else:
        csv.writer(out).writerows(lines)
    return data


def summary_csv_rows(data: ExportData) -> Iterator[list[Any]]:
    yield ["Nhóm", "Mã", "Tên", *(_csv_header(column) for column in SUMMARY_COLUMNS)]
    for row in data.summary_rows():
        values: list[Any] = [row.group, row.key, row.name]
        for column in SUMMARY_COLUMNS:
            value = _figure(row, column)
            if value is None:
                values.append("")
            elif column.number == "rate":
                values.append(f"{value * 100:.1f}")
            else:
                values.append(value)
        yield values


def case_csv_rows(data: ExportData, rows: Iterable[CaseRow]) -> Iterator[list[Any]]:
    yield [column.header for column in CASE_COLUMNS]
    for row in rows:
        values = []
        for column in CASE_COLUMNS:
            value = column.value(row, data)
            if isinstance(value, datetime):
                value = f"{value:%Y-%m-%d %H:%M}"
            values.append("" if value is None else value)
        yield values


def _csv_header(column: SummaryColumn) -> str:
    return f"{column.header} (%)" if column.number == "rate" else column.header


def export_file(
    session: Session,
    service: StatsService,
    period: Period,
    out: Path,
    *,
    fmt: Literal["xlsx", "csv"],
    as_of: datetime,
    unit: str | None = None,
) -> ExportData:
    """``pakn report --format xlsx|csv --out FILE``: the workbook, or the summary as CSV."""
    if fmt == "xlsx":
        return export_xlsx(session, service, period, out, as_of=as_of, unit=unit)
    if fmt == "csv":
        return export_csv(session, service, period, out, as_of=as_of, unit=unit)
    raise ValueError(f"unknown format {fmt!r}; use xlsx or csv")


def xlsx_bytes(
    session: Session,
    service: StatsService,
    period: Period,
    *,
    as_of: datetime,
    unit: str | None = None,
) -> bytes:
    """:func:`export_xlsx` into memory (for sending the file in a chat)."""
    buffer = io.BytesIO()
    export_xlsx(session, service, period, buffer, as_of=as_of, unit=unit)
    return buffer.getvalue()
