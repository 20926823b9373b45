"""Demo data: realistic sample cases so that a newcomer sees a real report at once.

``pakn demo seed`` calls :func:`seed_demo`. It fills the configured database with cases
spread over the past weeks across units, categories, case kinds, channels, statuses and
ratings — some late, some extended, a few reopened, forwarded or rejected — each with its
audit events. Deadlines come from the commune's own ``[deadlines]`` and working-day calendar.

Demo citizens are ``people`` rows whose display name starts with :data:`DEMO_MARKER` and
have no chat identity, so nothing is ever sent to them. Seeding twice does nothing the
second time; seeding a database that already holds real cases is refused.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import AppConfig
from bot.rules.codes import format_code
from bot.rules.deadlines import DeadlineCalculator, Milestone
from storage.db import Database
from storage.models import Case, CaseContact, CaseEvent, CodeCounter, Person

__all__ = ["DEMO_MARKER", "DemoRefused", "demo_present", "seed_demo"]

#: Display names of demo citizens start with this.
DEMO_MARKER = "Dữ liệu mẫu"

COMPLAINT_KINDS = ("khieu_nai", "to_cao")

_NAMES = (
    "Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Đức",
    "Vũ Thị Hà", "Đặng Văn Hải", "Bùi Thị Hạnh", "Đỗ Văn Hùng", "Ngô Thị Hương",
    "Dương Văn Khánh", "Lý Thị Lan", "Nguyễn Thị Mai", "Trần Văn Minh", "Lê Thị Nga",
    "Phạm Văn Nam", "Hoàng Thị Oanh", "Vũ Văn Phúc", "Đặng Thị Quyên", "Bùi Văn Sơn",
    "Đỗ Thị Thảo", "Ngô Văn Thắng", "Nguyễn Văn Tiến", "Trần Thị Trang", "Lê Văn Tuấn",
    "Phạm Thị Uyên", "Hoàng Văn Việt", "Vũ Thị Xuân", "Đinh Văn Long", "Mai Thị Yến",
)  # fmt: skip

# What citizens write, per category ({village} is filled in). Categories not listed here
# (a commune's own) use _GENERIC.
_TEXTS: dict[str, tuple[str, ...]] = {
    "moi_truong": (
        "Bãi rác tự phát ở đầu {village} bốc mùi, ruồi nhặng nhiều, đề nghị xã cho thu gom.",
        "Xe thu gom rác không đến {village} đã hơn một tuần, rác để ven đường.",
        "Một trại lợn ở {village} xả nước thải ra mương chung, mùi rất nặng.",
        "Có người đốt rơm rạ và rác thải nhựa gần khu dân cư {village} vào buổi tối.",
    ),
    "giao_thong_ha_tang": (
        "Đường liên thôn đoạn qua {village} có nhiều ổ gà, trời mưa đi lại rất nguy hiểm.",
        "Ba bóng đèn đường ở {village} bị hỏng, buổi tối trẻ con đi học thêm về rất tối.",
        "Cống thoát nước ở {village} bị tắc, mưa to nước tràn vào nhà dân.",
        "Cột điện nghiêng ở ngõ {village}, dây điện võng thấp, đề nghị kiểm tra.",
    ),
    "dat_dai": (
        "Đề nghị xã hướng dẫn thủ tục cấp giấy chứng nhận quyền sử dụng đất cho thửa đất ở {village}.",
        "Hộ bên cạnh ở {village} xây tường rào lấn sang phần đất của gia đình tôi.",
        "Xin hỏi về việc đo đạc lại ranh giới thửa đất nông nghiệp ở {village}.",
    ),
    "xay_dung": (
        "Có hộ đang xây nhà ở {village} nhưng không có biển báo công trình, vật liệu đổ tràn ra đường.",
        "Công trình xây dựng ở {village} làm việc đến khuya, gây ồn ào.",
    ),
    "nong_nghiep": (
        "Kênh mương nội đồng ở {village} bị bồi lấp, không lấy được nước vào ruộng.",
        "Đề nghị xã thông báo lịch tiêm phòng cúm gia cầm cho đàn gà, vịt ở {village}.",
        "Ruộng lúa ở {village} bị sâu cuốn lá, xin cán bộ khuyến nông xuống hướng dẫn.",
    ),
    "an_sinh_xa_hoi": (
        "Mẹ tôi 82 tuổi ở {village}, xin hỏi thủ tục hưởng trợ cấp người cao tuổi.",
        "Gia đình tôi thuộc hộ cận nghèo nhưng năm nay chưa được cấp thẻ bảo hiểm y tế.",
        "Đề nghị xã xem xét hỗ trợ sửa nhà cho một hộ neo đơn ở {village}.",
    ),
    "giao_duc": (
        "Đường vào điểm trường mầm non ở {village} lầy lội, phụ huynh đưa đón rất vất vả.",
        "Xin hỏi thời gian tuyển sinh lớp 1 năm học tới của trường tiểu học xã.",
    ),
    "van_hoa_the_thao": (
        "Loa phát thanh ở {village} mở quá to lúc 5 giờ sáng, đề nghị điều chỉnh giờ phát.",
        "Nhà văn hóa {village} bị dột mái, đề nghị xã sửa trước mùa mưa.",
    ),
    "dan_chu_co_so": (
        "Đề nghị công khai các khoản đóng góp làm đường bê tông ở {village}.",
        "Thôn họp dân nhưng không thông báo trước cho các hộ, nhiều nhà không biết để dự.",
        "Xin được xem danh sách hộ được hỗ trợ năm nay của {village}.",
    ),
    "y_te": (
        "Một quán ăn sáng ở {village} bán đồ ăn không đảm bảo vệ sinh.",
        "Khu vực {village} có nhiều muỗi, đề nghị phun thuốc phòng sốt xuất huyết.",
    ),
    "an_ninh_trat_tu": (
        "Nhóm thanh niên tụ tập hát karaoke ồn ào sau 23 giờ ở {village}.",
        "Có người lạ hay đi lại dò xét nhà dân ở {village} vào buổi tối.",
        "Xe máy chạy tốc độ cao, lạng lách trên đường qua {village} vào cuối tuần.",
    ),
    "quan_su": (
        "Con tôi đang học đại học năm hai, xin hỏi thủ tục tạm hoãn gọi nhập ngũ.",
        "Xin hỏi lịch khám sức khỏe nghĩa vụ quân sự năm nay.",
    ),
    "thu_tuc_hanh_chinh": (
        "Tôi nộp hồ sơ đăng ký khai sinh cho con đã quá ngày hẹn nhưng chưa nhận được kết quả.",
        "Cổng dịch vụ công báo lỗi khi nộp hồ sơ chứng thực, đề nghị hướng dẫn.",
        "Bộ phận một cửa yêu cầu nộp thêm bản sao giấy tờ không có trong danh mục thủ tục.",
    ),
    "can_bo_cong_chuc": (
        "Cán bộ tiếp dân có thái độ thiếu tôn trọng khi tôi đến hỏi thủ tục.",
        "Đề nghị xã nhắc nhở cán bộ đi làm muộn, người dân phải chờ lâu.",
    ),
    "khac": (
        "Đề nghị xã lắp thêm biển chỉ dẫn đường vào {village}.",
        "Xin hỏi lịch tiếp công dân của Chủ tịch UBND xã trong tháng này.",
    ),
}
_GENERIC = ("Đề nghị xã xem xét, giải quyết vấn đề của người dân ở {village}.",)
_COMPLAINT_TEXTS: dict[str, tuple[str, ...]] = {
    "khieu_nai": (
        "Tôi không đồng ý với quyết định xử phạt vi phạm hành chính về xây dựng đối với gia đình tôi ở {village}.",
        "Khiếu nại việc xã không giải quyết hỗ trợ khi thu hồi một phần đất làm đường ở {village}.",
        "Khiếu nại việc xã từ chối xác nhận hồ sơ hộ cận nghèo của gia đình tôi.",
    ),
    "to_cao": (
        "Tố cáo cán bộ thôn {village} thu tiền đóng góp nhưng không có biên lai.",
        "Tố cáo việc san lấp đất nông nghiệp trái phép ở {village} kéo dài nhiều tháng.",
    ),
}
_ANSWERS = (
    "UBND xã đã cử cán bộ kiểm tra thực tế và chỉ đạo xử lý. Cảm ơn ông/bà đã phản ánh.",
    "Đơn vị đã làm việc với thôn và các hộ liên quan; vụ việc đã được khắc phục.",
    "Xã đã hướng dẫn thủ tục, kèm danh mục giấy tờ cần chuẩn bị. Mời ông/bà đến Trung tâm "
    "Phục vụ hành chính công để được hỗ trợ.",
    "Nội dung đã được đưa vào kế hoạch sửa chữa của xã trong quý này.",
)
_FORWARD_BODIES = (
    "Điện lực huyện (đường dây trung thế thuộc ngành điện quản lý)",
    "Công ty cấp nước sạch của tỉnh",
    "Chi cục Thuế khu vực",
)
_REJECT_LABELS = {
    "duplicate": "Trùng với hồ sơ đã có",
    "not_competent": "Không thuộc thẩm quyền của xã",
}
_RATING_LABELS = {
    "rat_hai_long": "Rất hài lòng",
    "hai_long": "Hài lòng",
    "chua_hai_long": "Chưa hài lòng",
}
_REOPEN_REASONS = (
    "Đã sửa nhưng chỉ được vài ngày lại hỏng như cũ.",
    "Cán bộ trả lời chung chung, chưa giải quyết được việc của gia đình tôi.",
    "Vẫn chưa thấy ai xuống kiểm tra thực tế.",
)
_CATEGORY_WEIGHTS = {
    "moi_truong": 16, "giao_thong_ha_tang": 18, "dat_dai": 10, "xay_dung": 7,
    "nong_nghiep": 6, "an_sinh_xa_hoi": 9, "giao_duc": 3, "van_hoa_the_thao": 4,
    "dan_chu_co_so": 5, "y_te": 4, "an_ninh_trat_tu": 9, "quan_su": 2,
    "thu_tuc_hanh_chinh": 10, "can_bo_cong_chuc": 3, "khac": 4,
}  # fmt: skip
_COMPLAINT_CATEGORIES = ("dat_dai", "xay_dung", "can_bo_cong_chuc", "an_sinh_xa_hoi")


class DemoRefused(Exception):
    """The database already holds real cases; demo data would mix with them."""


def demo_present(session: Session) -> bool:
    """Whether demo data has already been written."""
    found = session.scalar(
        select(func.count()).select_from(Person).where(Person.display_name.like(f"{DEMO_MARKER}%"))
    )
    return bool(found)


def seed_demo(
    db: Database,
    config: AppConfig,
    clock: Clock,
    *,
    weeks: int = 12,
    cases_per_week: int = 30,
    seed: int = 2026,
    allow_existing: bool = False,
) -> int:
    """Write about ``weeks × cases_per_week`` sample cases ending at ``clock.now()``.

    Returns how many cases were written: 0 when demo data is already there. Raises
    :class:`DemoRefused` when the database holds other cases, unless ``allow_existing``.
    """
    if weeks < 1 or cases_per_week < 1:
        raise ValueError("weeks and cases_per_week must be positive")
    calculator = DeadlineCalculator(config.calendar, config.commune.timezone)
    with db.transaction() as session:
        if demo_present(session):
            return 0
        existing = session.scalar(select(func.count()).select_from(Case)) or 0
        if existing and not allow_existing:
            raise DemoRefused(
                f"the database already holds {existing} cases; demo data is only for an empty one"
            )
        builder = _Builder(config, calculator, random.Random(seed), clock.now())
        drafts = builder.build(weeks, cases_per_week)
        return _write(session, config, builder.now, drafts)


# --------------------------------------------------------------------- simulation


@dataclass
class _Draft:
    created_at: datetime
    kind: str
    category: str
    unit: str
    channel: str
    content: str
    village: str
    citizen: int  # index into the demo citizens
    anonymous: bool
    open_due_at: datetime
    due_at: datetime
    answer_due_at: datetime
    status: str = "new"
    opened_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    extensions: int = 0
    reopened: int = 0
    rating: str | None = None
    complex: bool = False
    updated_at: datetime | None = None
    # (moment, kind, from citizen, public, note, data)
    events: list[tuple[datetime, str, bool, bool, str | None, dict[str, Any] | None]] = field(
        default_factory=list
    )

    def event(
        self,
        at: datetime,
        kind: str,
        *,
        citizen: bool = False,
        public: bool = True,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.events.append((at, kind, citizen, public, note, data))
        self.updated_at = at


class _Builder:
    def __init__(
        self,
        config: AppConfig,
        calculator: DeadlineCalculator,
        rng: random.Random,
        now: datetime,
    ) -> None:
        self.config = config
        self.calc = calculator
        self.rng = rng
        self.now = now.astimezone(UTC)
        self.tz = config.commune.timezone
        categories = list(config.categories)
        self.categories = categories
        self.weights = [_CATEGORY_WEIGHTS.get(c, 3) for c in categories]
        self.complaint_categories = [c for c in _COMPLAINT_CATEGORIES if c in categories] or [
            categories[0]
        ]

    # ---- moments

    def local(self, day: date, hour: int, minute: int) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz).astimezone(UTC)

    def office_moment(self, day: date) -> datetime:
        """A moment in office hours of ``day`` (a working day)."""
        hour = self.rng.choice((7, 8, 9, 10, 11, 13, 14, 15, 16))
        return self.local(day, hour, self.rng.randrange(0, 60, 5))

    def after_working_days(self, moment: datetime, days: int) -> datetime:
        """Office time on the ``days``-th working day after ``moment`` (0 = same day if it is a
        working day and still before 16:00, else the next working day)."""
        day = self.calc.local_date(moment)
        if days == 0 and self.calendar_working(day) and moment.astimezone(self.tz).hour < 16:
            later = moment + timedelta(minutes=self.rng.randrange(30, 240, 10))
            return min(later, self.local(day, 16, 45))
        target = self.calc.calendar.add_working_days(day, max(days, 1))
        return self.office_moment(target)

    def calendar_working(self, day: date) -> bool:
        return self.calc.calendar.is_working_day(day)

    def created_moment(self, monday: date) -> datetime:
        """Citizens write mostly on weekdays in the day, some at night and at weekends."""
        weekday = self.rng.choices(range(7), weights=(18, 17, 16, 16, 15, 10, 8))[0]
        day = monday + timedelta(days=weekday)
        hour = self.rng.choices(
            (6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23),
            weights=(2, 5, 8, 9, 9, 7, 5, 6, 7, 7, 6, 5, 5, 7, 8, 6, 3, 1),
        )[0]
        return self.local(day, hour, self.rng.randrange(60))

    # ---- deadlines

    def due(self, milestone: Milestone, start: datetime, kind: str, category: str) -> datetime:
        due = self.calc.due_for(
            self.config.deadlines, milestone, start, kind=kind, category=category
        )
        if due is None:  # a commune without that limit: fall back to 10 working days
            due = self.calc.end_of_day(
                self.calc.calendar.add_working_days(self.calc.local_date(start), 10)
            )
        return due

    # ---- cases

    def build(self, weeks: int, per_week: int) -> list[_Draft]:
        today = self.calc.local_date(self.now)
        this_monday = today - timedelta(days=today.weekday())
        drafts = []
        for week in range(weeks, -1, -1):
            monday = this_monday - timedelta(weeks=week)
            # Fewer cases in the current (partial) week; some weeks busier than others.
            count = round(per_week * self.rng.uniform(0.75, 1.25))
            for _ in range(count):
                created = self.created_moment(monday)
                if created <= self.now - timedelta(minutes=5):
                    drafts.append(self.case(created))
        drafts.sort(key=lambda d: d.created_at)
        return drafts

    def case(self, created: datetime) -> _Draft:
        rng = self.rng
        kind = rng.choices(("phan_anh_kien_nghi", "khieu_nai", "to_cao"), (90, 6, 4))[0]
        if kind in COMPLAINT_KINDS:
            category = rng.choice(self.complaint_categories)
            texts = _COMPLAINT_TEXTS[kind]
            unit = self.config.deadlines.complaint_unit
        else:
            category = rng.choices(self.categories, self.weights)[0]
            texts = _TEXTS.get(category, _GENERIC)
            unit = self.config.categories[category].unit
        village = rng.choice(self.config.commune.villages)
        channel = rng.choices(("zalo", "telegram"), (60, 40))[0]
        anonymous = kind == "phan_anh_kien_nghi" and rng.random() < 0.15
        if kind == "phan_anh_kien_nghi":
            due_at = answer_due = self.due("answer", created, kind, category)
        else:
            due_at = self.due("accept", created, kind, category)
            answer_due = self.due("answer", due_at, kind, category)
        draft = _Draft(
            created_at=created,
            kind=kind,
            category=category,
            unit=unit,
            channel=channel,
            content=rng.choice(texts).format(village=village),
            village=village,
            citizen=rng.randrange(len(_NAMES)),
            anonymous=anonymous,
            open_due_at=self.due("open", created, kind, category),
            due_at=due_at,
            answer_due_at=answer_due,
        )
        draft.event(created, "created", citizen=True, data={"channel": channel, "photos": 0})
        self.handle(draft)
        return draft

    def handle(self, draft: _Draft) -> None:
        rng, now = self.rng, self.now
        # Opening: usually within two working days, sometimes late.
        opened = self.after_working_days(
            draft.created_at, rng.choices((0, 1, 2, 3), (45, 35, 14, 6))[0]
        )
        if opened > now:
            return
        draft.status, draft.opened_at = "open", opened
        draft.event(opened, "opened")

        roll = rng.random()
        if roll < 0.04 and draft.kind == "phan_anh_kien_nghi":
            self.forward(draft, opened)
            return
        if roll < 0.07 or (draft.kind == "khieu_nai" and roll < 0.25):
            self.reject(draft, opened)
            return

        if rng.random() < 0.12:  # asks the citizen for more information
            asked = self.after_working_days(opened, 1)
            if asked > now:
                return
            draft.status = "waiting_citizen"
            draft.event(asked, "info_requested", note="Đề nghị cung cấp thêm ảnh và vị trí cụ thể")
            replied = asked + timedelta(hours=rng.randint(3, 60))
            if replied > now:
                return
            draft.status = "open"
            draft.event(replied, "citizen_replied", citizen=True)

        limit_days = self.calc.calendar.working_days_between(
            self.calc.local_date(draft.created_at), self.calc.local_date(draft.answer_due_at)
        )
        share = rng.choices((0.2, 0.35, 0.5, 0.7, 0.9, 1.15, 1.4), (10, 18, 22, 20, 16, 9, 5))[0]
        answered = self.after_working_days(draft.created_at, max(1, round(limit_days * share)))
        if answered <= (draft.updated_at or draft.created_at):
            answered = self.after_working_days(draft.updated_at or draft.created_at, 1)
        if answered > draft.answer_due_at and draft.kind == "to_cao" and rng.random() < 0.7:
            self.extend(draft)  # would be late: the officer asks for more time
        if rng.random() < 0.04:
            return  # stuck: still open, soon overdue
        if answered > now:
            return
        self.answer(draft, answered)

    def forward(self, draft: _Draft, opened: datetime) -> None:
        moment = self.after_working_days(opened, self.rng.randint(1, 3))
        if moment > self.now:
            return
        draft.status, draft.closed_at = "forwarded", moment
        draft.event(moment, "forwarded", note=self.rng.choice(_FORWARD_BODIES))

    def reject(self, draft: _Draft, opened: datetime) -> None:
        moment = self.after_working_days(opened, self.rng.randint(1, 4))
        if moment > self.now:
            return
        draft.status, draft.closed_at = "rejected", moment
        reason = "not_competent" if draft.kind == "khieu_nai" else "duplicate"
        draft.event(
            moment, "rejected", note=_REJECT_LABELS[reason], data={"reason": reason, "note": None}
        )

    def extend(self, draft: _Draft) -> None:
        limit = self.config.deadlines.limit_for("answer", kind=draft.kind, category=draft.category)
        if limit is None or limit.extension_days is None:
            return
        before_due = self.calc.calendar.add_working_days(
            self.calc.local_date(draft.answer_due_at), -3
        )
        moment = self.office_moment(before_due)
        if moment > self.now or moment <= (draft.updated_at or draft.created_at):
            return
        new_due = self.calc.extend(draft.answer_due_at, limit)
        draft.event(
            moment,
            "extension_requested",
            public=False,
            note="Vụ việc phức tạp, cần xác minh thêm tại thực địa",
            data={"new_due": new_due.isoformat(), "decided": True, "approved": True},
        )
        decided = moment + timedelta(hours=self.rng.randint(2, 20))
        local_due = self.calc.local_date(new_due)
        draft.event(
            decided,
            "extended",
            note=f"đến {local_due:%d/%m/%Y}",
            data={"new_due": new_due.isoformat()},
        )
        draft.answer_due_at = draft.due_at = new_due
        draft.extensions += 1

    def answer(self, draft: _Draft, moment: datetime) -> None:
        """Answer sent; then a rating, a reopen (once, after «chưa hài lòng») or, without a
        rating in time, closing as «không đánh giá» — as the case service does."""
        rng = self.rng
        draft.status, draft.answered_at = "answered", moment
        draft.event(
            moment,
            "answered",
            note=rng.choice(_ANSWERS),
            data={"photos": [], "on_time": moment <= draft.answer_due_at},
        )
        rating_end = self.due("rating", moment, draft.kind, draft.category)
        rated_at = moment + timedelta(hours=rng.randint(1, 40))
        weights = (40, 35, 10, 15) if draft.reopened else (46, 38, 7, 9)
        rating = rng.choices(("rat_hai_long", "hai_long", "chua_hai_long", None), weights)[0]
        if rating is None or rated_at > self.now:
            if rating_end <= self.now:
                draft.status, draft.rating, draft.closed_at = "closed", "khong_danh_gia", rating_end
                draft.event(rating_end, "closed", data={"reason": "not_rated"})
            return
        draft.status, draft.rating, draft.closed_at = "closed", rating, rated_at
        draft.event(
            rated_at,
            "rated",
            citizen=True,
            note=_RATING_LABELS[rating],
            data={"rating": rating},
        )
        if rating != "chua_hai_long" or draft.reopened or rng.random() < 0.5:
            return
        reopened_at = rated_at + timedelta(minutes=rng.randint(2, 30))
        if reopened_at > self.now:
            return
        due = self.due("reopen", reopened_at, draft.kind, draft.category)
        draft.status, draft.closed_at = "open", None
        draft.reopened += 1
        draft.answer_due_at = draft.due_at = due
        draft.event(
            reopened_at,
            "reopened",
            citizen=True,
            note=rng.choice(_REOPEN_REASONS),
            data={"new_due": due.isoformat()},
        )
        again = self.after_working_days(reopened_at, rng.randint(1, 6))
        if again <= self.now:
            self.answer(draft, again)


# --------------------------------------------------------------------- writing


def _write(session: Session, config: AppConfig, now: datetime, drafts: Sequence[_Draft]) -> int:
    commune = config.commune
    citizens = (
        session.execute(
            insert(Person).returning(Person.id, sort_by_parameter_order=True),
            [
                {
                    "commune": commune.id,
                    "display_name": f"{DEMO_MARKER} – {name}",
                    "full_name": name,
                    "created_at": now - timedelta(weeks=20),
                }
                for name in _NAMES
            ],
        )
        .scalars()
        .all()
    )

    codes = _codes(session, config, drafts)
    case_rows = []
    for draft, code in zip(drafts, codes, strict=True):
        case_rows.append(
            {
                "commune": commune.id,
                "code": code,
                "kind": draft.kind,
                "category": draft.category,
                "unit": draft.unit,
                "status": draft.status,
                "channel": draft.channel,
                "citizen_id": citizens[draft.citizen],
                "anonymous": draft.anonymous,
                "content": draft.content,
                "village": draft.village,
                "routing_confidence": 0.8,
                "complex": draft.complex,
                "created_at": draft.created_at,
                "due_at": draft.due_at,
                "answer_due_at": draft.answer_due_at,
                "open_due_at": draft.open_due_at,
                "opened_at": draft.opened_at,
                "answered_at": draft.answered_at,
                "closed_at": draft.closed_at,
                "extensions": draft.extensions,
                "reopened": draft.reopened,
                "rating": draft.rating,
                "updated_at": draft.updated_at or draft.created_at,
            }
        )
    case_ids = (
        session.execute(insert(Case).returning(Case.id, sort_by_parameter_order=True), case_rows)
        .scalars()
        .all()
    )

    contacts = [
        {"case_id": case_id, "name": None if d.anonymous else _NAMES[d.citizen], "phone": None}
        for case_id, d in zip(case_ids, drafts, strict=True)
    ]
    session.execute(insert(CaseContact), contacts)
    events = [
        {
            "case_id": case_id,
            "at": at,
            "actor_id": citizens[draft.citizen] if from_citizen else None,
            "kind": kind,
            "public": public,
            "note": note,
            "data": data,
        }
        for case_id, draft in zip(case_ids, drafts, strict=True)
        for at, kind, from_citizen, public, note, data in draft.events
    ]
    session.execute(insert(CaseEvent), events)
    return len(case_ids)


def _codes(session: Session, config: AppConfig, drafts: Sequence[_Draft]) -> list[str]:
    """Tracking codes in order of receipt, continuing the commune's counters."""
    commune = config.commune
    tz = commune.timezone
    years = sorted({d.created_at.astimezone(tz).year for d in drafts})
    last = {
        year: session.scalar(
            select(CodeCounter.last_value).where(
                CodeCounter.commune == commune.id, CodeCounter.year == year
            )
        )
        or 0
        for year in years
    }
    codes = []
    for draft in drafts:
        year = draft.created_at.astimezone(tz).year
        last[year] += 1
        codes.append(format_code(commune.code, year, last[year]))
    dialect = session.get_bind().dialect.name
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    for year, value in last.items():
        statement = upsert(CodeCounter).values(commune=commune.id, year=year, last_value=value)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["commune", "year"], set_={"last_value": value}
            )
        )
    return codes
