"""People, their channel identities and roles."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ChannelIdentity, InviteCode, Person, PersonRole

# last_seen_at picks the identity a person used last; a few minutes' precision is enough.
LAST_SEEN_PRECISION = timedelta(minutes=5)


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
    row = session.execute(
        select(ChannelIdentity, Person)
        .join(Person, Person.id == ChannelIdentity.person_id)
        .where(
            ChannelIdentity.channel == sender.channel,
            ChannelIdentity.channel_user_id == sender.user_id,
        )
    ).one_or_none()
    if row is None:
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
    identity, person = row
    # Only real changes are written: most messages then cost no UPDATE here.
    if now - identity.last_seen_at > LAST_SEEN_PRECISION:
        identity.last_seen_at = now
    if identity.chat_id != sender.chat_id:
        identity.chat_id = sender.chat_id
    if identity.unreachable_since is not None:
        # Writing again means the person can be reached again.
        identity.unreachable_since = None
    if sender.display_name and identity.display_name != sender.display_name:
        identity.display_name = sender.display_name
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


# ----------------------------------------------------------------------------- invites

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
_INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_LIFETIME = timedelta(hours=72)


class InviteError(Exception):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalize_invite(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def create_invite(
    session: Session,
    *,
    role: str,
    unit: str | None,
    now: datetime,
    display_name: str | None = None,
    lifetime: timedelta = INVITE_LIFETIME,
) -> str:
    """A one-time code (e.g. ``K7P4-QX2M``) that links the chat identity using it to a role."""
    raw = "".join(secrets.choice(_INVITE_ALPHABET) for _ in range(8))
    session.add(
        InviteCode(
            code=raw,
            role=role,
            unit=unit,
            display_name=display_name,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return f"{raw[:4]}-{raw[4:]}"


def redeem_invite(session: Session, code: str, person: Person, *, now: datetime) -> PersonRole:
    invite = session.get(InviteCode, normalize_invite(code), with_for_update=True)
    if invite is None:
        raise InviteError(InviteError.UNKNOWN)
    if invite.used_at is not None:
        raise InviteError(InviteError.USED)
    if invite.expires_at <= now:
        raise InviteError(InviteError.EXPIRED)
    invite.used_at = now
    invite.used_by = person.id
    if invite.display_name and not person.full_name:
        person.full_name = invite.display_name
    existing = [
        r
        for r in active_roles(session, person.id)
        if r.role == invite.role and r.unit == invite.unit
    ]
    if existing:
        return existing[0]
    role = PersonRole(person_id=person.id, role=invite.role, unit=invite.unit, granted_at=now)
    session.add(role)
    session.flush()
    return role


def revoke_roles(
    session: Session,
    person_id: int,
    *,
    now: datetime,
    role: str | None = None,
    unit: str | None = None,
) -> int:
    count = 0
    for granted in active_roles(session, person_id):
        if (role is None or granted.role == role) and (unit is None or granted.unit == unit):
            granted.revoked_at = now
            count += 1
    return count


def grant_role(
    session: Session, person_id: int, role: str, unit: str | None, *, now: datetime
) -> PersonRole:
    """Give a role directly (demo data, tests); people normally join with an invite."""
    granted = PersonRole(person_id=person_id, role=role, unit=unit, granted_at=now)
    session.add(granted)
    session.flush()
    return granted


def all_staff(session: Session) -> list[tuple[Person, list[PersonRole], list[ChannelIdentity]]]:
    people = session.scalars(
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.revoked_at.is_(None))
        .order_by(Person.id)
    ).unique()
    return [
        (
            person,
            active_roles(session, person.id),
            list(
                session.scalars(
                    select(ChannelIdentity).where(ChannelIdentity.person_id == person.id)
                )
            ),
        )
        for person in people
    ]
