"""The outbox: every message the bot sends is first a row here, written in the same
transaction as the change that causes it. The dispatcher claims rows, sends them and marks
the outcome. A claim is a lease: a process that dies mid-send leaves the row to be claimed
again when the lease runs out (delivery is at least once; the window is one send).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from bot.messages import Option, OutgoingMessage
from storage.models import ChannelIdentity, OutboxMessage

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
UNREACHABLE = "unreachable"


def message_to_payload(message: OutgoingMessage) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": message.text}
    if message.options:
        payload["options"] = [[option.id, option.label] for option in message.options]
    if message.attachment_ids:
        payload["attachments"] = list(message.attachment_ids)
    if message.document_path:
        payload["document"] = {"path": message.document_path, "name": message.document_name}
    if message.extra:
        payload["extra"] = dict(message.extra)
    return payload


def payload_to_message(payload: dict[str, Any]) -> OutgoingMessage:
    document = payload.get("document") or {}
    return OutgoingMessage(
        text=payload.get("text", ""),
        options=tuple(Option(id=o[0], label=o[1]) for o in payload.get("options", [])),
        attachment_ids=tuple(payload.get("attachments", [])),
        document_path=document.get("path"),
        document_name=document.get("name"),
        extra=dict(payload.get("extra", {})),
    )


@dataclass
class LocalClaim:
    """Rows this process can send right away are claimed in the transaction that writes
    them, so the dispatcher needs no second transaction to find them. Set on the step's
    session as ``session.info[LOCAL_CLAIM]``; ``claimed`` collects what was claimed."""

    worker: str
    lease: timedelta
    # Channel -> the chats this process sends to on it (None: all).
    channels: Mapping[str, Sequence[str] | None]
    claimed: list[ClaimedMessage] = field(default_factory=list)
    others_queued: bool = False

    def takes(self, channel: str, chat_id: str) -> bool:
        if channel not in self.channels:
            return False
        chats = self.channels[channel]
        return chats is None or chat_id in chats


LOCAL_CLAIM = "pakn_local_claim"


@functools.cache
def _insert_statement(dialect: str, *, dedupe: bool) -> ReturningInsert[Any]:
    # Built once: building an INSERT with its values on every message cost more than running it.
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, OutboxMessage.__table__)
    statement = insert(table)
    if dedupe:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return statement.returning(table.c.id)


def enqueue(
    session: Session,
    identity: ChannelIdentity,
    message: OutgoingMessage,
    *,
    purpose: str,
    now: datetime,
    case_id: int | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> int | None:
    """Add a message for one channel identity. With a ``dedupe_key`` that already exists,
    nothing is added and ``None`` is returned: that is how a reminder is created only once
    whatever the number of sweeps or processes."""
    next_attempt = max(now, not_before) if not_before else now
    claim: LocalClaim | None = session.info.get(LOCAL_CLAIM)
    local = (
        claim is not None
        and next_attempt <= now
        and claim.takes(identity.channel, identity.chat_id)
    )
    values: dict[str, Any] = {
        "created_at": now,
        "person_id": identity.person_id,
        "channel": identity.channel,
        "chat_id": identity.chat_id,
        "case_id": case_id,
        "purpose": purpose,
        "payload": message_to_payload(message),
        "dedupe_key": dedupe_key,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": next_attempt,
    }
    if local:
        assert claim is not None
        values.update(status=SENDING, claimed_by=claim.worker, claimed_until=now + claim.lease)
    statement = _insert_statement(session.get_bind().dialect.name, dedupe=dedupe_key is not None)
    message_id: int | None = session.execute(statement, values).scalar_one_or_none()
    if message_id is None:
        return None
    if local:
        assert claim is not None
        claim.claimed.append(
            ClaimedMessage(
                id=message_id,
                person_id=identity.person_id,
                channel=identity.channel,
                chat_id=identity.chat_id,
                purpose=purpose,
                payload=values["payload"],
                attempts=0,
                case_id=case_id,
            )
        )
    elif claim is not None:
        claim.others_queued = True
    return message_id


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    person_id: int | None
    channel: str
    chat_id: str
    purpose: str
    payload: dict[str, Any]
    attempts: int
    case_id: int | None


def _claimable(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_until < now),
    )


def claim(
    session: Session,
    *,
    worker: str,
    now: datetime,
    channels: Sequence[str],
    lease: timedelta,
    ids: Sequence[int] | None = None,
    only_chats: Mapping[str, Sequence[str]] | None = None,
    limit: int = 200,
) -> list[ClaimedMessage]:
    """Claim due rows (or the given ids, if due) for ``worker``, oldest first.

    ``only_chats`` restricts a channel to some chats: a console session prints only the
    messages of its own user and leaves the others to their own sessions."""
    restricted = dict(only_chats or {})
    targets: list[ColumnElement[bool]] = [
        OutboxMessage.channel.in_([c for c in channels if c not in restricted])
    ]
    targets += [
        and_(OutboxMessage.channel == channel, OutboxMessage.chat_id.in_(list(chats)))
        for channel, chats in restricted.items()
    ]
    query = (
        select(OutboxMessage)
        .where(or_(*targets), _claimable(now))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed: list[ClaimedMessage] = []
    for row in session.scalars(query):
        row.status = SENDING
        row.claimed_by = worker
        row.claimed_until = now + lease
        claimed.append(
            ClaimedMessage(
                id=row.id,
                person_id=row.person_id,
                channel=row.channel,
                chat_id=row.chat_id,
                purpose=row.purpose,
                payload=dict(row.payload),
                attempts=row.attempts,
                case_id=row.case_id,
            )
        )
    return claimed


def _mine(message_id: int, worker: str) -> Any:
    return and_(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)


def mark_retry(
    session: Session, message_id: int, *, worker: str, error: str, retry_at: datetime
) -> None:
    session.execute(
        update(OutboxMessage)
        .where(_mine(message_id, worker))
        .values(
            status=PENDING,
            next_attempt_at=retry_at,
            claimed_until=None,
            claimed_by=None,
            attempts=OutboxMessage.attempts + 1,
            last_error=error[:2000],
        )
    )


def mark_given_up(
    session: Session, message_id: int, *, worker: str, error: str, status: str = FAILED
) -> None:
    session.execute(
        update(OutboxMessage)
        .where(_mine(message_id, worker))
        .values(
            status=status,
            claimed_until=None,
            attempts=OutboxMessage.attempts + 1,
            last_error=error[:2000],
        )
    )


def release_abandoned(session: Session, *, host: str, is_alive: Callable[[int], bool]) -> int:
    """Give back rows claimed by a process of this host that is no longer running, so a
    restart after a crash sends them at once instead of waiting for the lease to run out.
    Worker ids look like ``host:pid:…``."""
    released = 0
    rows = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.status == SENDING, OutboxMessage.claimed_by.like(f"{host}:%")
        )
    )
    for row in rows:
        parts = (row.claimed_by or "").split(":")
        if len(parts) < 2 or not parts[1].isdigit() or is_alive(int(parts[1])):
            continue
        row.status = PENDING
        row.claimed_by = None
        row.claimed_until = None
        released += 1
    return released


def counts_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {status: count for status, count in rows}


def list_messages(
    session: Session, statuses: Sequence[str], limit: int = 50
) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status.in_(statuses))
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )


def retry_failed(session: Session, *, now: datetime, ids: Sequence[int] | None = None) -> int:
    """Put failed rows back in the queue (admin command)."""
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.status == FAILED)
        .values(status=PENDING, next_attempt_at=now, attempts=0, claimed_by=None)
    )
    if ids:
        statement = statement.where(OutboxMessage.id.in_(ids))
    return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]
