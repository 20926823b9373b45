"""Addressing a message to a person (not to a chat): pick where to reach them, queue it.

A person may have a Telegram and a Zalo identity; a message goes to the one they used last
and can still be reached on. The options it carries become that person's current options.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.messages import OutgoingMessage
from storage import conversations, outbox
from storage.models import ChannelIdentity
from storage.people import reachable_identities


def queue(
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
    """Queue ``message`` for one channel identity; its options become the person's options."""
    # One UPDATE of the conversation row instead of two: no flush before the INSERT.
    with session.no_autoflush:
        message_id = outbox.enqueue(
            session,
            identity,
            message,
            purpose=purpose,
            now=now,
            case_id=case_id,
            dedupe_key=dedupe_key,
            not_before=not_before,
        )
    if message_id is not None:
        conversations.remember_options_for(session, identity.person_id, message.options, now=now)
    return message_id


def deliver(
    session: Session,
    person_id: int,
    message: OutgoingMessage,
    *,
    purpose: str,
    now: datetime,
    case_id: int | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> int | None:
    """Queue ``message`` for ``person_id``; returns the outbox id, or None when the person
    cannot be reached on any channel or the ``dedupe_key`` was already used."""
    identities = reachable_identities(session, person_id)
    if not identities:
        return None
    return queue(
        session,
        identities[0],
        message,
        purpose=purpose,
        now=now,
        case_id=case_id,
        dedupe_key=dedupe_key,
        not_before=not_before,
    )
