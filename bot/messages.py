"""The common message model every channel adapter speaks.

Handlers see only these types; they never import Telegram or Zalo code. An adapter turns a
channel update into an ``IncomingMessage`` and renders an ``OutgoingMessage`` its own way
(Telegram: inline buttons; Zalo and the console: a numbered list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    ZALO = "zalo"
    CONSOLE = "console"


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"
    STICKER = "sticker"
    VOICE = "voice"
    VIDEO = "video"
    OTHER = "other"


@dataclass(frozen=True)
class IncomingAttachment:
    """A file the person sent, not yet downloaded: ``ref`` is the channel's file id or URL."""

    kind: AttachmentKind
    ref: str
    size: int | None = None
    mime_type: str | None = None
    file_name: str | None = None


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class IncomingMessage:
    channel: Channel
    user_id: str
    chat_id: str
    message_id: str
    sent_at: datetime
    display_name: str | None = None
    text: str | None = None
    option_id: str | None = None
    attachments: tuple[IncomingAttachment, ...] = ()
    location: Location | None = None
    contact_phone: str | None = None
    # Key that identifies a delivery for dropping repeats (update id, Zalo message id).
    dedupe_key: str | None = None


@dataclass(frozen=True)
class Option:
    """A choice offered to the person. ``id`` travels back as ``IncomingMessage.option_id``."""

    id: str
    label: str


@dataclass(frozen=True)
class OutgoingMessage:
    text: str
    options: tuple[Option, ...] = ()
    # Ids of stored attachments (photos) to send with the text.
    attachment_ids: tuple[int, ...] = ()
    # A file to send as a document (reports): path under the data directory and its name.
    document_path: str | None = None
    document_name: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
