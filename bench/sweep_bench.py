"""One reminder/escalation sweep over 100,000 open cases.

    .venv/bin/python bench/sweep_bench.py [--cases 100000] [--database URL]

Generates open cases spread over 7 units with deadlines from three weeks overdue to six weeks
ahead (about a third overdue, some not taken up in time), registers officers, heads and
leaders, then times `ReminderSweep.run` once (the first sweep of the day, which queues every
reminder) and once more (a repeated sweep, which must queue nothing). Target: ≤ 1 s per sweep
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot.app import build_services  # noqa: E402
from bot.config import load_config  # noqa: E402
from storage.attachments import AttachmentStore  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Case, ChannelIdentity, Person, PersonRole  # noqa: E402
from storage.reminders import ReminderSweep  # noqa: E402

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def populate(db: Database, config, count: int, now: datetime) -> None:
    rng = random.Random(42)
    units = list(config.units)
    categories = [c for c in config.categories.values()]
    calculator = build_services(config, AttachmentStore(Path(tempfile.gettempdir()))).deadlines

    def people(session) -> None:
        person_id = 1
        rows, identities, roles = [], [], []
        staff = [(u, "officer") for u in units for _ in range(2)] + [(u, "head") for u in units]
        staff += [(None, "leader"), (None, "leader")]
        for unit, role in staff:
            rows.append({"id": person_id, "commune": config.commune.id, "created_at": now})
            identities.append(
                {
                    "person_id": person_id,
                    "channel": "telegram",
                    "channel_user_id": str(900_000 + person_id),
                    "chat_id": str(900_000 + person_id),
                    "created_at": now,
                    "last_seen_at": now,
                }
            )
            roles.append({"person_id": person_id, "role": role, "unit": unit, "granted_at": now})
            person_id += 1
        rows.append({"id": person_id, "commune": config.commune.id, "created_at": now})
        session.execute(insert(Person), rows)
        session.execute(insert(ChannelIdentity), identities)
        session.execute(insert(PersonRole), roles)

    db.call(people)
    citizen_id = 7 * 3 + 2 + 1
    officers = {u: [i for i in range(1, 15) if (i - 1) // 2 == units.index(u)] for u in units}
    batch: list[dict] = []
    today = calculator.local_date(now)
    for number in range(1, count + 1):
        category = rng.choice(categories)
        offset = rng.randint(-15, 30)  # working days from today to the deadline
        due_day = calculator.calendar.add_working_days(today, offset)
        due = calculator.end_of_day(due_day)
        created = due - timedelta(days=14)
        status = rng.choices(["new", "open", "waiting_citizen"], weights=[2, 7, 1])[0]
        batch.append(
            {
                "commune": config.commune.id,
                "code": f"HB-2026-{number:06d}",
                "kind": "phan_anh_kien_nghi",
                "category": category.id,
                "unit": category.unit,
                "status": status,
                "channel": "telegram",
                "citizen_id": citizen_id,
                "anonymous": True,
                "content": "Nội dung phản ánh mẫu để đo tốc độ.",
                "complex": False,
                "created_at": created,
                "due_at": due,
                "answer_due_at": due,
                "open_due_at": calculator.end_of_day(
                    calculator.calendar.add_working_days(calculator.local_date(created), 2)
                ),
                "assigned_officer_id": None
                if status == "new"
                else rng.choice(officers[category.unit]),
                "extensions": 0,
                "reopened": 0,
                "updated_at": created,
            }
        )
        if len(batch) == 5000:
            db.call(lambda s, rows=batch: s.execute(insert(Case), rows))
            batch = []
    if batch:
        db.call(lambda s, rows=batch: s.execute(insert(Case), rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    config = load_config(ROOT / "config.toml", env={})
    with tempfile.TemporaryDirectory() as directory:
        url = args.database or f"sqlite:///{directory}/sweep.db"
        db = Database(url)
        db.migrate()
        now = datetime(2026, 12, 9, 7, 31, tzinfo=HCM)
        started = time.perf_counter()
        populate(db, config, args.cases, now)
        if not db.is_sqlite:
            # A live PostgreSQL keeps its statistics fresh (autovacuum); right after a bulk
            # load they must be gathered once. (SQLite plans without statistics by default.)
            with db.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        print(
            f"{url.split('://')[0]}: generated {args.cases} open cases in {time.perf_counter() - started:.1f} s"
        )
        services = build_services(config, AttachmentStore(Path(directory)))
        sweep = ReminderSweep(services.cases)
        for label in ("first sweep of the day", "repeated sweep"):
            started = time.perf_counter()
            result = db.call(sweep.run, now)
            elapsed = time.perf_counter() - started
            print(
                f"  {label}: {elapsed:.3f} s, queued {result.queued} "
                f"({dict(result.by_kind)})   (target ≤ 1 s)"
            )
        db.close()


if __name__ == "__main__":
    main()
