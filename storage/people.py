"""People, their channel identities and roles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ChannelIdentity, Person, PersonRole


@dataclass(frozen=True)
class Sender:
    """Who wrote: the channel-side facts an adapter knows about a person."""

    channel: str
    user_id: str
    chat_id: str
    display_name: str | None


def identify(
    session: Session, sender: Sender, *, commune: str, now: datetime
) -> tuple[Person, ChannelIdentity]:
    """The person behind a channel identity, created on first contact."""
    identity = session.scalars(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == sender.channel,
            ChannelIdentity.channel_user_id == sender.user_id,
        )
    ).one_or_none()
    if identity is None:
        person = Person(commune=commune, display_name=sender.display_name, created_at=now)
        session.add(person)
        session.flush()
        identity = ChannelIdentity(
            person_id=person.id,
            channel=sender.channel,
            channel_user_id=sender.user_id,
            chat_id=sender.chat_id,
            display_name=sender.display_name,
            created_at=now,
            last_seen_at=now,
        )
        session.add(identity)
        session.flush()
        return person, identity
    identity.last_seen_at = now
    identity.chat_id = sender.chat_id
    # Writing again means the person can be reached again.
    identity.unreachable_since = None
    if sender.display_name and identity.display_name != sender.display_name:
        identity.display_name = sender.display_name
    person = session.get_one(Person, identity.person_id)
    return person, identity


def active_roles(session: Session, person_id: int) -> list[PersonRole]:
    return list(
        session.scalars(
            select(PersonRole).where(
                PersonRole.person_id == person_id, PersonRole.revoked_at.is_(None)
            )
        )
    )


def people_with_role(session: Session, role: str, unit: str | None = None) -> Sequence[Person]:
    query = (
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == role, PersonRole.revoked_at.is_(None))
        .order_by(Person.id)
    )
    if unit is not None:
        query = query.where(PersonRole.unit == unit)
    return list(session.scalars(query).unique())


def reachable_identities(session: Session, person_id: int) -> list[ChannelIdentity]:
    """The identities a message to this person can go to, most recently used first."""
    return list(
        session.scalars(
            select(ChannelIdentity)
            .where(
                ChannelIdentity.person_id == person_id,
                ChannelIdentity.unreachable_since.is_(None),
            )
            .order_by(ChannelIdentity.last_seen_at.desc())
        )
    )
