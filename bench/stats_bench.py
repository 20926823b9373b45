"""Statistics at scale: 1,000,000 cases, then the weekly report query set.

Usage::

    .venv/bin/python bench/stats_bench.py [--db sqlite|postgresql|both] [--cases N]
        [--years Y] [--no-indexes] [--keep DIR]

For each database it creates a fresh schema (SQLite: a temporary file; PostgreSQL: a schema
``bench_stats`` on ``PAKN_TEST_POSTGRES_URL`` or 127.0.0.1:5432/test), migrates it, bulk
loads N cases spread over Y years up to Monday 23/11/2026 09:00 (SQLite: ``executemany`` on
the raw connection in chunks; PostgreSQL: ``COPY``), adds the statistics indexes (unless
``--no-indexes``) and analyses the tables. Then a *fresh process* runs the weekly report
query set three times — the commune's week with comparison, the breakdown by unit, the year
to date and its breakdown, the 8-week trend and the 5 oldest overdue cases (exactly what
``collect_weekly`` does) — and prints the first and best time and the peak RSS of that
process (``resource.getrusage``). The loader's own peak RSS is printed too.

Targets: ≤ 2 s on SQLite, ≤ 1 s on PostgreSQL, peak RSS ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy  # noqa: E402

from bot.config import AppConfig, load_config  # noqa: E402
from bot.rules.deadlines import DeadlineCalculator  # noqa: E402
from storage.db import Database  # noqa: E402

TARGET_SQLITE_S = 2.0
TARGET_POSTGRES_S = 1.0
TARGET_RSS_MB = 300
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
POSTGRES_URL = os.environ.get(
    "PAKN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SCHEMA = "bench_stats"
CHUNK = 50_000

#: Indexes the statistics need on top of the initial schema (see docs/reports.md). The
#: backlog and overdue queries use the existing (status, …) index.
INDEXES = ("CREATE INDEX IF NOT EXISTS ix_cases_answered ON cases (answered_at)",)

COLUMNS = (
    "commune", "code", "kind", "category", "unit", "status", "channel", "citizen_id",
    "anonymous", "content", "complex", "created_at", "due_at", "answer_due_at",
    "open_due_at", "opened_at", "answered_at", "closed_at", "extensions", "reopened",
    "rating", "updated_at",
)  # fmt: skip


def rss_mb() -> float:
    """Peak resident set size of this process in MB (``ru_maxrss``; Linux reports KiB).

    On Linux ``ru_maxrss`` survives ``fork`` + ``exec``: a child starts with its parent's
    peak. The orchestrating process therefore stays small and loads nothing itself."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hwm_mb() -> float | None:
    """Linux ``VmHWM`` (peak RSS of this program image only), for cross-checking."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# --------------------------------------------------------------------- data


def generate(config: AppConfig, count: int, years: int, seed: int = 7) -> Iterator[tuple]:
    """Case rows as tuples in ``COLUMNS`` order (naive UTC datetimes), oldest first."""
    rng = random.Random(seed)
    calc = DeadlineCalculator(config.calendar, config.commune.timezone)
    calendar = config.calendar
    tz = config.commune.timezone
    now = NOW.astimezone(UTC)
    start = now - timedelta(days=365 * years)
    step = (now - start) / count
    categories = list(config.categories)
    weights = [18 if c in ("giao_thong_ha_tang", "moi_truong") else 6 for c in categories]
    complaint_unit = config.deadlines.complaint_unit
    naive = _naive
    end_of_day = functools.lru_cache(maxsize=None)(calc.end_of_day)
    add = functools.lru_cache(maxsize=None)(calendar.add_working_days)
    local_date = functools.lru_cache(maxsize=4096)(lambda hour: hour.astimezone(tz).date())
    counters: dict[int, int] = {}
    for index in range(count):
        created = start + step * index + timedelta(seconds=rng.randrange(60))
        local_day = local_date(created.replace(minute=0, second=0, microsecond=0))
        counters[local_day.year] = counters.get(local_day.year, 0) + 1
        code = f"HB-{local_day.year}-{counters[local_day.year]:07d}"
        roll = rng.random()
        kind = "phan_anh_kien_nghi" if roll < 0.9 else ("khieu_nai" if roll < 0.96 else "to_cao")
        category = rng.choices(categories, weights)[0]
        unit = complaint_unit if kind != "phan_anh_kien_nghi" else config.categories[category].unit
        limit = 10 if kind == "phan_anh_kien_nghi" else 30
        answer_due = end_of_day(add(local_day, limit))
        open_due = end_of_day(add(local_day, 2))
        extensions = 0
        if kind == "to_cao" and rng.random() < 0.3:
            answer_due += timedelta(days=30)
            extensions = 1
        opened = end_of_day(add(local_day, rng.choice((0, 1, 1, 2)))) - timedelta(hours=8)
        opened = max(opened, created + timedelta(minutes=10))
        answered = closed = None
        rating = None
        reopened = 0
        outcome = rng.random()
        handling = max(1, round(limit * rng.choice((0.2, 0.35, 0.5, 0.7, 0.9, 1.1, 1.4))))
        answer_at = end_of_day(add(local_day, handling)) - timedelta(hours=7)
        if opened > now:
            status, opened = "new", None
        elif outcome < 0.04:
            status, closed = "forwarded", opened + timedelta(days=2)
        elif outcome < 0.06:
            status, closed = "rejected", opened + timedelta(days=1)
        elif outcome < 0.065 or answer_at > now:
            status = "waiting_citizen" if rng.random() < 0.1 else "open"
        else:
            answered = answer_at
            rated = answered + timedelta(hours=rng.randint(1, 60))
            if rated > now:
                status = "answered"
            else:
                status, closed = "closed", rated
                rating = rng.choices(
                    ("rat_hai_long", "hai_long", "chua_hai_long", "khong_danh_gia"),
                    (45, 38, 7, 10),
                )[0]
                if rating == "chua_hai_long" and rng.random() < 0.3:
                    reopened = 1
        if closed is not None and closed > now:
            closed = None
        yield (
            "ha_bac", code, kind, category, unit, status, "zalo" if rng.random() < 0.6 else "telegram",
            1, False, "Nội dung mẫu cho phép đo", False, naive(created), naive(answer_due),
            naive(answer_due), naive(open_due), naive(opened), naive(answered), naive(closed),
            extensions, reopened, rating, naive(closed or answered or opened or created),
        )  # fmt: skip


def _naive(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _sqlite_text(value: object) -> object:
    # SQLAlchemy's SQLite DateTime storage format, so comparisons with bound values work.
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def load(db: Database, config: AppConfig, count: int, years: int) -> float:
    started = time.perf_counter()
    with db.engine.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "INSERT INTO people (commune, display_name, created_at) "
                "VALUES ('ha_bac', 'Bench', :now)"
            ),
            {"now": _naive(NOW)},
        )
    rows = generate(config, count, years)
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.is_sqlite:
            cursor.execute("BEGIN")
            sql = (
                f"INSERT INTO cases ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in COLUMNS)})"
            )
            while True:
                chunk = [tuple(map(_sqlite_text, row)) for row in itertools.islice(rows, CHUNK)]
                if not chunk:
                    break
                cursor.executemany(sql, chunk)
            cursor.execute("COMMIT")
        else:
            with cursor.copy(f"COPY cases ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
            raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def add_indexes(db: Database) -> float:
    started = time.perf_counter()
    with db.engine.begin() as connection:
        for statement in INDEXES:
            connection.execute(sqlalchemy.text(statement))
        connection.execute(sqlalchemy.text("ANALYZE"))
    return time.perf_counter() - started


# --------------------------------------------------------------------- measuring


def measure(url: str, config_path: str, repeats: int = 3) -> dict[str, object]:
    """Run the weekly report query set (in this fresh process) and time it."""
    from bot.reports.weekly import collect_weekly, render_report
    from storage.stats import StatsService

    config = load_config(config_path, env={"PAKN_DATABASE_URL": url})
    db = Database(url)
    service = StatsService(config, DeadlineCalculator(config.calendar, config.commune.timezone))
    as_of = NOW.astimezone(UTC)
    times = []
    data = None
    for _ in range(repeats):
        started = time.perf_counter()
        with db.transaction() as session:
            data = collect_weekly(session, service, as_of=as_of)
        times.append(time.perf_counter() - started)
    assert data is not None
    heads_started = time.perf_counter()
    with db.transaction() as session:
        collect_weekly(session, service, as_of=as_of, units=list(config.units))
    with_heads = time.perf_counter() - heads_started
    rss_queries = rss_mb()
    render_started = time.perf_counter()
    report = render_report(data.commune, config)
    render = time.perf_counter() - render_started
    db.close()
    return {
        "first_s": round(times[0], 3),
        "best_s": round(min(times), 3),
        "times_s": [round(t, 3) for t in times],
        "vm_hwm_mb": hwm_mb(),
        "with_unit_heads_s": round(with_heads, 3),
        "render_s": round(render, 3),
        "peak_rss_queries_mb": round(rss_queries, 1),
        "peak_rss_mb": round(rss_mb(), 1),
        "week_received": data.commune.stats.received,
        "ytd_received": data.commune.ytd.received if data.commune.ytd else 0,
        "open": data.commune.stats.open,
        "chart_bytes": len(report.chart or b""),
    }


def run(kind: str, count: int, years: int, indexes: bool, keep: Path | None) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix="pakn-bench-"))
    shutil.copy(ROOT / "config.toml", workdir / "config.toml")
    if kind == "sqlite":
        url = f"sqlite:///{(keep or workdir) / 'bench.db'}"
        if keep:
            (keep / "bench.db").unlink(missing_ok=True)
    else:
        admin = sqlalchemy.create_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
            connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{SCHEMA}"'))
        admin.dispose()
        separator = "&" if "?" in POSTGRES_URL else "?"
        url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{SCHEMA}"
    print(f"\n== {kind}: loading {count:,} cases over {years} years …", flush=True)
    config_path = str(workdir / "config.toml")
    loaded = _child("--load", url, config_path, str(count), str(years), str(int(indexes)))
    if loaded is None:
        return False
    print(
        f"   load {loaded['load_s']:.1f} s, indexes + analyse {loaded['index_s']:.1f} s, "
        f"loader peak RSS {loaded['peak_rss_mb']:.0f} MB"
    )
    result = _child("--measure", url, config_path)
    if result is None:
        return False
    target = TARGET_SQLITE_S if kind == "sqlite" else TARGET_POSTGRES_S
    ok = result["first_s"] <= target and result["peak_rss_mb"] <= TARGET_RSS_MB
    print(
        f"   weekly report query set: first {result['first_s']:.3f} s, then "
        f"{', '.join(f'{t:.3f}' for t in result['times_s'][1:])} s (target ≤ {target:.0f} s); "
        f"with all 7 unit heads {result['with_unit_heads_s']:.3f} s; "
        f"text + chart {result['render_s']:.3f} s"
    )
    print(
        f"   peak RSS {result['peak_rss_mb']:.0f} MB (queries only "
        f"{result['peak_rss_queries_mb']:.0f} MB; target ≤ {TARGET_RSS_MB} MB) — "
        f"week received {result['week_received']:,}, year to date {result['ytd_received']:,}, "
        f"open {result['open']:,} → {'OK' if ok else 'MISSED'}"
    )
    if kind == "postgresql" and not keep:
        admin = sqlalchemy.create_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        admin.dispose()
    shutil.rmtree(workdir, ignore_errors=True)
    return ok


def _child(*args: str) -> dict[str, Any] | None:
    """Run this script with ``args`` in a fresh process; its last output line is JSON."""
    child = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if child.returncode != 0:
        print(child.stdout, child.stderr)
        return None
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def load_step(url: str, config_path: str, count: int, years: int, indexes: bool) -> dict[str, Any]:
    config = load_config(config_path, env={"PAKN_DATABASE_URL": url})
    db = Database(url)
    db.migrate()
    load_s = load(db, config, count, years)
    index_s = add_indexes(db) if indexes else 0.0
    if not indexes:
        with db.engine.begin() as connection:
            connection.execute(sqlalchemy.text("ANALYZE"))
    db.close()
    return {"load_s": round(load_s, 1), "index_s": round(index_s, 1), "peak_rss_mb": rss_mb()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--no-indexes", action="store_true", help="measure without them")
    parser.add_argument("--keep", type=Path, help="keep the SQLite file (and PG schema)")
    parser.add_argument("--measure", nargs=2, metavar=("URL", "CONFIG"), help=argparse.SUPPRESS)
    parser.add_argument("--load", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0
    if args.load:
        url, config_path, count, years, indexes = args.load
        print(json.dumps(load_step(url, config_path, int(count), int(years), indexes == "1")))
        return 0
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    ok = True
    for kind in kinds:
        ok = run(kind, args.cases, args.years, not args.no_indexes, args.keep) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
