"""The case service: the only code that changes a case.

Each change writes, in the caller's transaction, the case row, an event row (the audit log)
and an outbox row for every message the change causes. Nothing is sent from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.messages import OutgoingMessage
from bot.rules.codes import format_code
from bot.rules.deadlines import DeadlineCalculator, Milestone, TimeLimit
from handlers import texts
from storage.notify import queue
from storage.models import Attachment, Case, CaseContact, CaseEvent, ChannelIdentity, CodeCounter

OPEN_STATUSES = ("new", "open", "waiting_citizen")


class DailyLimitReached(Exception):
    pass


@dataclass
class CaseDraft:
    """What the citizen gave, as collected by the intake flow."""

    kind: str
    category: str
    content: str
    channel: str
    attachment_ids: Sequence[int] = ()
    village: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    routing_confidence: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def anonymous(self) -> bool:
        return not self.contact_name


class CaseService:
    def __init__(self, config: AppConfig, deadlines: DeadlineCalculator) -> None:
        self.config = config
        self.deadlines = deadlines

    # ------------------------------------------------------------------ helpers

    def unit_for(self, kind: str, category: str) -> str:
        if kind in ("khieu_nai", "to_cao"):
            return self.config.deadlines.complaint_unit
        return self.config.categories[category].unit

    def limit(self, milestone: Milestone, kind: str, category: str | None) -> TimeLimit | None:
        return self.config.deadlines.limit_for(milestone, kind=kind, category=category)

    def _due(self, milestone: Milestone, start: datetime, kind: str, category: str) -> datetime:
        due = self.deadlines.due_for(
            self.config.deadlines, milestone, start, kind=kind, category=category
        )
        if due is None:
            raise ValueError(f"no time limit configured for {kind}/{milestone}")
        return due

    def cases_today(self, session: Session, person_id: int, now: datetime) -> int:
        local_midnight = self.deadlines.end_of_day(
            self.deadlines.local_date(now) - timedelta(days=1)
        )
        return session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.citizen_id == person_id, Case.created_at > local_midnight)
        ) or 0

    def next_code(self, session: Session, year: int) -> str:
        commune = self.config.commune
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(CodeCounter)
            .values(commune=commune.id, year=year, last_value=1)
            .on_conflict_do_update(
                index_elements=["commune", "year"],
                set_={"last_value": CodeCounter.last_value + 1},
            )
            .returning(CodeCounter.last_value)
        )
        number = session.execute(statement).scalar_one()
        return format_code(commune.code, year, number)

    def add_event(
        self,
        session: Session,
        case: Case,
        kind: str,
        *,
        now: datetime,
        actor_id: int | None,
        public: bool = False,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> CaseEvent:
        event = CaseEvent(
            case_id=case.id,
            at=now,
            actor_id=actor_id,
            kind=kind,
            public=public,
            note=note,
            data=data,
        )
        session.add(event)
        case.updated_at = now
        return event

    # ------------------------------------------------------------------ creation

    def create(
        self,
        session: Session,
        *,
        citizen_id: int,
        reply_to: ChannelIdentity,
        draft: CaseDraft,
        now: datetime,
        reply_options: Sequence[Any] = (),
    ) -> Case:
        """Save a new case with its first event and the confirmation to the citizen."""
        limit = self.config.limits.max_cases_per_person_per_day
        if self.cases_today(session, citizen_id, now) >= limit:
            raise DailyLimitReached
        year = self.deadlines.local_date(now).year
        kind, category = draft.kind, draft.category
        open_due = self._due("open", now, kind, category)
        if kind == "phan_anh_kien_nghi":
            due_at = answer_due = self._due("answer", now, kind, category)
        else:
            # Before acceptance (thụ lý) the acceptance limit is in force; the resolution
            # limit then runs from acceptance, assumed here on the last allowed day.
            due_at = self._due("accept", now, kind, category)
            answer_due = self._due("answer", due_at, kind, category)
        case = Case(
            commune=self.config.commune.id,
            code=self.next_code(session, year),
            kind=kind,
            category=category,
            unit=self.unit_for(kind, category),
            status="new",
            channel=draft.channel,
            citizen_id=citizen_id,
            anonymous=draft.anonymous,
            content=draft.content,
            village=draft.village,
            address=draft.address,
            latitude=draft.latitude,
            longitude=draft.longitude,
            routing_confidence=draft.routing_confidence,
            complex=False,
            created_at=now,
            due_at=due_at,
            answer_due_at=answer_due,
            open_due_at=open_due,
            extensions=0,
            reopened=0,
            updated_at=now,
        )
        session.add(case)
        session.flush()
        session.add(CaseContact(case_id=case.id, name=draft.contact_name, phone=draft.contact_phone))
        if draft.attachment_ids:
            session.execute(
                update(Attachment)
                .where(
                    Attachment.id.in_(list(draft.attachment_ids)),
                    Attachment.person_id == citizen_id,
                    Attachment.case_id.is_(None),
                )
                .values(case_id=case.id)
            )
        self.add_event(
            session,
            case,
            "created",
            now=now,
            actor_id=citizen_id,
            public=True,
            data={"channel": draft.channel, "photos": len(draft.attachment_ids)},
        )
        queue(
            session,
            reply_to,
            OutgoingMessage(text=self.confirmation_text(case), options=tuple(reply_options)),
            purpose="case_created",
            now=now,
            case_id=case.id,
        )
        return case

    def confirmation_text(self, case: Case) -> str:
        tz = self.config.commune.timezone
        if case.kind == "phan_anh_kien_nghi":
            label, milestone = texts.DUE_LABEL_ANSWER, "answer"
        elif case.kind == "khieu_nai":
            label, milestone = texts.DUE_LABEL_ACCEPT_KN, "accept"
        else:
            label, milestone = texts.DUE_LABEL_ACCEPT_TC, "accept"
        limit = self.limit(milestone, case.kind, case.category)  # type: ignore[arg-type]
        return texts.case_received(
            code=case.code,
            unit_name=self.config.unit_name(case.unit),
            due_label=label,
            due_date=texts.local_date(case.due_at, tz),
            limit_text=limit.describe() if limit else "",
            note=texts.complaint_form_note(case.kind),
        )

    # ------------------------------------------------------------------ reading

    def find_by_code(self, session: Session, code: str) -> Case | None:
        return session.scalars(select(Case).where(Case.code == code)).one_or_none()

    def cases_of_citizen(self, session: Session, person_id: int, limit: int = 10) -> list[Case]:
        return list(
            session.scalars(
                select(Case)
                .where(Case.citizen_id == person_id)
                .order_by(Case.created_at.desc(), Case.id.desc())
                .limit(limit)
            )
        )

    def public_history(self, session: Session, case: Case) -> list[CaseEvent]:
        return list(
            session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case.id, CaseEvent.public.is_(True))
                .order_by(CaseEvent.at, CaseEvent.id)
            )
        )

    def attachments_of(self, session: Session, case: Case) -> list[Attachment]:
        return list(
            session.scalars(
                select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)
            )
        )
