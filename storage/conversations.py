"""Conversation state per person, and the options last offered to them.

The options are remembered so that on channels without buttons (Zalo, console) the reply
"2" or the typed label selects the second option, exactly like a button press on Telegram.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.messages import Option
from bot.rules.textnorm import fold
from storage.models import Conversation


def load(session: Session, person_id: int, *, now: datetime) -> Conversation:
    conversation = session.get(Conversation, person_id)
    if conversation is None:
        conversation = Conversation(
            person_id=person_id, flow=None, step=None, data={}, options={}, updated_at=now
        )
        session.add(conversation)
    return conversation


def remember_options(conversation: Conversation, options: tuple[Option, ...]) -> None:
    conversation.options = {"items": [[o.id, o.label] for o in options]} if options else {}


def remember_options_for(
    session: Session, person_id: int, options: tuple[Option, ...], *, now: datetime
) -> None:
    remember_options(load(session, person_id, now=now), options)


def resolve_option(conversation: Conversation, text: str) -> str | None:
    """The option id meant by a typed reply: its number ("2") or its label, any accents."""
    items: list[Any] = conversation.options.get("items", []) if conversation.options else []
    if not items:
        return None
    typed = text.strip().rstrip(".)")
    if typed.isdigit():
        index = int(typed) - 1
        return str(items[index][0]) if 0 <= index < len(items) else None
    folded = fold(text)
    if not folded:
        return None
    for option_id, label in items:
        if fold(str(label)) == folded:
            return str(option_id)
    return None


def offered_option_ids(conversation: Conversation) -> set[str]:
    items: list[Any] = conversation.options.get("items", []) if conversation.options else []
    return {str(item[0]) for item in items}
