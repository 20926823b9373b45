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
from bot.messages import Option, OutgoingMessage
from bot.rules.codes import format_code
from bot.rules.deadlines import DeadlineCalculator, Milestone, TimeLimit
from bot.rules.delivery_windows import DeliveryWindows
from handlers import texts
from storage.models import (
    Attachment,
    Case,
    CaseContact,
    CaseEvent,
    ChannelIdentity,
    CodeCounter,
    Person,
)
from storage.notify import deliver, queue
from storage.outbox import ClaimedMessage
from storage.people import people_with_role

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


class CaseActionError(Exception):
    """An action that does not fit the case's state; ``message`` is for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CaseService:
    def __init__(
        self, config: AppConfig, deadlines: DeadlineCalculator, windows: DeliveryWindows
    ) -> None:
        self.config = config
        self.deadlines = deadlines
        self.windows = windows

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
        return (
            session.scalar(
                select(func.count())
                .select_from(Case)
                .where(Case.citizen_id == person_id, Case.created_at > local_midnight)
            )
            or 0
        )

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
        session.add(
            CaseContact(case_id=case.id, name=draft.contact_name, phone=draft.contact_phone)
        )
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
        self.notify_unit_of_new_case(session, case, now=now)
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

    # ------------------------------------------------------------------ who sees what

    def sender_text(self, session: Session, case: Case) -> str:
        """How the person who filed is shown to officers: never for a tố cáo."""
        if case.kind == "to_cao":
            return texts.CONFIDENTIAL_SENDER
        contact = session.get(CaseContact, case.id)
        if contact is None or not contact.name:
            return texts.ANONYMOUS_SENDER
        return f"{contact.name} – {contact.phone or ''}".strip(" –")

    def handlers_of_unit(self, session: Session, unit: str) -> list[int]:
        """Who is told about a new case of ``unit``: its officers, else its heads, else the
        leaders (a case must never land with nobody)."""
        for role, role_unit in (("officer", unit), ("head", unit), ("leader", None)):
            people = people_with_role(session, role, role_unit)
            if people:
                return [person.id for person in people]
        return []

    def heads_of_unit(self, session: Session, unit: str) -> list[int]:
        heads = people_with_role(session, "head", unit)
        if heads:
            return [p.id for p in heads]
        return [p.id for p in people_with_role(session, "leader")]

    def can_handle(self, roles: Sequence[Any], case: Case) -> bool:
        """Officers and heads of the case's unit, and leaders."""
        return any(
            r.role == "leader" or (r.role in ("officer", "head") and r.unit == case.unit)
            for r in roles
        )

    def photo_ids(self, session: Session, case: Case) -> list[int]:
        return [a.id for a in self.attachments_of(session, case)]

    # ------------------------------------------------------------------ notifications

    def notify_staff(
        self,
        session: Session,
        person_ids: Sequence[int],
        message: OutgoingMessage,
        *,
        purpose: str,
        case: Case | None,
        now: datetime,
        dedupe_key: str | None = None,
    ) -> list[int]:
        """Queue for officers/heads/leaders, held back outside office time."""
        not_before = self.windows.staff_not_before(now)
        queued = []
        for person_id in dict.fromkeys(person_ids):
            key = f"{dedupe_key}:{person_id}" if dedupe_key else None
            message_id = deliver(
                session,
                person_id,
                message,
                purpose=purpose,
                now=now,
                case_id=case.id if case else None,
                dedupe_key=key,
                not_before=not_before,
            )
            if message_id is not None:
                queued.append(message_id)
        return queued

    def notify_citizen(
        self,
        session: Session,
        case: Case,
        message: OutgoingMessage,
        *,
        purpose: str,
        now: datetime,
    ) -> int | None:
        """Queue for the person who filed the case, never at night."""
        return deliver(
            session,
            case.citizen_id,
            message,
            purpose=purpose,
            now=now,
            case_id=case.id,
            not_before=self.windows.citizen_not_before(now),
        )

    def case_actions(self, case: Case) -> list[Option]:
        """What an officer can do next with a case, as options."""
        labels = texts.OFFICER_OPTIONS
        if case.status == "new":
            names = ["open", "view", "transfer", "forward", "reject"]
        elif case.status in ("open", "waiting_citizen"):
            names = ["answer", "ask", "transfer", "forward", "extend", "reject"]
        else:
            names = ["view"]
        return [Option(f"off:{name}:{case.id}", labels[name]) for name in names]

    def notify_unit_of_new_case(self, session: Session, case: Case, *, now: datetime) -> None:
        tz = self.config.commune.timezone
        photos = self.photo_ids(session, case)
        message = OutgoingMessage(
            text=texts.new_case_notice(
                code=case.code,
                kind_label=texts.KIND_LABELS.get(case.kind, case.kind),
                category_label=self.config.category_name(case.category),
                unit_name=self.config.unit_name(case.unit),
                content=case.content,
                place=texts.place_text(case.village, case.address, case.latitude, case.longitude),
                sender=self.sender_text(session, case),
                open_due=texts.local_date(case.open_due_at, tz),
                answer_due=texts.local_date(case.due_at, tz),
                photos=len(photos),
            ),
            options=(
                Option(f"off:open:{case.id}", texts.OFFICER_OPTIONS["open"]),
                Option(f"off:view:{case.id}", texts.OFFICER_OPTIONS["view"]),
            ),
            attachment_ids=tuple(photos),
        )
        self.notify_staff(
            session,
            self.handlers_of_unit(session, case.unit),
            message,
            purpose="case_assigned",
            case=case,
            now=now,
        )

    # ------------------------------------------------------------------ officer actions

    def _require_open(self, case: Case) -> None:
        if case.status not in OPEN_STATUSES:
            raise CaseActionError(texts.CASE_CLOSED_FOR_ACTION)

    def open_case(self, session: Session, case: Case, officer: Person, *, now: datetime) -> None:
        """Tiếp nhận: the officer takes the case up."""
        if case.status != "new":
            raise CaseActionError(texts.CASE_CLOSED_FOR_ACTION)
        case.status = "open"
        case.opened_at = now
        case.assigned_officer_id = officer.id
        self.add_event(session, case, "opened", now=now, actor_id=officer.id, public=True)
        tz = self.config.commune.timezone
        self.notify_citizen(
            session,
            case,
            OutgoingMessage(
                text=texts.case_opened_for_citizen(
                    case.code, self.config.unit_name(case.unit), texts.local_date(case.due_at, tz)
                )
            ),
            purpose="case_opened",
            now=now,
        )

    def _take_up(self, case: Case, officer: Person, now: datetime) -> None:
        """Acting on a case that was not opened yet opens it implicitly."""
        if case.status == "new":
            case.status = "open"
            case.opened_at = now
        if case.assigned_officer_id is None:
            case.assigned_officer_id = officer.id

    def ask_citizen(
        self,
        session: Session,
        case: Case,
        officer: Person,
        question: str,
        *,
        now: datetime,
        attachment_ids: Sequence[int] = (),
    ) -> None:
        self._require_open(case)
        self._take_up(case, officer, now)
        self._attach(session, case, attachment_ids)
        case.status = "waiting_citizen"
        self.add_event(
            session,
            case,
            "info_requested",
            now=now,
            actor_id=officer.id,
            public=True,
            data={"question": question, "photos": list(attachment_ids)},
        )
        self.notify_citizen(
            session,
            case,
            OutgoingMessage(
                text=texts.question_for_citizen(
                    case.code, self.config.unit_name(case.unit), question
                ),
                options=(Option(f"reply:{case.id}", texts.REPLY_TO_OFFICER),),
                attachment_ids=tuple(attachment_ids),
            ),
            purpose="info_requested",
            now=now,
        )

    def citizen_reply(
        self,
        session: Session,
        case: Case,
        citizen: Person,
        text: str | None,
        *,
        now: datetime,
        attachment_ids: Sequence[int] = (),
    ) -> None:
        if case.citizen_id != citizen.id:
            raise CaseActionError(texts.case_not_found(case.code))
        self._attach(session, case, attachment_ids)
        paused_days = 0
        if case.status == "waiting_citizen":
            case.status = "open"
            paused_days = self._pause_for_waiting(session, case, now)
        self.add_event(
            session,
            case,
            "citizen_replied",
            now=now,
            actor_id=citizen.id,
            public=True,
            note=text,
            data={"photos": list(attachment_ids), "paused_working_days": paused_days},
        )
        recipients = (
            [case.assigned_officer_id]
            if case.assigned_officer_id
            else self.handlers_of_unit(session, case.unit)
        )
        self.notify_staff(
            session,
            recipients,
            OutgoingMessage(
                text=texts.citizen_replied_notice(case.code, text, len(attachment_ids)),
                options=tuple(self.case_actions(case)[:2]),
                attachment_ids=tuple(attachment_ids),
            ),
            purpose="citizen_replied",
            case=case,
            now=now,
        )

    def _pause_for_waiting(self, session: Session, case: Case, now: datetime) -> int:
        """With ``deadlines.pause_while_waiting``, move the deadlines by the working days the
        officer waited for the citizen; returns how many."""
        if not self.config.deadlines.pause_while_waiting:
            return 0
        asked = session.scalars(
            select(CaseEvent.at)
            .where(CaseEvent.case_id == case.id, CaseEvent.kind == "info_requested")
            .order_by(CaseEvent.at.desc())
            .limit(1)
        ).first()
        if asked is None:
            return 0
        calendar = self.deadlines.calendar
        waited = calendar.working_days_between(
            self.deadlines.local_date(asked), self.deadlines.local_date(now)
        )
        if waited <= 0:
            return 0
        for name in ("due_at", "answer_due_at"):
            due = getattr(case, name)
            moved = calendar.add_working_days(self.deadlines.local_date(due), waited)
            setattr(case, name, self.deadlines.end_of_day(moved))
        return waited

    def answer(
        self,
        session: Session,
        case: Case,
        officer: Person,
        text: str,
        *,
        now: datetime,
        attachment_ids: Sequence[int] = (),
    ) -> None:
        self._require_open(case)
        self._take_up(case, officer, now)
        self._attach(session, case, attachment_ids)
        case.status = "answered"
        case.answered_at = now
        self.add_event(
            session,
            case,
            "answered",
            now=now,
            actor_id=officer.id,
            public=True,
            note=text,
            data={"photos": list(attachment_ids), "on_time": now <= case.answer_due_at},
        )
        self.notify_citizen(
            session,
            case,
            OutgoingMessage(
                text=texts.answer_for_citizen(case.code, self.config.unit_name(case.unit), text)
                + "\n\n"
                + texts.RATING_QUESTION,
                options=tuple(
                    Option(f"rate:{case.id}:{value}", label)
                    for value, label in texts.RATING_LABELS.items()
                ),
                attachment_ids=tuple(attachment_ids),
            ),
            purpose="answered",
            now=now,
        )

    def transfer(
        self,
        session: Session,
        case: Case,
        officer: Person,
        unit: str,
        reason: str,
        *,
        now: datetime,
    ) -> None:
        self._require_open(case)
        if unit not in self.config.units or unit == case.unit:
            raise CaseActionError(texts.CHOOSE_FROM_OPTIONS)
        previous = case.unit
        case.unit = unit
        case.status = "new"
        case.assigned_officer_id = None
        case.opened_at = None
        unit_name = self.config.unit_name(unit)
        self.add_event(
            session,
            case,
            "transferred",
            now=now,
            actor_id=officer.id,
            public=True,
            note=unit_name,
            data={"from": previous, "to": unit, "reason": reason},
        )
        self.notify_citizen(
            session,
            case,
            OutgoingMessage(text=texts.transferred_notice_for_citizen(case.code, unit_name)),
            purpose="transferred",
            now=now,
        )
        self.notify_unit_of_new_case(session, case, now=now)

    def forward(
        self, session: Session, case: Case, officer: Person, body: str, *, now: datetime
    ) -> None:
        self._require_open(case)
        self._take_up(case, officer, now)
        case.status = "forwarded"
        case.closed_at = now
        self.add_event(
            session, case, "forwarded", now=now, actor_id=officer.id, public=True, note=body
        )
        self.notify_citizen(
            session,
            case,
            OutgoingMessage(text=texts.forwarded_for_citizen(case.code, body)),
            purpose="forwarded",
            now=now,
        )

    def reject(
        self,
        session: Session,
        case: Case,
        officer: Person,
        reason: str,
        note: str | None,
        *,
        now: datetime,
    ) -> None:
        self._require_open(case)
        if reason not in texts.REJECT_REASONS:
            raise CaseActionError(texts.CHOOSE_FROM_OPTIONS)
        label = texts.REJECT_REASONS[reason]
        case.status = "rejected"
        case.closed_at = now
        if case.assigned_officer_id is None:
            case.assigned_officer_id = officer.id
        self.add_event(
            session,
            case,
            "rejected",
            now=now,
            actor_id=officer.id,
            public=True,
            note=label,
            data={"reason": reason, "note": note},
        )
        self.notify_citizen(
            session,
            case,
            OutgoingMessage(text=texts.rejected_for_citizen(case.code, label, note)),
            purpose="rejected",
            now=now,
        )

    # ------------------------------------------------------------------ extensions

    def extension_limit(self, case: Case) -> TimeLimit | None:
        return self.limit("answer", case.kind, case.category)

    def latest_extension(self, case: Case) -> datetime | None:
        """The furthest due date an extension may give, or None when none is allowed."""
        limit = self.extension_limit(case)
        if limit is None:
            return None
        if limit.extension_days is None:
            # Limits without a legal extension rule: at most one more period of the limit.
            limit = TimeLimit(days=limit.days, unit=limit.unit, extension_days=limit.days)
        if case.extensions >= limit.max_extensions:
            return None
        return self.deadlines.extend(case.due_at, limit)

    def request_extension(
        self,
        session: Session,
        case: Case,
        officer: Person,
        reason: str,
        new_due: datetime,
        *,
        now: datetime,
    ) -> CaseEvent:
        self._require_open(case)
        latest = self.latest_extension(case)
        if latest is None:
            raise CaseActionError(texts.EXTENSION_NOT_ALLOWED)
        tz = self.config.commune.timezone
        if new_due <= case.due_at:
            raise CaseActionError(texts.EXTENSION_NOT_AFTER)
        if new_due > latest:
            raise CaseActionError(texts.extension_too_far(texts.local_date(latest, tz)))
        self._take_up(case, officer, now)
        event = self.add_event(
            session,
            case,
            "extension_requested",
            now=now,
            actor_id=officer.id,
            note=reason,
            data={"new_due": new_due.isoformat(), "decided": False},
        )
        session.flush()
        approvers = [p.id for p in people_with_role(session, "leader")]
        if self.config.roles.head_approves_extensions:
            approvers += [p.id for p in people_with_role(session, "head", case.unit)]
        self.notify_staff(
            session,
            approvers,
            OutgoingMessage(
                text=texts.extension_request_notice(
                    case.code,
                    self.config.unit_name(case.unit),
                    texts.local_date(case.due_at, tz),
                    texts.local_date(new_due, tz),
                    reason,
                ),
                options=(
                    Option(f"ext:approve:{event.id}", texts.APPROVE),
                    Option(f"ext:refuse:{event.id}", texts.REFUSE),
                ),
            ),
            purpose="extension_requested",
            case=case,
            now=now,
        )
        return event

    def can_approve_extension(self, roles: Sequence[Any], case: Case) -> bool:
        return any(
            r.role == "leader"
            or (
                self.config.roles.head_approves_extensions
                and r.role == "head"
                and r.unit == case.unit
            )
            for r in roles
        )

    def decide_extension(
        self, session: Session, event: CaseEvent, approver: Person, approve: bool, *, now: datetime
    ) -> Case:
        data = dict(event.data or {})
        if event.kind != "extension_requested" or data.get("decided"):
            raise CaseActionError(texts.EXTENSION_ALREADY_DECIDED)
        case = session.get_one(Case, event.case_id)
        data["decided"] = True
        data["approved"] = approve
        event.data = data
        tz = self.config.commune.timezone
        new_due = datetime.fromisoformat(data["new_due"])
        if approve:
            self._require_open(case)
            case.due_at = new_due
            case.answer_due_at = new_due
            case.extensions += 1
            self.add_event(
                session,
                case,
                "extended",
                now=now,
                actor_id=approver.id,
                public=True,
                note=f"đến {texts.local_date(new_due, tz)}",
                data={"request": event.id, "new_due": new_due.isoformat()},
            )
            self.notify_citizen(
                session,
                case,
                OutgoingMessage(
                    text=texts.extension_approved_for_citizen(
                        case.code, texts.local_date(new_due, tz)
                    )
                ),
                purpose="extended",
                now=now,
            )
        else:
            self.add_event(
                session,
                case,
                "extension_refused",
                now=now,
                actor_id=approver.id,
                data={"request": event.id},
            )
        if event.actor_id is not None:
            self.notify_staff(
                session,
                [event.actor_id],
                OutgoingMessage(
                    text=texts.extension_decided_for_officer(
                        case.code, approve, texts.local_date(case.due_at, tz)
                    )
                ),
                purpose="extension_decided",
                case=case,
                now=now,
            )
        return case

    # ------------------------------------------------------------------ whistleblowers

    def can_reveal(self, roles: Sequence[Any]) -> bool:
        allowed = set(self.config.roles.reveal_whistleblower)
        return any(r.role in allowed for r in roles)

    def reveal_identity(
        self, session: Session, case: Case, viewer: Person, *, now: datetime
    ) -> tuple[str | None, str | None]:
        """The name and phone behind a case; every look is logged as an event."""
        contact = session.get(CaseContact, case.id)
        self.add_event(session, case, "identity_revealed", now=now, actor_id=viewer.id)
        if contact is None:
            return None, None
        return contact.name, contact.phone

    # ------------------------------------------------------------------ ratings

    def rate(
        self, session: Session, case: Case, citizen: Person, rating: str, *, now: datetime
    ) -> None:
        if case.citizen_id != citizen.id:
            raise CaseActionError(texts.case_not_found(case.code))
        if rating not in texts.RATING_LABELS:
            raise CaseActionError(texts.CHOOSE_FROM_OPTIONS)
        if case.status != "answered":
            raise CaseActionError(texts.ALREADY_RATED if case.rating else texts.RATING_NOT_YET)
        case.rating = rating
        case.status = "closed"
        case.closed_at = now
        self.add_event(
            session,
            case,
            "rated",
            now=now,
            actor_id=citizen.id,
            public=True,
            note=texts.RATING_LABELS[rating],
            data={"rating": rating},
        )

    def add_comment(
        self, session: Session, case: Case, citizen: Person, comment: str, *, now: datetime
    ) -> None:
        self.add_event(
            session, case, "rating_comment", now=now, actor_id=citizen.id, note=comment[:2000]
        )

    def can_reopen(self, case: Case) -> bool:
        return case.rating == "chua_hai_long" and case.reopened == 0 and case.status == "closed"

    def reopen(
        self, session: Session, case: Case, citizen: Person, reason: str, *, now: datetime
    ) -> None:
        if case.citizen_id != citizen.id:
            raise CaseActionError(texts.case_not_found(case.code))
        if not self.can_reopen(case):
            raise CaseActionError(texts.REOPEN_NOT_ALLOWED)
        due = self._due("reopen", now, case.kind, case.category)
        case.status = "open"
        case.reopened += 1
        case.closed_at = None
        case.due_at = due
        case.answer_due_at = due
        tz = self.config.commune.timezone
        self.add_event(
            session,
            case,
            "reopened",
            now=now,
            actor_id=citizen.id,
            public=True,
            note=reason[:2000],
            data={"new_due": due.isoformat()},
        )
        staff = self.heads_of_unit(session, case.unit) + [
            p.id for p in people_with_role(session, "leader")
        ]
        if case.assigned_officer_id:
            staff.append(case.assigned_officer_id)
        self.notify_staff(
            session,
            staff,
            OutgoingMessage(
                text=texts.reopened_notice(
                    case.code,
                    self.config.unit_name(case.unit),
                    reason,
                    texts.local_date(due, tz),
                ),
                options=tuple(self.case_actions(case)[:2]),
            ),
            purpose="reopened",
            case=case,
            now=now,
        )
        self.notify_citizen(
            session,
            case,
            OutgoingMessage(text=texts.reopened_for_citizen(case.code, texts.local_date(due, tz))),
            purpose="reopened",
            now=now,
        )

    def close_unrated(self, session: Session, case: Case, *, now: datetime) -> None:
        """No rating within the configured time: closed as «không đánh giá»."""
        if case.status != "answered":
            return
        case.status = "closed"
        case.rating = "khong_danh_gia"
        case.closed_at = now
        self.add_event(
            session,
            case,
            "closed",
            now=now,
            actor_id=None,
            public=True,
            data={"reason": "not_rated"},
        )

    # ------------------------------------------------------------------ delivery problems

    def on_delivery_refused(self, session: Session, refused: ClaimedMessage, now: datetime) -> None:
        """The channel says this person blocked the bot: stop writing there, and if the
        message was about a case of theirs, tell the unit head so they call instead."""
        identity = session.scalars(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == refused.channel,
                ChannelIdentity.chat_id == refused.chat_id,
            )
        ).first()
        if identity is not None and identity.unreachable_since is None:
            identity.unreachable_since = now
        if refused.case_id is None:
            return
        case = session.get(Case, refused.case_id)
        if case is None or case.citizen_id != refused.person_id:
            return
        self.notify_staff(
            session,
            self.heads_of_unit(session, case.unit),
            OutgoingMessage(
                text=texts.citizen_unreachable(case.code),
                options=(Option(f"off:view:{case.id}", texts.OFFICER_OPTIONS["view"]),),
            ),
            purpose="citizen_unreachable",
            case=case,
            now=now,
            dedupe_key=f"unreachable:{case.id}",
        )

    # ------------------------------------------------------------------ helpers

    def _attach(self, session: Session, case: Case, attachment_ids: Sequence[int]) -> None:
        if attachment_ids:
            session.execute(
                update(Attachment)
                .where(Attachment.id.in_(list(attachment_ids)), Attachment.case_id.is_(None))
                .values(case_id=case.id)
            )
