"""What a handler gets: the message, the person, their conversation and a way to answer.

Everything a handler writes goes into the one database transaction of the step: the
conversation state, case changes and the outbox rows of the replies. Nothing is sent until
the step has been committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.messages import IncomingMessage, Option, OutgoingMessage
from bot.rules.deadlines import DeadlineCalculator
from bot.rules.routing import RoutingClassifier
from bot.rules.textnorm import nfc
from storage.attachments import StoredFile, record_attachment
from storage.cases import CaseService
from storage.models import ChannelIdentity, Conversation, Person, PersonRole
from storage.notify import deliver, queue
from storage.people import active_roles


@dataclass
class Services:
    """The long-lived collaborators of handlers, built once by the application."""

    config: AppConfig
    deadlines: DeadlineCalculator
    cases: CaseService
    classifier: RoutingClassifier
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReceivedPhoto:
    """A photo of this message: stored and cleaned, or refused with a reason."""

    stored: StoredFile | None = None
    error: str | None = None


@dataclass
class Context:
    session: Session
    services: Services
    person: Person
    identity: ChannelIdentity
    conversation: Conversation
    message: IncomingMessage
    now: datetime
    photos: list[ReceivedPhoto] = field(default_factory=list)
    # Filled by the router: the option chosen by button, number or label.
    option: str | None = None
    outbox_ids: list[int] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    kept_paths: set[str] = field(default_factory=set)
    _preface: list[str] = field(default_factory=list)
    _roles: list[PersonRole] | None = None

    # ------------------------------------------------------------------ input

    @property
    def config(self) -> AppConfig:
        return self.services.config

    @property
    def text(self) -> str:
        """The typed text, NFC-normalised and trimmed ('' when there is none)."""
        return nfc(self.message.text or "").strip()

    # ------------------------------------------------------------------ output

    def reply(
        self, text: str, options: tuple[Option, ...] | list[Option] = (), **kwargs: Any
    ) -> None:
        self.send(OutgoingMessage(text=text, options=tuple(options), **kwargs))

    def preface(self, text: str) -> None:
        """Put ``text`` at the top of the next reply ("that was not a photo" + the question
        again): one message instead of two, which matters with 1 message/s per chat."""
        self._preface.append(text)

    def flush_preface(self) -> None:
        """Send a preface that no reply followed."""
        if self._preface:
            self.send(OutgoingMessage(text=""))

    def send(self, message: OutgoingMessage, *, purpose: str = "reply") -> None:
        if self._preface:
            joined = "\n".join([*self._preface, message.text]).strip()
            self._preface.clear()
            message = replace(message, text=joined)
        message_id = queue(self.session, self.identity, message, purpose=purpose, now=self.now)
        if message_id is not None:
            self.outbox_ids.append(message_id)

    def notify(
        self,
        person_id: int,
        message: OutgoingMessage,
        *,
        purpose: str,
        case_id: int | None = None,
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
    ) -> int | None:
        """Queue a message for another person (officer, leader, citizen)."""
        message_id = deliver(
            self.session,
            person_id,
            message,
            purpose=purpose,
            now=self.now,
            case_id=case_id,
            dedupe_key=dedupe_key,
            not_before=not_before,
        )
        if message_id is not None:
            self.outbox_ids.append(message_id)
        return message_id

    # ------------------------------------------------------------------ conversation state

    @property
    def flow(self) -> str | None:
        return self.conversation.flow

    @property
    def step(self) -> str | None:
        return self.conversation.step

    @property
    def flow_data(self) -> dict[str, Any]:
        """A copy of the active flow's data. Write back with ``update_flow_data`` (JSON
        columns are compared by value, so in-place edits would be lost)."""
        return dict((self.conversation.data or {}).get("flow", {}))

    def update_flow_data(self, **values: Any) -> None:
        self._write("flow", {**self.flow_data, **values})

    def start_flow(self, flow: str, step: str, data: dict[str, Any] | None = None) -> None:
        self.conversation.flow = flow
        self.conversation.step = step
        self._write("flow", dict(data or {}))

    def set_step(self, step: str) -> None:
        self.conversation.step = step
        self.conversation.updated_at = self.now

    def end_flow(self) -> None:
        self.conversation.flow = None
        self.conversation.step = None
        self._write("flow", {})

    # The intake draft lives beside the active flow, so looking up a case or asking a
    # question in the middle of filing does not lose what was typed.

    @property
    def draft(self) -> dict[str, Any] | None:
        draft = (self.conversation.data or {}).get("draft")
        return dict(draft) if draft else None

    def save_draft(self, draft: dict[str, Any]) -> None:
        self._write("draft", {**draft, "saved_at": self.now.isoformat()})
        ttl = timedelta(hours=self.config.limits.draft_ttl_hours)
        self.conversation.expires_at = self.now + ttl

    def discard_draft(self) -> None:
        self._write("draft", None)
        self.conversation.expires_at = None

    def _write(self, key: str, value: Any) -> None:
        data = dict(self.conversation.data or {})
        if value:
            data[key] = value
        else:
            data.pop(key, None)
        self.conversation.data = data
        self.conversation.updated_at = self.now

    # ------------------------------------------------------------------ people

    @property
    def roles(self) -> list[PersonRole]:
        if self._roles is None:
            self._roles = active_roles(self.session, self.person.id)
        return self._roles

    def has_role(self, *roles: str) -> bool:
        return any(r.role in roles for r in self.roles)

    def units_with_role(self, *roles: str) -> set[str]:
        return {r.unit for r in self.roles if r.role in roles and r.unit}

    # ------------------------------------------------------------------ attachments

    def keep_photo(self, stored: StoredFile) -> int:
        """Record a stored photo as this person's (not yet part of a case)."""
        self.kept_paths.add(stored.path)
        return record_attachment(
            self.session,
            stored,
            person_id=self.person.id,
            kind="photo",
            channel=self.identity.channel,
            now=self.now,
        )
