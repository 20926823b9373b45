"""What the application needs from a channel: a sender for the outbox, a downloader for
attachments, and start/stop for whatever receives updates (polling loop, webhook)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.dispatcher import ChannelSender
from bot.messages import IncomingAttachment, IncomingMessage

Process = Callable[[IncomingMessage], Awaitable[object]]
Downloader = Callable[[IncomingAttachment], Awaitable[bytes]]


@dataclass
class ChannelBinding:
    name: str
    sender: ChannelSender
    download: Downloader | None = None
    start: Callable[[], Awaitable[None]] | None = None
    stop: Callable[[], Awaitable[None]] | None = None
    # The adapter object itself (TelegramChannel, ZaloChannel), for webhooks and tests.
    adapter: object | None = None
