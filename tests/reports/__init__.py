"""A small fixed set of cases with hand-computed statistics, shared by the report tests.

The main period is the week Mon 23/2–Sun 1/3/2026, right after Tết (16–20/2/2026 are days
off); the comparison week is 16–22/2. ``AS_OF`` is Mon 2/3/2026 07:30 local time, when the
weekly report goes out. Handling times are working days after the local day of receipt up to
the day of the answer:

=====  ==============  ==============  ====  =========================================
code   received        answered        days  notes
=====  ==============  ==============  ====  =========================================
C01    Fri 13/2        Wed 25/2          3   Tết and two weekends skipped; hài lòng
C02    Mon 9/2         Thu 26/2          8   rất hài lòng
C03    Mon 2/2         Tue 24/2         11   due 23/2: late; chưa hài lòng
C04    Fri 2/1         Fri 27/2         35   tố cáo, extended to 13/3: on time; không đánh giá
C05    Tue 10/2        Fri 27/2          8   reopened, due = reopen deadline 2/3; no rating yet
C13    Tue 17/2 (Tết)  Thu 26/2          4   rất hài lòng
C16    Mon 9/2         Sat 21/2          4   answered in the comparison week; hài lòng
=====  ==============  ==============  ====  =========================================

Answered in the week: 3, 4, 8, 8, 11, 35 → median 8, 90th percentile 11 + 0.5 × 24 = 23.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bot.reports.periods import Period, week_of
from storage.db import Database
from storage.models import Case, Person

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def local(text: str) -> datetime:
    """A moment written in Vietnam time, as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=HCM).astimezone(UTC)


def due(day: str) -> datetime:
    """23:59:59 local of ``day``: the form every deadline has."""
    return datetime.combine(date.fromisoformat(day), time(23, 59, 59), tzinfo=HCM).astimezone(UTC)


@dataclass(frozen=True)
class Spec:
    code: str
    kind: str
    category: str
    unit: str
    channel: str
    status: str
    created: str
    answer_due: str
    answered: str | None = None
    rating: str | None = None
    extensions: int = 0
    reopened: int = 0


PAKN = "phan_anh_kien_nghi"

CASES: tuple[Spec, ...] = (
    Spec("C01", PAKN, "moi_truong", "kinh_te", "telegram", "closed", "2026-02-13 10:00", "2026-03-06", "2026-02-25 09:00", "hai_long"),
    Spec("C02", PAKN, "an_sinh_xa_hoi", "vhxh", "zalo", "closed", "2026-02-09 08:00", "2026-03-02", "2026-02-26 10:00", "rat_hai_long"),
    Spec("C03", PAKN, "giao_thong_ha_tang", "kinh_te", "console", "closed", "2026-02-02 09:00", "2026-02-23", "2026-02-24 15:00", "chua_hai_long"),
    Spec("C04", "to_cao", "can_bo_cong_chuc", "van_phong", "telegram", "closed", "2026-01-02 09:00", "2026-03-13", "2026-02-27 16:00", "khong_danh_gia", extensions=1),
    Spec("C05", PAKN, "dat_dai", "kinh_te", "zalo", "answered", "2026-02-10 14:00", "2026-03-02", "2026-02-27 11:00", None, reopened=1),
    Spec("C07", PAKN, "moi_truong", "kinh_te", "telegram", "open", "2026-02-23 20:00", "2026-03-09"),
    Spec("C08", PAKN, "y_te", "y_te", "console", "forwarded", "2026-02-24 09:00", "2026-03-10"),
    Spec("C09", "khieu_nai", "dat_dai", "van_phong", "zalo", "rejected", "2026-02-25 10:00", "2026-04-06"),
    Spec("C10", PAKN, "thu_tuc_hanh_chinh", "phvhcc", "zalo", "new", "2026-03-01 23:30", "2026-03-13"),
    Spec("C11", PAKN, "thu_tuc_hanh_chinh", "phvhcc", "telegram", "new", "2026-03-02 00:30", "2026-03-16"),
    Spec("C12", PAKN, "giao_duc", "vhxh", "console", "open", "2026-02-22 23:59", "2026-03-06"),
    Spec("C13", PAKN, "an_ninh_trat_tu", "cong_an", "telegram", "closed", "2026-02-17 08:00", "2026-03-06", "2026-02-26 08:00", "rat_hai_long"),
    Spec("C14", PAKN, "xay_dung", "kinh_te", "zalo", "waiting_citizen", "2026-01-15 09:00", "2026-01-29"),
    Spec("C15", "to_cao", "can_bo_cong_chuc", "van_phong", "console", "open", "2026-01-20 09:00", "2026-02-23"),
    Spec("C16", PAKN, "giao_duc", "vhxh", "zalo", "closed", "2026-02-09 09:00", "2026-03-02", "2026-02-21 10:00", "hai_long"),
)  # fmt: skip

WEEK: Period = week_of(date(2026, 2, 23))
AS_OF: datetime = local("2026-03-02 07:30")


def insert_cases(db: Database, specs: tuple[Spec, ...] = CASES) -> None:
    """Write ``specs`` straight into the tables (no events, no outbox)."""
    with db.transaction() as session:
        person = Person(commune="ha_bac", display_name="Người dân thử", created_at=AS_OF)
        session.add(person)
        session.flush()
        rows = []
        for spec in specs:
            created = local(spec.created)
            answered = local(spec.answered) if spec.answered else None
            closed = answered if spec.status == "closed" else None
            rows.append(
                {
                    "commune": "ha_bac",
                    "code": spec.code,
                    "kind": spec.kind,
                    "category": spec.category,
                    "unit": spec.unit,
                    "status": spec.status,
                    "channel": spec.channel,
                    "citizen_id": person.id,
                    "anonymous": False,
                    "content": "Nội dung thử",
                    "created_at": created,
                    "due_at": due(spec.answer_due),
                    "answer_due_at": due(spec.answer_due),
                    "open_due_at": due(spec.answer_due),
                    "opened_at": created if spec.status != "new" else None,
                    "answered_at": answered,
                    "closed_at": closed,
                    "extensions": spec.extensions,
                    "reopened": spec.reopened,
                    "rating": spec.rating,
                    "updated_at": created,
                }
            )
        session.execute(insert(Case), rows)
