"""Reminders and escalation (docs/deadlines.md, shared/domain/deadlines.md).

Run by the scheduler every minute; does something only in office time on working days.
Each reminder is an outbox row with a unique key, so repeated sweeps, restarts and a second
process never send it twice:

* ``rem:<day>:before:<case>:<due day>`` — N working days before the deadline (on that day);
* ``rem:<day>:due:<case>`` — on the due day;
* ``rem:<day>:overdue:<person>`` — every working day, one digest per officer / unit head of
  the overdue cases they answer for;
* ``rem:<day>:leaders:<person>`` — one digest per leader of cases overdue by ≥ N working days;
* ``rem:<day>:unopened:<person>`` — to each unit head, the cases not taken up in time that
  were not escalated before (``Case.escalated_at`` is set in the same transaction, so each
  case is escalated once).

Keys that start with the day let one index range read tell which were already queued today.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, func, select, update
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
        # Several processes may sweep on PostgreSQL: one at a time does the work (the keys
        # would keep a second one from sending twice anyway; this only saves the effort).
        if (
            session.get_bind().dialect.name == "postgresql"
            and not session.execute(select(func.pg_try_advisory_xact_lock(SWEEP_LOCK))).scalar()
        ):
            return result
        result.ran = True
        today = self.calculator.local_date(now)
        day = today.isoformat()
        planned = (
            self._plan_upcoming(session, today, day)
            + self._plan_overdue(session, today, day)
            + self._plan_unopened(session, today, day, now)
        )
        existing = self._existing_keys(session, today)
        fresh = [p for p in planned if p.key not in existing]
        result.queued = self._insert(session, fresh, now)
        for item in fresh:
            result.by_kind[item.kind] += 1
        result.closed_unrated = self.close_unrated(session, now)
        return result

    # ------------------------------------------------------------------ planning

    def _staff(
        self, session: Session
    ) -> tuple[Callable[[str], list[int]], Callable[[str], list[int]]]:
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

        return officers, heads

    def _plan_upcoming(self, session: Session, today: date, day: str) -> list[_Planned]:
        """Per case: N working days before the deadline, and on the due day."""
        before = self.config.reminders.before_due_working_days
        tz = self.config.commune.timezone
        horizon_day = self.calendar.add_working_days(today, before)
        rows = session.execute(
            select(Case.id, Case.code, Case.unit, Case.assigned_officer_id, Case.due_at).where(
                Case.status.in_(OPEN_STATUSES),
                Case.due_at > self.calculator.end_of_day(today - timedelta(days=1)),
                Case.due_at <= self.calculator.end_of_day(horizon_day),
            )
        ).all()
        officers, _heads = self._staff(session)
        planned: list[_Planned] = []
        for case_id, code, unit, officer_id, due_at in rows:
            due_day = self.calculator.local_date(due_at)
            responsible = [officer_id] if officer_id else officers(unit)
            view = (Option(f"off:view:{case_id}", texts.OFFICER_OPTIONS["view"]),)
            if due_day == today:
                message = OutgoingMessage(text=texts.reminder_due_today(code), options=view)
                planned += [
                    _Planned(f"rem:{day}:due:{case_id}:{p}", p, message, case_id, "due")
                    for p in responsible
                ]
            elif self.calendar.add_working_days(due_day, -before) == today:
                left = self.calendar.working_days_between(today, due_day)
                message = OutgoingMessage(
                    text=texts.reminder_before_due(code, texts.local_date(due_at, tz), left),
                    options=view,
                )
                planned += [
                    _Planned(
                        f"rem:{day}:before:{case_id}:{due_day}:{p}", p, message, case_id, "before"
                    )
                    for p in responsible
                ]
        return planned

    def _worst(self, session: Session, condition: Any, *, per: Sequence[Any]) -> list[Row[Any]]:
        """For each group of ``per``, the count and the DIGEST_LINES most overdue cases
        matching ``condition`` — counted and ranked in SQL, however many cases there are."""
        ranked = (
            select(
                Case.code,
                Case.unit,
                Case.due_at,
                *per,
                func.row_number()
                .over(partition_by=list(per), order_by=(Case.due_at, Case.id))
                .label("rank"),
                func.count().over(partition_by=list(per)).label("total"),
            )
            .where(condition)
            .subquery()
        )
        return list(session.execute(select(ranked).where(ranked.c.rank <= DIGEST_LINES)).all())

    def _plan_overdue(self, session: Session, today: date, day: str) -> list[_Planned]:
        """Daily digests: to each officer and unit head, and from N working days late to
        each leader."""
        overdue = and_(
            Case.status.in_(OPEN_STATUSES),
            Case.due_at <= self.calculator.end_of_day(today - timedelta(days=1)),
        )
        officers, heads = self._staff(session)
        lines_of: dict[int, list[tuple[datetime, str, str]]] = defaultdict(list)
        totals: dict[int, int] = defaultdict(int)
        for row in self._worst(session, overdue, per=(Case.unit, Case.assigned_officer_id)):
            line = self._overdue_line(row, today)
            recipients = (
                [row.assigned_officer_id] if row.assigned_officer_id else officers(row.unit)
            )
            for person_id in dict.fromkeys(recipients + heads(row.unit)):
                lines_of[person_id].append(line)
        for unit, officer_id, count in session.execute(
            select(Case.unit, Case.assigned_officer_id, func.count())
            .where(overdue)
            .group_by(Case.unit, Case.assigned_officer_id)
        ):
            recipients = [officer_id] if officer_id else officers(unit)
            for person_id in dict.fromkeys(recipients + heads(unit)):
                totals[person_id] += count
        planned = [
            self._digest(day, "overdue", person_id, texts.overdue_digest, lines, totals[person_id])
            for person_id, lines in lines_of.items()
        ]
        threshold = self.config.reminders.leader_digest_after_overdue_working_days
        late_day = self.calendar.add_working_days(today, -threshold)
        very_late = and_(
            Case.status.in_(OPEN_STATUSES), Case.due_at <= self.calculator.end_of_day(late_day)
        )
        rows = self._worst(session, very_late, per=())
        if rows:
            lines = [self._overdue_line(row, today) for row in rows]
            shown = [text for _due, _code, text in sorted(lines)]
            total = int(rows[0].total)
            text = texts.leader_digest(total, shown, total - len(shown), threshold)
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

    def _plan_unopened(
        self, session: Session, today: date, day: str, now: datetime
    ) -> list[_Planned]:
        """Cases not taken up in time, to the unit heads, once per case."""
        condition = and_(
            Case.status == "new",
            Case.open_due_at <= self.calculator.end_of_day(today - timedelta(days=1)),
            Case.escalated_at.is_(None),
        )
        _officers, heads = self._staff(session)
        lines_of: dict[int, list[tuple[datetime, str, str]]] = defaultdict(list)
        totals: dict[int, int] = defaultdict(int)
        for row in self._worst(session, condition, per=(Case.unit,)):
            line = (
                row.due_at,
                row.code,
                texts.unopened_line(row.code, self.config.unit_name(row.unit)),
            )
            for head in heads(row.unit):
                lines_of[head].append(line)
                if row.rank == 1:
                    totals[head] += int(row.total)
        if lines_of:
            session.execute(update(Case).where(condition).values(escalated_at=now))
        return [
            self._digest(day, "unopened", head, texts.unopened_escalation_for, lines, totals[head])
            for head, lines in lines_of.items()
        ]

    def _overdue_line(self, row: Row[Any], today: date) -> tuple[datetime, str, str]:
        late = self.calendar.working_days_between(self.calculator.local_date(row.due_at), today)
        return (
            row.due_at,
            row.code,
            texts.overdue_line(row.code, self.config.unit_name(row.unit), late),
        )

    def _digest(
        self,
        day: str,
        kind: str,
        person_id: int,
        render: Callable[[int, list[str], int], str],
        lines: list[tuple[datetime, str, str]],
        total: int,
    ) -> _Planned:
        shown = [text for _due, _code, text in sorted(lines)[:DIGEST_LINES]]
        return _Planned(
            f"rem:{day}:{kind}:{person_id}",
            person_id,
            OutgoingMessage(
                text=render(total, shown, max(total - len(shown), 0)),
                options=(Option("off:list:0", texts.OFFICER_OPTIONS["list"]),),
            ),
            None,
            kind,
        )

    # ------------------------------------------------------------------ writing

    def _existing_keys(self, session: Session, today: date) -> set[str]:
        prefix = f"rem:{today.isoformat()}:"
        keys = session.scalars(
            select(OutboxMessage.dedupe_key).where(
                OutboxMessage.dedupe_key >= prefix,
                OutboxMessage.dedupe_key < prefix[:-1] + ";",
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


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
