"""Report charts as PNG bytes (matplotlib, Agg backend, no pyplot: safe in worker threads).

One image per report, two panels:

* per group (unit, or category for a unit head): answered on time, answered late, open within
  the deadline and open overdue, as stacked horizontal bars;
* the weekly trend of received versus answered cases over the last weeks.

Labels are Vietnamese; DejaVu Sans (bundled with matplotlib) has every Vietnamese glyph.
"""

from __future__ import annotations

import io
import textwrap
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from storage.stats import PeriodStats, TrendPoint

__all__ = ["FONT", "BarGroup", "report_chart"]

FONT = "DejaVu Sans"

_COLOURS = {
    "on_time": "#2e7d32",
    "late": "#f9a825",
    "open": "#1e88e5",
    "overdue": "#c62828",
    "received": "#5c6bc0",
    "answered": "#26a69a",
}
_RC: dict[Any, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# rc_context changes global settings: one chart at a time.
_LOCK = threading.Lock()


@dataclass(frozen=True)
class BarGroup:
    """One bar of the first panel: a unit or category name and its figures."""

    label: str
    stats: PeriodStats


def report_chart(
    title: str,
    groups: Sequence[BarGroup],
    trend: Sequence[TrendPoint],
    *,
    group_title: str = "Theo đơn vị",
    dpi: int = 110,
) -> bytes:
    """The report image as PNG bytes. Groups with nothing to show are left out."""
    shown = [g for g in groups if _bar_total(g.stats) > 0]
    with _LOCK, matplotlib.rc_context(_RC):
        rows = max(len(shown), 1)
        figure = Figure(figsize=(9.5, 3.6 + 0.42 * rows), dpi=dpi, layout="constrained")
        FigureCanvasAgg(figure)
        grid = figure.add_gridspec(2, 1, height_ratios=[0.9 + 0.42 * rows, 3.0])
        figure.suptitle(title, fontsize=13, fontweight="bold")
        _bars(figure.add_subplot(grid[0]), shown, group_title)
        _trend(figure.add_subplot(grid[1]), trend)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _bar_total(stats: PeriodStats) -> int:
    return stats.answered + stats.open


def _bars(axes: Axes, groups: Sequence[BarGroup], group_title: str) -> None:
    axes.set_title(
        f"{group_title}: đã trả lời trong kỳ, đang xử lý hiện nay", loc="left", fontsize=11
    )
    if not groups:
        axes.text(0.5, 0.5, "Không có số liệu", ha="center", va="center")
        axes.set_axis_off()
        return
    labels = ["\n".join(textwrap.wrap(g.label, 28)) for g in groups]
    positions = list(range(len(groups)))[::-1]  # first group on top
    series = [
        ("Trả lời đúng hạn", [g.stats.answered_on_time for g in groups], _COLOURS["on_time"]),
        ("Trả lời quá hạn", [g.stats.answered_late for g in groups], _COLOURS["late"]),
        (
            "Đang xử lý trong hạn",
            [g.stats.open - g.stats.overdue_open for g in groups],
            _COLOURS["open"],
        ),
        ("Đang xử lý quá hạn", [g.stats.overdue_open for g in groups], _COLOURS["overdue"]),
    ]
    left = [0] * len(groups)
    for name, values, colour in series:
        bars = axes.barh(positions, values, left=left, color=colour, label=name, height=0.62)
        axes.bar_label(
            bars,
            labels=[str(v) if v else "" for v in values],
            label_type="center",
            color="white",
            fontsize=8,
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(positions, labels)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize=8, frameon=False, ncols=4)
    axes.set_xlim(0, max(left) * 1.08 + 0.5)


def _trend(axes: Axes, trend: Sequence[TrendPoint]) -> None:
    weeks = len(trend)
    axes.set_title(f"Xu hướng {weeks} tuần: tiếp nhận và đã trả lời", loc="left", fontsize=11)
    x = list(range(weeks))
    width = 0.38
    received = [p.received for p in trend]
    answered = [p.answered for p in trend]
    bars_in = axes.bar(
        [i - width / 2 for i in x], received, width, color=_COLOURS["received"], label="Tiếp nhận"
    )
    bars_out = axes.bar(
        [i + width / 2 for i in x], answered, width, color=_COLOURS["answered"], label="Đã trả lời"
    )
    for bars in (bars_in, bars_out):
        axes.bar_label(bars, labels=[str(int(b.get_height()) or "") for b in bars], fontsize=8)
    axes.set_xticks(x, [f"{p.week.first_day.day:02d}/{p.week.first_day.month:02d}" for p in trend])
    axes.set_xlabel("Tuần bắt đầu từ thứ Hai")
    axes.set_ylabel("Số hồ sơ")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    top = max([*received, *answered, 1])
    axes.set_ylim(0, top * 1.2 + 0.5)
    axes.legend(loc="upper left", fontsize=8, frameon=False, ncols=2)
