"""The console channel: a terminal conversation on the same handlers and database.

It is the embedded default that works with no token (``pakn chat`` / ``pakn run`` without
``PAKN_TELEGRAM_TOKEN``). Options are shown as a numbered list; typing the number or the
label chooses. Two console-only commands stand in for what a phone would send:
``/anh PATH`` sends a photo file and ``/vitri LAT,LON`` sends a location.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.dispatcher import OutboundFile
from bot.messages import (
    AttachmentKind,
    Channel,
    IncomingAttachment,
    IncomingMessage,
    Location,
    OutgoingMessage,
)

Process = Callable[[IncomingMessage], Awaitable[object]]


def render(message: OutgoingMessage, files: Sequence[OutboundFile] = ()) -> str:
    """How a message looks in the terminal (and on Zalo): text, then numbered options."""
    lines = [f"[Ảnh: {file.path.name}]" for file in files]
    lines.append(message.text)
    lines.extend(f"  {index}. {option.label}" for index, option in enumerate(message.options, 1))
    if message.document_name:
        lines.append(f"[Tệp: {message.document_name} – {message.document_path}]")
    return "\n".join(lines)


class ConsoleSender:
    """Prints the messages of one console user (``user_id``), or of every console user
    when ``user_id`` is None (tests keep a transcript per chat)."""

    channel = Channel.CONSOLE.value

    def __init__(self, user_id: str | None, output: TextIO | None = None) -> None:
        self.only_chats: Sequence[str] | None = (user_id,) if user_id is not None else None
        self.output = output if output is not None else sys.stdout
        self.transcripts: dict[str, list[OutgoingMessage]] = {}
        self.files: dict[str, list[OutboundFile]] = {}

    async def send(
        self, chat_id: str, message: OutgoingMessage, files: Sequence[OutboundFile]
    ) -> None:
        self.transcripts.setdefault(chat_id, []).append(message)
        self.files.setdefault(chat_id, []).extend(files)
        self.output.write("\n" + render(message, files) + "\n")
        self.output.flush()


def _read_file(reference: str) -> bytes:
    return Path(reference).expanduser().read_bytes()


async def read_photo(attachment: IncomingAttachment) -> bytes:
    return await asyncio.to_thread(_read_file, attachment.ref)


class ConsoleChannel:
    """Turns typed lines into messages of one console user."""

    def __init__(self, user_id: str, display_name: str | None = None) -> None:
        self.user_id = user_id
        self.display_name = display_name or user_id
        self._counter = itertools.count(1)

    def to_message(self, line: str) -> IncomingMessage | None:
        """The message a typed line stands for, or None for a line that says nothing."""
        text = line.strip()
        if not text:
            return None
        attachments: tuple[IncomingAttachment, ...] = ()
        location: Location | None = None
        command, _, rest = text.partition(" ")
        if command == "/anh" and rest.strip():
            path = Path(rest.strip()).expanduser()
            size = path.stat().st_size if path.is_file() else None
            attachments = (
                IncomingAttachment(
                    AttachmentKind.PHOTO, str(path), size=size, mime_type="image/jpeg"
                ),
            )
            text = ""
        elif command == "/vitri":
            try:
                lat_text, lon_text = rest.replace(" ", "").split(",", 1)
                location = Location(float(lat_text), float(lon_text))
                text = ""
            except ValueError:
                pass
        number = next(self._counter)
        return IncomingMessage(
            channel=Channel.CONSOLE,
            user_id=self.user_id,
            chat_id=self.user_id,
            message_id=str(number),
            sent_at=datetime.now(UTC),
            display_name=self.display_name,
            text=text or None,
            attachments=attachments,
            location=location,
        )


async def run_console(
    channel: ConsoleChannel,
    process: Process,
    flush: Callable[[], Awaitable[None]],
    *,
    input_stream: TextIO | None = None,
    output: TextIO | None = None,
    banner: str | None = None,
) -> None:
    """Read lines until end of input or /thoat; each line is processed and its replies
    printed before the next prompt."""
    source = input_stream or sys.stdin
    out = output or sys.stdout
    if banner:
        out.write(banner + "\n")
        out.flush()
    await flush()
    while True:
        if source is sys.stdin:
            out.write("\n> ")
            out.flush()
        line = await asyncio.to_thread(source.readline)
        if not line:
            break
        if line.strip() in ("/thoat", "/exit", "/quit"):
            break
        message = channel.to_message(line)
        if message is None:
            continue
        await process(message)
        await flush()
