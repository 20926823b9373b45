"""Reminders and escalation (docs/deadlines.md, shared/domain/deadlines.md).

Run by the scheduler every minute; does something only in office time on working days.
Each reminder is an outbox row with a unique key, so repeated sweeps, restarts and a second
process never send it twice:

* ``rem:<day>:before:<case>:<due day>`` — N working days before the deadline (on that day);
* ``rem:<day>:due:<case>`` — on the due day;
* ``rem:<day>:overdue:<person>`` — every working day, one digest per officer / unit head of
  the overdue cases they answer for;
* ``rem:<day>:leaders:<person>`` — one digest per leader of cases overdue by ≥ N working days;
* ``esc:<case>:<open due day>`` — a case not taken up in time, escalated to the unit head.

Keys that start with the day let one index range read tell which were already queued today.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.messages import Option, OutgoingMessage
from handlers import texts
from storage import outbox
from storage.cases import OPEN_STATUSES, CaseService
from storage.models import Case, ChannelIdentity, OutboxMessage, ProcessedUpdate
from storage.people import people_with_role, reachable_identities

DIGEST_LINES = 20
SWEEP_LOCK = 0x70616B6E  # "pakn"


@dataclass
class SweepResult:
    ran: bool = False
    queued: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    closed_unrated: int = 0


@dataclass
class _Planned:
    key: str
    person_id: int
    message: OutgoingMessage
    case_id: int | None
    kind: str


class ReminderSweep:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.config = cases.config
        self.calculator = cases.deadlines
        self.calendar = cases.deadlines.calendar

    def run(self, session: Session, now: datetime) -> SweepResult:
        result = SweepResult()
        if not self.cases.windows.is_office_time(now):
            return result
        if session.get_bind().dialect.name == "postgresql":
            # Several processes may sweep: one at a time does the work (the keys would keep
            # a second one from sending twice anyway, this only saves the effort).
            if not session.execute(select(func.pg_try_advisory_xact_lock(SWEEP_LOCK))).scalar():
                return result
        result.ran = True
        today = self.calculator.local_date(now)
        planned = self._plan(session, today, now)
        existing = self._existing_keys(session, today, planned)
        fresh = [p for p in planned if p.key not in existing]
        result.queued = self._insert(session, fresh, now)
        for item in fresh:
            result.by_kind[item.kind] += 1
        result.closed_unrated = self.close_unrated(session, now)
        return result

    # ------------------------------------------------------------------ planning

    def _plan(self, session: Session, today: date, now: datetime) -> list[_Planned]:
        reminders = self.config.reminders
        tz = self.config.commune.timezone
        horizon_day = self.calendar.add_working_days(today, reminders.before_due_working_days)
        end_of_yesterday = self.calculator.end_of_day(today - timedelta(days=1))
        rows = session.execute(
            select(
                Case.id,
                Case.code,
                Case.unit,
                Case.status,
                Case.assigned_officer_id,
                Case.due_at,
                Case.open_due_at,
                Case.created_at,
            ).where(
                Case.status.in_(OPEN_STATUSES),
                or_(
                    Case.due_at <= self.calculator.end_of_day(horizon_day),
                    and_(Case.status == "new", Case.open_due_at <= end_of_yesterday),
                ),
            )
        ).all()

        officers_of: dict[str, list[int]] = {}
        heads_of: dict[str, list[int]] = {}

        def officers(unit: str) -> list[int]:
            if unit not in officers_of:
                officers_of[unit] = self.cases.handlers_of_unit(session, unit)
            return officers_of[unit]

        def heads(unit: str) -> list[int]:
            if unit not in heads_of:
                heads_of[unit] = self.cases.heads_of_unit(session, unit)
            return heads_of[unit]

        planned: list[_Planned] = []
        overdue_by_person: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        for_leaders: list[tuple[int, str, str]] = []
        day = today.isoformat()
        for case_id, code, unit, status, officer_id, due_at, open_due_at, created_at in rows:
            due_day = self.calculator.local_date(due_at)
            responsible = [officer_id] if officer_id else officers(unit)
            view = (Option(f"off:view:{case_id}", texts.OFFICER_OPTIONS["view"]),)
            if today < due_day:
                before_day = self.calendar.add_working_days(
                    due_day, -reminders.before_due_working_days
                )
                if today == before_day:
                    left = self.calendar.working_days_between(today, due_day)
                    message = OutgoingMessage(
                        text=texts.reminder_before_due(code, texts.local_date(due_at, tz), left),
                        options=view,
                    )
                    planned += [
                        _Planned(f"rem:{day}:before:{case_id}:{due_day}:{p}", p, message, case_id, "before")
                        for p in responsible
                    ]
            elif today == due_day:
                message = OutgoingMessage(text=texts.reminder_due_today(code), options=view)
                planned += [
                    _Planned(f"rem:{day}:due:{case_id}:{p}", p, message, case_id, "due")
                    for p in responsible
                ]
            else:
                late = self.calendar.working_days_between(due_day, today)
                line = (late, code, texts.overdue_line(code, self.config.unit_name(unit), late))
                for person_id in dict.fromkeys(responsible + heads(unit)):
                    overdue_by_person[person_id].append(line)
                if late >= reminders.leader_digest_after_overdue_working_days:
                    for_leaders.append(line)
            if status == "new" and self.calculator.local_date(open_due_at) < today:
                open_day = self.calculator.local_date(open_due_at)
                message = OutgoingMessage(
                    text=texts.unopened_escalation(
                        code, self.config.unit_name(unit), texts.local_date(created_at, tz)
                    ),
                    options=view,
                )
                planned += [
                    _Planned(f"esc:{case_id}:{open_day}:{p}", p, message, case_id, "unopened")
                    for p in heads(unit)
                ]

        for person_id, lines in overdue_by_person.items():
            planned.append(
                _Planned(
                    f"rem:{day}:overdue:{person_id}",
                    person_id,
                    OutgoingMessage(
                        text=texts.overdue_digest(*_top(lines)),
                        options=(Option("off:list:0", texts.OFFICER_OPTIONS["list"]),),
                    ),
                    None,
                    "overdue",
                )
            )
        if for_leaders:
            shown, more = _top(for_leaders)
            text = texts.leader_digest(
                len(for_leaders), shown, more, reminders.leader_digest_after_overdue_working_days
            )
            for leader in people_with_role(session, "leader"):
                planned.append(
                    _Planned(
                        f"rem:{day}:leaders:{leader.id}",
                        leader.id,
                        OutgoingMessage(text=text),
                        None,
                        "leaders",
                    )
                )
        return planned

    # ------------------------------------------------------------------ writing

    def _existing_keys(self, session: Session, today: date, planned: list[_Planned]) -> set[str]:
        prefix = f"rem:{today.isoformat()}:"
        keys = set(
            session.scalars(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.dedupe_key >= prefix,
                    OutboxMessage.dedupe_key < prefix[:-1] + ";",
                )
            )
        )
        escalations = [p.key for p in planned if p.key.startswith("esc:")]
        for chunk in _chunks(escalations, 500):
            keys.update(
                session.scalars(
                    select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))
                )
            )
        return {k for k in keys if k}

    def _insert(self, session: Session, planned: list[_Planned], now: datetime) -> int:
        if not planned:
            return 0
        identities: dict[int, ChannelIdentity | None] = {}
        values: list[dict[str, Any]] = []
        for item in planned:
            if item.person_id not in identities:
                found = reachable_identities(session, item.person_id)
                identities[item.person_id] = found[0] if found else None
            identity = identities[item.person_id]
            if identity is None:
                continue
            values.append(
                {
                    "created_at": now,
                    "person_id": item.person_id,
                    "channel": identity.channel,
                    "chat_id": identity.chat_id,
                    "case_id": item.case_id,
                    "purpose": f"reminder_{item.kind}",
                    "payload": outbox.message_to_payload(item.message),
                    "dedupe_key": item.key,
                    "status": outbox.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                }
            )
        if not values:
            return 0
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
        connection = session.connection()
        inserted = 0
        for chunk in _chunks(values, 1000):
            result = connection.execute(statement, chunk)
            # Drivers that batch the rows may not report a count; the keys were filtered
            # above, so only a concurrent sweep could have made any of them conflict.
            inserted += result.rowcount if result.rowcount >= 0 else len(chunk)
        return inserted

    # ------------------------------------------------------------------ closing unrated cases

    def close_unrated(self, session: Session, now: datetime) -> int:
        """Answered cases with no rating within ``deadlines.rating`` are closed unrated."""
        limit = self.config.deadlines.limit_for("rating", kind="phan_anh_kien_nghi")
        if limit is None:
            return 0
        # A case answered on day D may be closed once the rating limit from D has passed;
        # the cut-off below is generous (calendar days) and each case is checked exactly.
        earliest = now - timedelta(days=limit.days)
        candidates = session.scalars(
            select(Case).where(Case.status == "answered", Case.answered_at <= earliest)
        ).all()
        closed = 0
        for case in candidates:
            assert case.answered_at is not None
            if self.calculator.due_at(case.answered_at, limit) < now:
                self.cases.close_unrated(session, case, now=now)
                closed += 1
        return closed


def housekeeping(session: Session, now: datetime) -> dict[str, int]:
    """Forget delivery ids older than a week; nothing else is ever deleted here."""
    old = now - timedelta(days=7)
    deleted = session.query(ProcessedUpdate).filter(ProcessedUpdate.processed_at < old).delete()
    return {"processed_updates": deleted}


def _top(lines: list[tuple[int, str, str]]) -> tuple[list[str], int]:
    ordered = sorted(lines, key=lambda item: (-item[0], item[1]))
    return [text for _late, _code, text in ordered[:DIGEST_LINES]], max(
        len(ordered) - DIGEST_LINES, 0
    )


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
