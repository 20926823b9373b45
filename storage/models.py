"""SQLAlchemy 2 typed models: people, cases, their audit log, attachments, conversations, outbox.

Times are stored as naive UTC in the database and always come back as aware UTC datetimes
(``UtcDateTime``), so SQLite and PostgreSQL behave the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# Big integer primary keys on PostgreSQL, plain INTEGER (rowid) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Person(Base):
    """Anyone who talks to the bot: citizen, officer, leader. Channel identities point here."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    commune: Mapped[str] = mapped_column(String(40))
    display_name: Mapped[str | None] = mapped_column(String(200))
    # Name and phone the person gave as contact; kept to offer them again next time.
    full_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime]

    identities: Mapped[list[ChannelIdentity]] = relationship(back_populates="person")
    roles: Mapped[list[PersonRole]] = relationship(back_populates="person")


class ChannelIdentity(Base):
    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    channel_user_id: Mapped[str] = mapped_column(String(100))
    chat_id: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    # Set when the channel refuses delivery (the person blocked the bot).
    unreachable_since: Mapped[datetime | None]

    person: Mapped[Person] = relationship(back_populates="identities")


class PersonRole(Base):
    __tablename__ = "person_roles"
    __table_args__ = (Index("ix_person_roles_unit_role", "unit", "role"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str | None] = mapped_column(String(40))
    granted_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(back_populates="roles")


class InviteCode(Base):
    __tablename__ = "invite_codes"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str | None] = mapped_column(String(40))
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class CodeCounter(Base):
    """Last tracking-code number per commune and year (HB-2026-00042)."""

    __tablename__ = "code_counters"

    commune: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # Covers the reminder sweep's queries (open cases by deadline) without table reads.
        Index("ix_cases_status_due", "status", "due_at", "unit", "assigned_officer_id", "code"),
        Index("ix_cases_unit_status", "unit", "status"),
        Index("ix_cases_citizen_created", "citizen_id", "created_at"),
        Index("ix_cases_created", "created_at"),
        Index("ix_cases_answered", "answered_at"),
        # Cases the sweep may still have to escalate (not taken up in time, not yet told).
        Index(
            "ix_cases_not_escalated",
            "status",
            "open_due_at",
            sqlite_where=text("escalated_at IS NULL"),
            postgresql_where=text("escalated_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    commune: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    category: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    citizen_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[str] = mapped_column(Text)
    village: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    routing_confidence: Mapped[float | None] = mapped_column(Float)
    complex: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    # The deadline in force now (answer, or acceptance for khiếu nại / tố cáo before it).
    due_at: Mapped[datetime]
    # The resolution deadline in force, extensions included; statistics compare with it.
    answer_due_at: Mapped[datetime]
    open_due_at: Mapped[datetime]
    assigned_officer_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    opened_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # When the unit head was told the case was not taken up in time (once per case).
    escalated_at: Mapped[datetime | None]
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime]


class CaseContact(Base):
    """Name and phone of the person who filed a case, kept apart from the case row.

    For a tố cáo only roles allowed by config may read it, and each read is a case event.
    """

    __tablename__ = "case_contacts"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))


class CaseEvent(Base):
    """The audit log: every change of a case, who did it and when."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(40))
    # Shown to the citizen in the case history when true.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None]


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    mime_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Relative to the attachments directory.
    path: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(20))


class Conversation(Base):
    """Where a person is in a flow; written in the same transaction as the step it records."""

    __tablename__ = "conversations"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    flow: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]]
    # Options last offered to the person, so "2" or a typed label selects on any channel.
    options: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """A message that must go out. Written with the change that causes it; sent by the dispatcher."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        UniqueConstraint("dedupe_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime]
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    purpose: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


class ProcessedUpdate(Base):
    """Deliveries already handled, so a repeated update or webhook call is dropped."""

    __tablename__ = "processed_updates"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    update_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(index=True)


class FaqLog(Base):
    """Questions the FAQ could not answer, or whose answer was marked unhelpful. No person
    is recorded and phone numbers are masked: this is for improving the corpus."""

    __tablename__ = "faq_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    question: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))
    topic_id: Mapped[str | None] = mapped_column(String(80))
    score: Mapped[float | None] = mapped_column(Float)
