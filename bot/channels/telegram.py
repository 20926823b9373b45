"""Telegram adapter on python-telegram-bot 22: transport only.

PTB does the HTTP, error mapping and overall rate limiting (``AIORateLimiter``); flow state
is ours (in the database), so PTB's ``ConversationHandler`` and persistence are not used.

Long polling is done here rather than by PTB's ``Updater``: the offset that confirms a batch
of updates is sent only after the batch has been processed and committed, so a crash while
processing never loses a citizen's message (Telegram would hand it out again; the processed
update ids drop the ones that did get through).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import warnings
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

# Ask PTB for RetryAfter.retry_after as a timedelta (the float form is deprecated).
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from telegram.warnings import PTBUserWarning

from bot.channels.pacing import SendPacer
from bot.dispatcher import OutboundFile, Rejected, RetryLater, Unreachable
from bot.messages import (
    AttachmentKind,
    Channel,
    IncomingAttachment,
    IncomingMessage,
    Location,
    Option,
    OutgoingMessage,
)

log = logging.getLogger(__name__)

# TelegramSender sends text with do_api_request on purpose (see _send_text); PTB would warn
# on every message that Bot.send_message exists.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)

TEXT_LIMIT = 4096
POOL_SIZE = 8
CAPTION_LIMIT = 1024
Process = Callable[[IncomingMessage], Awaitable[object]]
ProcessMany = Callable[[Sequence[IncomingMessage]], Awaitable[object]]


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split on paragraph, line, sentence or word boundaries; hard cut only as a last resort."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for separator in ("\n\n", "\n", ". ", " "):
            cut = window.rfind(separator)
            if cut > limit // 2:
                cut += len(separator)
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


def keyboard(options: Sequence[Option]) -> InlineKeyboardMarkup | None:
    if not options:
        return None
    short = len(options) >= 4 and all(len(o.label) <= 22 for o in options)
    width = 2 if short else 1
    buttons = [InlineKeyboardButton(o.label, callback_data=o.id[:64]) for o in options]
    return InlineKeyboardMarkup([buttons[i : i + width] for i in range(0, len(buttons), width)])


def to_incoming(update: Update) -> IncomingMessage | None:
    """The common message for an update, or None for updates we do not handle."""
    dedupe = f"u{update.update_id}"
    query = update.callback_query
    if query is not None:
        user = query.from_user
        chat_id = query.message.chat.id if query.message is not None else user.id
        return IncomingMessage(
            channel=Channel.TELEGRAM,
            user_id=str(user.id),
            chat_id=str(chat_id),
            message_id=f"cb{query.id}",
            sent_at=datetime.now(UTC),
            display_name=user.full_name,
            option_id=query.data,
            dedupe_key=dedupe,
        )
    message = update.message
    if message is None or message.from_user is None:
        return None
    user = message.from_user
    attachments: list[IncomingAttachment] = []
    if message.photo:
        largest = message.photo[-1]
        attachments.append(
            IncomingAttachment(
                AttachmentKind.PHOTO,
                largest.file_id,
                size=largest.file_size,
                mime_type="image/jpeg",
            )
        )
    elif message.document is not None:
        document = message.document
        attachments.append(
            IncomingAttachment(
                AttachmentKind.DOCUMENT,
                document.file_id,
                size=document.file_size,
                mime_type=document.mime_type,
                file_name=document.file_name,
            )
        )
    elif message.sticker is not None:
        attachments.append(IncomingAttachment(AttachmentKind.STICKER, message.sticker.file_id))
    elif message.voice is not None or message.audio is not None:
        attachments.append(IncomingAttachment(AttachmentKind.VOICE, ""))
    elif message.video is not None or message.video_note is not None or message.animation:
        attachments.append(IncomingAttachment(AttachmentKind.VIDEO, ""))
    location = (
        Location(message.location.latitude, message.location.longitude)
        if message.location is not None
        else None
    )
    contact_phone = message.contact.phone_number if message.contact is not None else None
    text = message.text or message.caption
    if not (text or attachments or location or contact_phone):
        attachments.append(IncomingAttachment(AttachmentKind.OTHER, ""))
    return IncomingMessage(
        channel=Channel.TELEGRAM,
        user_id=str(user.id),
        chat_id=str(message.chat.id),
        message_id=str(message.message_id),
        sent_at=message.date,
        display_name=user.full_name,
        text=text,
        attachments=tuple(attachments),
        location=location,
        contact_phone=contact_phone,
        dedupe_key=dedupe,
    )


def build_application(
    token: str,
    *,
    base_url: str,
    base_file_url: str,
    rate_limited: bool = True,
    timeout: float = 20.0,
) -> Application:  # type: ignore[type-arg]
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(base_file_url)
        .updater(None)
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .write_timeout(timeout)
        .pool_timeout(timeout)
        .connection_pool_size(POOL_SIZE)
    )
    if rate_limited:
        # Group chats' 20 messages/minute; the overall and per-chat pace of private chats is
        # kept by TelegramSender's pacer, which is strict where AIORateLimiter allows bursts.
        # PTB's builder is generic in the limiter's argument type; AIORateLimiter's is int.
        builder = builder.rate_limiter(AIORateLimiter(overall_max_rate=0, max_retries=0))  # type: ignore[arg-type]
    return builder.build()


class TelegramSender:
    channel = Channel.TELEGRAM.value
    only_chats: Sequence[str] | None = None

    def __init__(
        self,
        bot: Bot,
        *,
        per_chat_interval: float = 1.0,
        overall_per_second: float = 30.0,
        in_flight: asyncio.Semaphore | None = None,
    ) -> None:
        self.bot = bot
        # httpcore's pool does work proportional to the requests waiting for a connection;
        # waiting here instead is cheap. Shared with the channel's own calls.
        self._in_flight = in_flight or asyncio.Semaphore(POOL_SIZE)
        self.pacer = SendPacer(
            per_chat_interval=per_chat_interval, overall_per_second=overall_per_second
        )

    async def send(
        self, chat_id: str, message: OutgoingMessage, files: Sequence[OutboundFile]
    ) -> None:
        try:
            await self._send(int(chat_id), message, files)
        except RetryAfter as exc:
            retry = exc.retry_after
            seconds = retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)
            raise RetryLater("Telegram flood control", retry_after=seconds) from exc
        except Forbidden as exc:
            raise Unreachable(exc.message) from exc
        except ChatMigrated as exc:
            raise Rejected(f"chat migrated to {exc.new_chat_id}") from exc
        except BadRequest as exc:
            raise Rejected(exc.message) from exc
        except (TimedOut, NetworkError) as exc:
            raise RetryLater(f"{type(exc).__name__}: {exc.message}") from exc
        except InvalidToken as exc:
            raise RetryLater("invalid token", retry_after=None) from exc
        except TelegramError as exc:
            raise RetryLater(f"{type(exc).__name__}: {exc.message}") from exc

    async def _send(
        self, chat_id: int, message: OutgoingMessage, files: Sequence[OutboundFile]
    ) -> None:
        # Photos first, the text with its buttons last, so the buttons stay at the bottom.
        for file in files:
            data = await asyncio.to_thread(file.path.read_bytes)
            async with self._in_flight, self.pacer.slot(chat_id):
                await self.bot.send_photo(chat_id, photo=data, filename=file.path.name)
        if message.document_path:
            data = await asyncio.to_thread(Path(message.document_path).read_bytes)
            async with self._in_flight, self.pacer.slot(chat_id):
                await self.bot.send_document(chat_id, document=data, filename=message.document_name)
        if not message.text.strip():
            return
        parts = split_text(message.text)
        markup = keyboard(message.options)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            async with self._in_flight, self.pacer.slot(chat_id):
                await self._send_text(chat_id, part, markup if last else None)

    async def _send_text(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        # do_api_request returns the raw result: the Message object PTB would build from it
        # is never used, and building it is a fifth of the cost of a send.
        arguments: dict[str, object] = {"chat_id": chat_id, "text": text}
        if markup is not None:
            arguments["reply_markup"] = markup
        await self.bot.do_api_request("sendMessage", api_kwargs=arguments)


class TelegramChannel:
    """Receives updates (long polling or webhook) and hands them to the processor."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        process: Process,
        *,
        poll_timeout: int = 30,
        in_flight: asyncio.Semaphore | None = None,
        process_many: ProcessMany | None = None,
        answer_callback: Callable[[str], None] | None = None,
    ) -> None:
        self.process_many = process_many
        # Set when another process answers button presses (see send_process.py).
        self.answer_callback = answer_callback
        self.in_flight = in_flight or asyncio.Semaphore(POOL_SIZE)
        self.application = application
        self.process = process
        self.poll_timeout = poll_timeout
        self._poller: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.batches = 0

    @property
    def bot(self) -> Bot:
        bot: Bot = self.application.bot
        return bot

    async def download(self, attachment: IncomingAttachment) -> bytes:
        file = await self.bot.get_file(attachment.ref)
        return bytes(await file.download_as_bytearray())

    async def start(self, *, polling: bool = True) -> None:
        await self.application.initialize()
        await self.application.start()
        if polling:
            await self.bot.delete_webhook()
            self._poller = asyncio.create_task(self._poll_loop(), name="telegram-poll")

    async def stop(self) -> None:
        self._stopping.set()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def feed(self, update: Update) -> None:
        """Process one update (webhook delivery, or one of a polled batch). Raises when it
        could not be committed, so the caller does not confirm it.

        Called directly rather than through ``Application.process_update``, which reports
        handler errors to error handlers instead of raising them."""
        await self._answer_button(update)
        incoming = to_incoming(update)
        if incoming is not None:
            await self.process(incoming)

    async def _answer_button(self, update: Update) -> None:
        query = update.callback_query
        if query is not None and self.answer_callback is not None:
            self.answer_callback(query.id)
        elif query is not None:
            # Stop the spinner on the button at once; a failure here changes nothing.
            with contextlib.suppress(TelegramError):
                async with self.in_flight:
                    await query.answer()

    async def _poll_loop(self) -> None:
        offset: int | None = None
        failures = 0
        while not self._stopping.is_set():
            try:
                updates = await self.bot.get_updates(
                    offset=offset,
                    timeout=self.poll_timeout,
                    # PTB adds the poll timeout to this.
                    read_timeout=10,
                    allowed_updates=["message", "callback_query"],
                )
                failures = 0
            except Conflict:
                log.error("another poller or a webhook is active for this bot token")
                await asyncio.sleep(5)
                continue
            except (TimedOut, NetworkError) as exc:
                failures += 1
                log.warning("Telegram polling failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(min(30.0, 0.5 * 2**failures))
                continue
            if not updates:
                continue
            if await self._process_batch(updates):
                offset = updates[-1].update_id + 1
                self.batches += 1
            else:
                # Not confirmed: Telegram hands the batch out again; what was committed is
                # dropped as a repeat, what was not is processed again.
                failures += 1
                await asyncio.sleep(min(30.0, 0.5 * 2**failures))

    async def _process_batch(self, updates: Sequence[Update]) -> bool:
        if self.process_many is not None:
            # The whole batch in one transaction (see Processor.process_many).
            await asyncio.gather(*(self._answer_button(update) for update in updates))
            incoming = [m for m in map(to_incoming, updates) if m is not None]
            try:
                if incoming:
                    await self.process_many(incoming)
            except Exception:
                log.exception("a batch of %d updates could not be processed", len(updates))
                return False
            return True
        by_person: dict[object, list[Update]] = defaultdict(list)
        for update in updates:
            user = update.effective_user
            by_person[user.id if user else update.update_id].append(update)

        async def in_order(batch: list[Update]) -> bool:
            for update in batch:
                try:
                    await self.feed(update)
                except Exception:
                    log.exception("update %s could not be processed", update.update_id)
                    return False
            return True

        results = await asyncio.gather(*(in_order(batch) for batch in by_person.values()))
        return all(results)
