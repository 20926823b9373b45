"""Deadline policies from config and the Civil Code counting rules."""

from __future__ import annotations

import copy
import random
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.configerror import ConfigError
from bot.rules.deadlines import DeadlineCalculator, DeadlinePolicy, TimeLimit
from bot.rules.workdays import WorkCalendar

CONFIG = Path(__file__).resolve().parents[2] / "config.toml"
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def load_config() -> dict[str, Any]:
    with CONFIG.open("rb") as f:
        return tomllib.load(f)


CFG = load_config()
CATEGORIES = [c["id"] for c in CFG["categories"]]
UNITS = [u["id"] for u in CFG["units"]]


def policy_from(table: dict[str, Any], *, remote_area: bool = False) -> DeadlinePolicy:
    return DeadlinePolicy.from_config(
        table, categories=CATEGORIES, units=UNITS, remote_area=remote_area
    )


@pytest.fixture(scope="module")
def policy() -> DeadlinePolicy:
    return policy_from(CFG["deadlines"], remote_area=CFG["commune"]["remote_area"])


@pytest.fixture(scope="module")
def calc() -> DeadlineCalculator:
    calendar = WorkCalendar.from_config(CFG["holidays"])
    return DeadlineCalculator(calendar, ZoneInfo(CFG["commune"]["timezone"]))


def local(text: str) -> datetime:
    """An aware moment written in local (Vietnam) time."""
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def end_local(day: str) -> datetime:
    """23:59:59 local of ``day`` in UTC, the form every due moment has."""
    return datetime.fromisoformat(f"{day}T23:59:59").replace(tzinfo=VN).astimezone(UTC)


# ---------------------------------------------------------------- TimeLimit


def test_describe() -> None:
    assert TimeLimit(10, "working").describe() == "10 ngày làm việc"
    assert TimeLimit(30, "calendar").describe() == "30 ngày"
    khieu_nai = TimeLimit(30, "calendar", complex_days=45, remote_days=45, remote_complex_days=60)
    assert khieu_nai.describe(complex=True) == "45 ngày"
    assert khieu_nai.describe(complex=True, remote=True) == "60 ngày"
    assert TimeLimit(7, "working", complex_days=10).describe(complex=True) == "10 ngày làm việc"


def test_describe_extension() -> None:
    assert TimeLimit(30, "calendar").describe_extension() is None
    once = TimeLimit(30, "calendar", extension_days=30)
    assert once.describe_extension() == "gia hạn 1 lần, không quá 30 ngày"
    twice = TimeLimit(30, "calendar", extension_days=30, max_extensions=2)
    assert twice.describe_extension() == "gia hạn tối đa 2 lần, mỗi lần không quá 30 ngày"


def test_days_for_variants() -> None:
    limit = TimeLimit(30, "calendar", complex_days=45, remote_days=45, remote_complex_days=60)
    assert limit.days_for() == 30
    assert limit.days_for(complex=True) == 45
    assert limit.days_for(remote=True) == 45
    assert limit.days_for(complex=True, remote=True) == 60
    only_complex = TimeLimit(7, "working", complex_days=10)
    assert only_complex.days_for(remote=True) == 7
    assert only_complex.days_for(complex=True, remote=True) == 10
    assert TimeLimit(5, "working").days_for(complex=True, remote=True) == 5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"days": 0, "unit": "working"},
        {"days": 5, "unit": "weekdays"},
        {"days": 5, "unit": "working", "complex_days": -1},
        {"days": 5, "unit": "working", "extension_days": 0},
        {"days": 5, "unit": "working", "max_extensions": 0},
    ],
)
def test_time_limit_rejects_nonsense(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        TimeLimit(**kwargs)


# ---------------------------------------------------------------- policy from the real config


def test_policy_from_real_config(policy: DeadlinePolicy) -> None:
    assert policy.complaint_unit == "van_phong"
    assert policy.remote_area is False
    pakn = "phan_anh_kien_nghi"
    assert policy.limit_for("open", kind=pakn) == TimeLimit(2, "working")
    assert policy.limit_for("answer", kind=pakn) == TimeLimit(10, "working")
    assert policy.limit_for("accept", kind=pakn) is None
    assert policy.limit_for("forward", kind="to_cao") == TimeLimit(5, "working")
    assert policy.limit_for("reopen", kind="khieu_nai") == TimeLimit(5, "working")
    assert policy.limit_for("rating", kind=pakn, category="moi_truong") == TimeLimit(3, "working")
    assert policy.limit_for("accept", kind="khieu_nai") == TimeLimit(10, "calendar")
    assert policy.limit_for("answer", kind="khieu_nai") == TimeLimit(
        30, "calendar", complex_days=45, remote_days=45, remote_complex_days=60
    )
    assert policy.limit_for("accept", kind="to_cao") == TimeLimit(7, "working", complex_days=10)
    assert policy.limit_for("answer", kind="to_cao") == TimeLimit(
        30, "calendar", extension_days=30, max_extensions=2
    )


def test_limit_for_unknown_kind(policy: DeadlinePolicy) -> None:
    with pytest.raises(ValueError, match="kind"):
        policy.limit_for("answer", kind="gop_y")


def with_overrides() -> dict[str, Any]:
    table: dict[str, Any] = copy.deepcopy(CFG["deadlines"])
    table["categories"] = {
        "giao_thong_ha_tang": {"answer": {"days": 5, "unit": "working"}},
        "dat_dai": {
            "kinds": ["phan_anh_kien_nghi", "khieu_nai"],
            "answer": {"days": 20, "unit": "working"},
            "open": {"days": 1, "unit": "working"},
        },
    }
    table["kinds"]["to_cao"]["forward"] = {"days": 3, "unit": "working"}
    return table


def test_limit_for_precedence() -> None:
    policy = policy_from(with_overrides())
    pakn = "phan_anh_kien_nghi"
    # category override > kind
    assert policy.limit_for("answer", kind=pakn, category="giao_thong_ha_tang") == TimeLimit(
        5, "working"
    )
    assert policy.limit_for("answer", kind=pakn, category="moi_truong") == TimeLimit(10, "working")
    assert policy.limit_for("answer", kind=pakn) == TimeLimit(10, "working")
    # an override without `kinds` leaves khiếu nại and tố cáo alone
    kn_answer = policy.limit_for("answer", kind="khieu_nai", category="giao_thong_ha_tang")
    assert kn_answer is not None and kn_answer.days == 30 and kn_answer.unit == "calendar"
    # ... unless the kind is named
    assert policy.limit_for("answer", kind="khieu_nai", category="dat_dai") == TimeLimit(
        20, "working"
    )
    assert policy.limit_for("answer", kind="to_cao", category="dat_dai") == TimeLimit(
        30, "calendar", extension_days=30, max_extensions=2
    )
    # category override > global, for a global milestone
    assert policy.limit_for("open", kind=pakn, category="dat_dai") == TimeLimit(1, "working")
    # milestone not in the override falls through to kind, then global
    assert policy.limit_for("rating", kind=pakn, category="dat_dai") == TimeLimit(3, "working")
    # kind > global
    assert policy.limit_for("forward", kind="to_cao") == TimeLimit(3, "working")
    assert policy.limit_for("forward", kind="khieu_nai") == TimeLimit(5, "working")
    # a category that no longer exists in config: no override, no error
    assert policy.limit_for("answer", kind=pakn, category="da_xoa") == TimeLimit(10, "working")


def test_remote_area_flag_reaches_due_for(calc: DeadlineCalculator) -> None:
    remote = policy_from(CFG["deadlines"], remote_area=True)
    near = policy_from(CFG["deadlines"], remote_area=False)
    accepted = local("2026-03-02T09:00")
    assert calc.due_for(near, "answer", accepted, kind="khieu_nai") == end_local("2026-04-01")
    assert calc.due_for(remote, "answer", accepted, kind="khieu_nai") == end_local("2026-04-16")
    assert calc.due_for(remote, "answer", accepted, kind="khieu_nai", complex=True) == end_local(
        "2026-05-04"
    )
    assert calc.due_for(near, "accept", accepted, kind="phan_anh_kien_nghi") is None


Mutator = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutator:
    def mutate(table: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = table
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return mutate


def _delete(path: str) -> Mutator:
    def mutate(table: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = table
        for part in parents:
            node = node[part]
        del node[last]

    return mutate


BROKEN: list[tuple[Mutator, str]] = [
    (_delete("complaint_unit"), "deadlines.complaint_unit"),
    (_set("complaint_unit", "phong_tu_phap"), "deadlines.complaint_unit"),
    (_set("complaint_unit", 3), "deadlines.complaint_unit"),
    (_set("kinds.gop_y", {"answer": {"days": 5, "unit": "working"}}), "deadlines.kinds.gop_y"),
    (
        _set("categories.den_duong", {"answer": {"days": 5, "unit": "working"}}),
        "deadlines.categories.den_duong",
    ),
    (_set("kinds.khieu_nai.answer.days", 0), "deadlines.kinds.khieu_nai.answer.days"),
    (_set("kinds.khieu_nai.answer.days", -30), "deadlines.kinds.khieu_nai.answer.days"),
    (_set("kinds.khieu_nai.answer.days", "30"), "deadlines.kinds.khieu_nai.answer.days"),
    (_set("kinds.khieu_nai.answer.days", 30.5), "deadlines.kinds.khieu_nai.answer.days"),
    (_set("kinds.khieu_nai.answer.days", True), "deadlines.kinds.khieu_nai.answer.days"),
    (_set("kinds.khieu_nai.answer.days", 3000), "deadlines.kinds.khieu_nai.answer.days"),
    (_delete("kinds.khieu_nai.answer.days"), "deadlines.kinds.khieu_nai.answer.days"),
    (_set("open.unit", "weekdays"), "deadlines.open.unit"),
    (_set("open.unit", "Working"), "deadlines.open.unit"),
    (_delete("forward.unit"), "deadlines.forward.unit"),
    (_set("open.dayz", 2), "deadlines.open.dayz"),
    (
        _set("kinds.khieu_nai.anwser", {"days": 5, "unit": "working"}),
        "deadlines.kinds.khieu_nai.anwser",
    ),
    (_set("escalate", {"days": 5, "unit": "working"}), "deadlines.escalate"),
    (_set("open", 2), "deadlines.open"),
    (_set("kinds", []), "deadlines.kinds"),
    (_set("kinds.to_cao", "x"), "deadlines.kinds.to_cao"),
    (
        _set("kinds.khieu_nai.answer.complex_days", 20),
        "deadlines.kinds.khieu_nai.answer.complex_days",
    ),
    (_set("kinds.khieu_nai.answer.remote_days", 0), "deadlines.kinds.khieu_nai.answer.remote_days"),
    (
        _set("kinds.khieu_nai.answer.remote_complex_days", 40),
        "deadlines.kinds.khieu_nai.answer.remote_complex_days",
    ),
    (_set("kinds.to_cao.answer.max_extensions", 0), "deadlines.kinds.to_cao.answer.max_extensions"),
    (
        _set("kinds.to_cao.answer.extension_days", -1),
        "deadlines.kinds.to_cao.answer.extension_days",
    ),
    (_set("open.max_extensions", 2), "deadlines.open.max_extensions"),
    (
        _set("categories.giao_thong_ha_tang", {"kinds": ["den_duong"]}),
        "deadlines.categories.giao_thong_ha_tang.kinds[0]",
    ),
    (
        _set("categories.giao_thong_ha_tang", {"kinds": []}),
        "deadlines.categories.giao_thong_ha_tang.kinds",
    ),
    (
        _set("categories.giao_thong_ha_tang", {"answer": {"days": 0, "unit": "working"}}),
        "deadlines.categories.giao_thong_ha_tang.answer.days",
    ),
    (
        _set("categories.giao_thong_ha_tang", {"answr": {"days": 5, "unit": "working"}}),
        "deadlines.categories.giao_thong_ha_tang.answr",
    ),
]


@pytest.mark.parametrize(("mutate", "key"), BROKEN, ids=[key for _, key in BROKEN])
def test_broken_tables_name_the_key(mutate: Mutator, key: str) -> None:
    table = copy.deepcopy(CFG["deadlines"])
    mutate(table)
    with pytest.raises(ConfigError) as info:
        policy_from(table)
    assert info.value.key == key
    assert str(info.value).startswith(f"config.toml: {key}: ")


def test_remote_area_must_be_bool() -> None:
    with pytest.raises(ConfigError) as info:
        DeadlinePolicy.from_config(
            CFG["deadlines"],
            categories=CATEGORIES,
            units=UNITS,
            remote_area="no",  # type: ignore[arg-type]
        )
    assert info.value.key == "commune.remote_area"


# ---------------------------------------------------------------- counting


def test_end_of_day_is_16_59_59_utc(calc: DeadlineCalculator) -> None:
    due = calc.end_of_day(date(2026, 2, 24))
    assert due == datetime(2026, 2, 24, 16, 59, 59, tzinfo=UTC)
    assert due.tzinfo == UTC
    assert due.astimezone(VN).replace(tzinfo=None) == datetime(2026, 2, 24, 23, 59, 59)


def test_local_date_and_naive_input(calc: DeadlineCalculator) -> None:
    assert calc.local_date(datetime(2026, 2, 12, 17, 0, tzinfo=UTC)) == date(2026, 2, 13)
    assert calc.local_date(datetime(2026, 2, 12, 16, 59, tzinfo=UTC)) == date(2026, 2, 12)
    with pytest.raises(ValueError, match="aware"):
        calc.local_date(datetime(2026, 2, 12, 9, 0))


def test_tet_2026_open_deadline(calc: DeadlineCalculator) -> None:
    received = local("2026-02-13T09:15")  # Friday before Tết
    assert calc.due_at(received, TimeLimit(2, "working")) == end_local("2026-02-24")
    assert calc.due_at(received, TimeLimit(2, "working")) == datetime(
        2026, 2, 24, 16, 59, 59, tzinfo=UTC
    )


def test_start_late_at_night_utc_is_already_next_day_locally(calc: DeadlineCalculator) -> None:
    two = TimeLimit(2, "working")
    # 18:30 UTC on Thu 12/2 is 01:30 on Fri 13/2 in Vietnam: counting starts after Friday.
    assert calc.due_at(datetime(2026, 2, 12, 18, 30, tzinfo=UTC), two) == end_local("2026-02-24")
    # 16:30 UTC on 12/2 is still 23:30 on Thursday 12/2 locally.
    assert calc.due_at(datetime(2026, 2, 12, 16, 30, tzinfo=UTC), two) == end_local("2026-02-23")


def test_start_on_a_day_off_counts_from_the_next_working_day(calc: DeadlineCalculator) -> None:
    # Submitted Saturday 14/3/2026: day 1 = Mon 16/3, day 2 = Tue 17/3.
    assert calc.due_at(local("2026-03-14T10:00"), TimeLimit(2, "working")) == end_local(
        "2026-03-17"
    )


def test_calendar_limit_ending_on_sunday_rolls_to_monday(calc: DeadlineCalculator) -> None:
    # 2/1/2026 + 30 days = Sunday 1/2/2026 → Monday 2/2.
    assert calc.due_at(local("2026-01-02T08:00"), TimeLimit(30, "calendar")) == end_local(
        "2026-02-02"
    )


def test_calendar_limit_ending_on_holidays_rolls_past_them(calc: DeadlineCalculator) -> None:
    accept = TimeLimit(10, "calendar")
    # 22/8/2026 + 10 = Tue 1/9 (Quốc khánh), 2/9 too → Thu 3/9.
    assert calc.due_at(local("2026-08-22T10:00"), accept) == end_local("2026-09-03")
    # 15/4/2026 + 10 = Sat 25/4; Sun 26/4 Giỗ Tổ; Mon 27/4 nghỉ bù → Tue 28/4.
    assert calc.due_at(local("2026-04-15T10:00"), accept) == end_local("2026-04-28")
    # 6/3/2026 + 10 = Mon 16/3 (a working day: no change); 4/3 + 10 = Sat 14/3 → Mon 16/3.
    assert calc.due_at(local("2026-03-06T10:00"), accept) == end_local("2026-03-16")
    assert calc.due_at(local("2026-03-04T10:00"), accept) == end_local("2026-03-16")
    # 24/11 (Tuesday) as the last day: 14/11 + 10 → Wed 25/11.
    assert calc.due_at(local("2026-11-14T10:00"), accept) == end_local("2026-11-25")


def test_khieu_nai_answer_variants(calc: DeadlineCalculator, policy: DeadlinePolicy) -> None:
    limit = policy.limit_for("answer", kind="khieu_nai")
    assert limit is not None
    accepted = local("2026-03-02T14:00")  # Monday
    assert calc.due_at(accepted, limit) == end_local("2026-04-01")  # 30 days
    assert calc.due_at(accepted, limit, complex=True) == end_local("2026-04-16")  # 45
    assert calc.due_at(accepted, limit, remote=True) == end_local("2026-04-16")  # 45
    # 60 days = Fri 1/5 (holiday), weekend → Mon 4/5
    assert calc.due_at(accepted, limit, complex=True, remote=True) == end_local("2026-05-04")


def test_to_cao_accept_complex(calc: DeadlineCalculator, policy: DeadlinePolicy) -> None:
    limit = policy.limit_for("accept", kind="to_cao")
    assert limit is not None
    received = local("2027-02-01T09:00")  # Monday before Tết 2027 (4–10/2)
    # 7 working days: 2, 3, 11, 12, 15, 16, 17 Feb; 10: … 18, 19, 22 Feb.
    assert calc.due_at(received, limit) == end_local("2027-02-17")
    assert calc.due_at(received, limit, complex=True) == end_local("2027-02-22")


def test_to_cao_extensions(calc: DeadlineCalculator, policy: DeadlinePolicy) -> None:
    limit = policy.limit_for("answer", kind="to_cao")
    assert limit is not None and limit.max_extensions == 2
    due = calc.due_at(local("2026-10-01T09:00"), limit)  # +30 = Sat 31/10 → Mon 2/11
    assert due == end_local("2026-11-02")
    first = calc.extend(due, limit)
    assert first == end_local("2026-12-02")
    # +30 from 2/12 = Fri 1/1/2027 (Tết Dương lịch), weekend → Mon 4/1/2027
    second = calc.extend(first, limit, previous_extensions=1)
    assert second == end_local("2027-01-04")
    with pytest.raises(ValueError, match="at most 2"):
        calc.extend(second, limit, previous_extensions=2)


def test_extend_without_extension_days(calc: DeadlineCalculator, policy: DeadlinePolicy) -> None:
    limit = policy.limit_for("answer", kind="khieu_nai")
    assert limit is not None
    with pytest.raises(ValueError, match="cannot be extended"):
        calc.extend(end_local("2026-04-01"), limit)


def test_working_day_extension_counts_working_days(calc: DeadlineCalculator) -> None:
    limit = TimeLimit(10, "working", extension_days=10)
    due = end_local("2026-02-13")
    assert calc.extend(due, limit) == end_local("2026-03-06")  # 23/2 … 6/3


def test_overrides_change_due_dates() -> None:
    tz = VN
    base = DeadlineCalculator(WorkCalendar.from_config({}), tz)
    longer_tet = DeadlineCalculator(
        WorkCalendar.from_config({"extra_days_off": ["2026-02-23", "2026-02-24"]}), tz
    )
    received = local("2026-02-13T09:00")
    assert base.due_at(received, TimeLimit(2, "working")) == end_local("2026-02-24")
    assert longer_tet.due_at(received, TimeLimit(2, "working")) == end_local("2026-02-26")
    # a calendar limit landing on an extra day off rolls forward too
    assert longer_tet.due_at(local("2026-02-13T09:00"), TimeLimit(10, "calendar")) == end_local(
        "2026-02-25"
    )
    swapped = DeadlineCalculator(
        WorkCalendar.from_config({"extra_working_days": ["2026-03-07"]}), tz
    )
    assert base.due_at(local("2026-03-06T09:00"), TimeLimit(1, "working")) == end_local(
        "2026-03-09"
    )
    assert swapped.due_at(local("2026-03-06T09:00"), TimeLimit(1, "working")) == end_local(
        "2026-03-07"
    )


# ---------------------------------------------------------------- lateness and statistics


def test_working_days_late(calc: DeadlineCalculator) -> None:
    due = end_local("2026-02-24")  # Tuesday
    assert calc.working_days_late(due, local("2026-02-24T23:59")) == 0
    assert calc.working_days_late(due, local("2026-02-20T10:00")) == 0  # early
    assert calc.working_days_late(due, local("2026-02-25T00:05")) == 1
    assert calc.working_days_late(due, local("2026-02-28T10:00")) == 3  # Sat after 25–27
    assert calc.working_days_late(due, local("2026-03-02T10:00")) == 4
    friday = end_local("2026-08-28")
    assert calc.is_overdue(friday, local("2026-08-29T08:00"))
    assert calc.working_days_late(friday, local("2026-09-02T08:00")) == 0  # 31/8–2/9 off
    assert calc.working_days_late(friday, local("2026-09-03T08:00")) == 1
    assert not calc.is_overdue(friday, local("2026-08-28T23:59:59"))


def test_handling_working_days(calc: DeadlineCalculator) -> None:
    received = local("2026-02-13T16:00")
    assert calc.handling_working_days(received, local("2026-02-13T17:00")) == 0
    assert calc.handling_working_days(received, local("2026-02-23T08:00")) == 1
    assert calc.handling_working_days(received, local("2026-02-24T10:00")) == 2
    # received on a Saturday, answered Monday: 1 working day
    assert calc.handling_working_days(local("2026-03-07T10:00"), local("2026-03-09T09:00")) == 1
    # bad data (answer before receipt) never gives a negative figure
    assert calc.handling_working_days(local("2026-03-09T10:00"), local("2026-03-02T09:00")) == 0


def test_100k_due_dates_within_a_second(calc: DeadlineCalculator, policy: DeadlinePolicy) -> None:
    rng = random.Random(3)
    limits = [
        policy.limit_for("open", kind="phan_anh_kien_nghi"),
        policy.limit_for("answer", kind="phan_anh_kien_nghi"),
        policy.limit_for("answer", kind="khieu_nai"),
    ]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    starts = [base + timedelta(minutes=rng.randrange(0, 600_000)) for _ in range(100_000)]
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    t0 = time.perf_counter()
    late = 0
    for i, start in enumerate(starts):
        limit = limits[i % 3]
        assert limit is not None
        due = calc.due_at(start, limit)
        late += calc.working_days_late(due, now) > 0
    elapsed = time.perf_counter() - t0
    assert late > 0
    assert elapsed < 2.0, f"100k due_at + working_days_late took {elapsed:.3f}s"
