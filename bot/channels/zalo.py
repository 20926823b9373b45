"""Zalo adapter on the common message model: receiving (long polling or webhook), photo
downloads and the outbox sender. The HTTP calls are in ``zalo_client``.

Receiving. Zalo's ``getUpdates`` hands out one update per call, without offsets, and forgets
it once handed out: there is no "confirm after commit" as on Telegram. The poll loop
therefore runs a single poller and keeps an update in memory until the processor has
committed it (retrying with backoff while the database is down). Photo URLs expire, so the
processor downloads them at once through :class:`PhotoDownloader`. Repeats (a webhook
delivered twice) are dropped by the processor on ``dedupe_key`` = Zalo's message id.

Sending. Zalo has no buttons: options are a numbered list (the console's ``render``), and
the core resolves a reply of "1", "2" or the label. Texts are split at 2,000 characters.
Photos go out with ``sendPhoto``, which takes only a public URL: the bot's web server serves
stored attachments under expiring signed links (``bot.links``). Without a public URL the
photos are replaced by a short note.

Error mapping (Zalo → outbox):

* 429 → ``RetryLater`` with Zalo's ``retry_after`` when it gave one (pauses the channel);
* 5xx, malformed answers, network errors and timeouts → ``RetryLater`` (backoff);
* 400 and 404 → ``Rejected`` (kept as failed for ``pakn outbox``);
* 401 → ``RetryLater`` and an error in the log: the token is wrong or was reset, which is a
  configuration problem; the messages wait until the admin fixes it;
* 403 → the docs' error table calls 403 "Internal server error" while the SDKs read it as
  "not allowed to send to this chat" (research notes U8). One 403 proves nothing, so it is
  ``RetryLater``. Only after :data:`FORBIDDEN_STRIKES` 403s in a row for one chat, *and* a
  successful send to some other chat since the first of them (so Zalo itself is working),
  is the person taken as unreachable (``Unreachable``). A Zalo-wide outage that answers 403
  to everyone therefore never marks people unreachable; it ends as ordinary retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.channels.console import render
from bot.channels.pacing import SendPacer
from bot.channels.zalo_client import (
    EVENT_IMAGE,
    EVENT_STICKER,
    EVENT_TEXT,
    EVENT_UNSUPPORTED,
    EVENT_VOICE,
    ZaloBadRequest,
    ZaloBotClient,
    ZaloConflict,
    ZaloError,
    ZaloForbidden,
    ZaloNotFound,
    ZaloRateLimited,
    ZaloUnauthorized,
    ZaloUpdate,
    parse_update,
    split_text,
)
from bot.dispatcher import OutboundFile, Rejected, RetryLater, Unreachable
from bot.links import LinkSigner
from bot.messages import (
    AttachmentKind,
    Channel,
    IncomingAttachment,
    IncomingMessage,
    OutgoingMessage,
)

log = logging.getLogger(__name__)

Process = Callable[[IncomingMessage], Awaitable[object]]

#: 403s in a row for one chat before it is taken as unreachable (see the module docstring).
FORBIDDEN_STRIKES = 3

ONE_STOP = "xem trên Telegram hoặc tại bộ phận một cửa"


def photos_note(count: int) -> str:
    """Said in place of photos when they cannot be sent as links."""
    return f"(Có {count} ảnh đính kèm, {ONE_STOP}.)"


def document_note(name: str) -> str:
    return f"(Có tệp đính kèm «{name}», {ONE_STOP}.)"


def document_link(name: str, url: str) -> str:
    return f"Tải tệp «{name}»: {url}"


# --------------------------------------------------------------------------- receiving


def to_incoming(update: ZaloUpdate, *, now: datetime | None = None) -> IncomingMessage | None:
    """The common message for a Zalo update, or None for one we do not handle (no sender,
    or sent by a bot)."""
    message = update.message
    if message is None or message.is_bot:
        return None
    event = update.event_name
    text: str | None = None
    attachments: list[IncomingAttachment] = []
    if message.photo_url:
        attachments.append(
            IncomingAttachment(AttachmentKind.PHOTO, message.photo_url, mime_type="image/jpeg")
        )
        text = message.caption or message.text
    elif event == EVENT_IMAGE:
        # An image event without a URL: nothing to download, say so politely.
        attachments.append(IncomingAttachment(AttachmentKind.OTHER, ""))
    elif event == EVENT_STICKER or message.sticker:
        attachments.append(IncomingAttachment(AttachmentKind.STICKER, message.sticker or ""))
    elif event == EVENT_VOICE or message.raw.get("voice_url"):
        attachments.append(IncomingAttachment(AttachmentKind.VOICE, ""))
    elif event == EVENT_UNSUPPORTED:
        # Normal for people in protected groups: the content is withheld by Zalo.
        attachments.append(IncomingAttachment(AttachmentKind.OTHER, ""))
    else:
        text = message.text
        if event != EVENT_TEXT and not text:
            attachments.append(IncomingAttachment(AttachmentKind.OTHER, ""))
    if not text and not attachments:
        attachments.append(IncomingAttachment(AttachmentKind.OTHER, ""))
    return IncomingMessage(
        channel=Channel.ZALO,
        user_id=message.sender_id,
        chat_id=message.chat_id,
        message_id=message.message_id,
        sent_at=message.date or now or datetime.now(UTC),
        display_name=message.sender_name,
        text=text,
        attachments=tuple(attachments),
        dedupe_key=message.message_id or None,
    )


class PhotoDownloader:
    """Downloads a photo URL from an update at once (Zalo's media URLs expire).

    At most ``max_bytes + 1`` bytes are read: a bigger photo comes back just over the
    limit, which the processor answers as "too large" without reading the rest."""

    def __init__(
        self,
        max_bytes: int,
        *,
        timeout: float = 20.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout), follow_redirects=True, transport=transport
        )

    async def __call__(self, attachment: IncomingAttachment) -> bytes:
        url = attachment.ref
        if not url.startswith(("https://", "http://")):
            raise ValueError("a Zalo photo must be an http(s) URL")
        chunks: list[bytes] = []
        total = 0
        async with self._http.stream("GET", url) as response:
            if response.status_code != 200:
                raise httpx.HTTPStatusError(
                    f"photo download answered {response.status_code}",
                    request=response.request,
                    response=response,
                )
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                total += len(chunk)
                if total > self.max_bytes:
                    break
        return b"".join(chunks)[: self.max_bytes + 1]

    async def close(self) -> None:
        await self._http.aclose()


# --------------------------------------------------------------------------- sending


@dataclass
class _Strikes:
    count: int
    first_at: float


class ZaloSender:
    """Sends outbox messages to Zalo chats (see the module docstring for error mapping)."""

    channel = Channel.ZALO.value
    only_chats: Sequence[str] | None = None

    def __init__(
        self,
        client: ZaloBotClient,
        *,
        links: LinkSigner | None = None,
        data_dir: Path | None = None,
        per_chat_interval: float = 1.0,
        overall_per_second: float | None = 30.0,
    ) -> None:
        self.client = client
        self.links = links
        self.data_dir = data_dir
        self.per_chat_interval = per_chat_interval
        # Zalo publishes no numbers; the same pacing as Telegram keeps us well inside them.
        self._pacer = SendPacer(
            per_chat_interval=per_chat_interval, overall_per_second=overall_per_second or 0
        )
        self._forbidden: dict[str, _Strikes] = {}
        self._last_success = 0.0

    def _public_links(self) -> LinkSigner | None:
        return self.links if self.links is not None and self.links.base_url else None

    async def send(
        self, chat_id: str, message: OutgoingMessage, files: Sequence[OutboundFile]
    ) -> None:
        try:
            await self._send(chat_id, message, files)
        except ZaloRateLimited as exc:
            raise RetryLater(f"Zalo quota exceeded: {exc.description}", exc.retry_after) from exc
        except ZaloUnauthorized as exc:
            log.error(
                "Zalo refused the bot token (401): check PAKN_ZALO_TOKEN; messages wait meanwhile"
            )
            raise RetryLater(f"Zalo token refused: {exc.description}") from exc
        except ZaloForbidden as exc:
            raise self._forbidden_error(chat_id, exc) from exc
        except (ZaloBadRequest, ZaloNotFound) as exc:
            raise Rejected(f"Zalo {exc.error_code}: {exc.description}") from exc
        except ZaloError as exc:
            # Server errors, malformed answers, network errors and timeouts.
            raise RetryLater(f"{type(exc).__name__}: {exc}") from exc
        self._forbidden.pop(chat_id, None)
        self._last_success = time.monotonic()

    def _forbidden_error(self, chat_id: str, exc: ZaloForbidden) -> Exception:
        strikes = self._forbidden.get(chat_id)
        now = time.monotonic()
        if strikes is None:
            strikes = self._forbidden[chat_id] = _Strikes(0, now)
        strikes.count += 1
        if strikes.count >= FORBIDDEN_STRIKES and self._last_success > strikes.first_at:
            self._forbidden.pop(chat_id, None)
            return Unreachable(f"Zalo 403 {strikes.count} times: {exc.description}")
        return RetryLater(f"Zalo 403 ({strikes.count}): {exc.description}")

    async def _call_send_message(self, chat_id: str, text: str) -> None:
        async with self._pacer.slot(chat_id):
            await self.client.send_message(chat_id, text)

    async def _send(
        self, chat_id: str, message: OutgoingMessage, files: Sequence[OutboundFile]
    ) -> None:
        notes: list[str] = []
        links = self._public_links()
        if files and links is None:
            notes.append(photos_note(len(files)))
        elif files and links is not None:
            failed = 0
            for file in files:
                url = links.attachment_url(file.attachment_id, mime_type=file.mime_type)
                try:
                    async with self._pacer.slot(chat_id):
                        await self.client.send_photo(chat_id, photo=url)
                except ZaloBadRequest as exc:
                    # Zalo could not fetch or refused the picture: say so in the text
                    # rather than failing the whole message.
                    log.warning("Zalo refused a photo link: %s", exc.description)
                    failed += 1
            if failed:
                notes.append(photos_note(failed))
        if message.document_path:
            notes.append(self._document_line(message.document_path, message.document_name))
        body = render(replace(message, document_path=None, document_name=None))
        text = "\n".join([*notes, body]) if notes else body
        for part in split_text(text):
            await self._call_send_message(chat_id, part)

    def _document_line(self, path: str, name: str | None) -> str:
        display = name or Path(path).name
        links = self._public_links()
        if links is not None and self.data_dir is not None:
            try:
                relative = Path(path).resolve().relative_to(self.data_dir.resolve())
            except ValueError:
                log.warning("document outside the data directory cannot be linked: %s", path)
            else:
                return document_link(display, links.document_url(relative.as_posix()))
        return document_note(display)


# --------------------------------------------------------------------------- the channel


class ZaloChannel:
    """Receives Zalo updates (long polling or webhook bodies) and hands them to the processor."""

    def __init__(
        self,
        client: ZaloBotClient,
        process: Process,
        *,
        downloader: PhotoDownloader | None = None,
        poll_timeout: int = 30,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
    ) -> None:
        self.client = client
        self.process = process
        self.downloader = downloader
        self.poll_timeout = poll_timeout
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._poller: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # Set while no polled update is being processed: stop() lets one finish.
        self._idle = asyncio.Event()
        self._idle.set()
        self._progress = asyncio.Event()
        #: Updates handed to the processor and committed (or dropped as not ours).
        self.fed = 0

    async def download(self, attachment: IncomingAttachment) -> bytes:
        if self.downloader is None:
            raise LookupError("no photo downloader")
        return await self.downloader(attachment)

    async def start(self, *, polling: bool = True) -> None:
        self._stopping.clear()
        if not polling:
            return
        try:
            await self.client.delete_webhook()
        except ZaloError as exc:
            # The poll loop deletes it again if getUpdates reports a conflict.
            log.warning("could not remove a Zalo webhook before polling: %s", exc)
        self._poller = asyncio.create_task(self._poll_loop(), name="zalo-poll")

    async def stop(self) -> None:
        self._stopping.set()
        if self._poller is not None:
            # A polled update exists nowhere else: let its processing finish.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), timeout=15)
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.client.close()
        if self.downloader is not None:
            await self.downloader.close()

    # ------------------------------------------------------------------ processing

    async def feed(self, update: ZaloUpdate) -> None:
        """Process one update. Raises when it could not be committed."""
        incoming = to_incoming(update)
        if incoming is not None:
            await self.process(incoming)
        self.fed += 1
        self._progress.set()

    async def handle_webhook_body(self, body: object) -> bool:
        """Process a webhook body (wrapped ``{ok, result}`` or bare ``{event_name,
        message}``). Returns False for a probe or anything that is not an update."""
        update = parse_update(body if isinstance(body, dict) else None)
        if update is None:
            return False
        await self.feed(update)
        return True

    async def wait_fed(self, count: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until ``count`` updates in all have been processed (tests, health checks)."""
        async with asyncio.timeout(timeout):
            while self.fed < count:
                self._progress.clear()
                await self._progress.wait()

    # ------------------------------------------------------------------ polling

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def _backoff(self, failures: int) -> float:
        return float(min(self.backoff_cap, self.backoff_base * 2.0 ** max(0, failures - 1)))

    async def _poll_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                update = await self.client.get_update(timeout=self.poll_timeout)
            except ZaloConflict:
                log.warning("a Zalo webhook is set while polling: deleting it")
                failures += 1
                try:
                    await self.client.delete_webhook()
                except ZaloError as exc:
                    log.warning("deleting the Zalo webhook failed: %s", exc)
                    await self._pause(self._backoff(failures))
                continue
            except ZaloUnauthorized:
                failures += 1
                log.error("Zalo refused the bot token (401): check PAKN_ZALO_TOKEN")
                await self._pause(self._backoff(failures))
                continue
            except ZaloRateLimited as exc:
                failures += 1
                await self._pause(exc.retry_after or self._backoff(failures))
                continue
            except ZaloError as exc:
                failures += 1
                log.warning("Zalo polling failed (%s); retrying", type(exc).__name__)
                await self._pause(self._backoff(failures))
                continue
            failures = 0
            if update is None:
                if self.poll_timeout <= 0:
                    await self._pause(1.0)
                continue
            self._idle.clear()
            try:
                await self._process_polled(update)
            finally:
                self._idle.set()

    async def _process_polled(self, update: ZaloUpdate) -> None:
        """Zalo will not hand this update out again: keep trying until it is committed."""
        attempts = 0
        while True:
            try:
                await self.feed(update)
                return
            except Exception:
                attempts += 1
                message_id = update.message.message_id if update.message else "?"
                if self._stopping.is_set():
                    log.error("stopping with Zalo message %s not processed", message_id)
                    return
                log.exception("Zalo message %s could not be processed; retrying", message_id)
                await self._pause(self._backoff(attempts))
