"""From an incoming message to committed state: the one path every channel uses.

1. Repeated deliveries are dropped (update id / message id remembered in the database).
2. Photos are downloaded at once (channel URLs expire), checked and cleaned.
3. The router runs in one database transaction that also records the delivery as processed
   and queues the replies in the outbox.
4. After the commit the dispatcher is woken to send the replies.

Messages of one person are processed in order; different people concurrently.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.channels.base import Downloader
from bot.clock import Clock
from bot.dispatcher import OutboxDispatcher
from bot.messages import AttachmentKind, IncomingAttachment, IncomingMessage, OutgoingMessage
from handlers import texts
from handlers.context import Context, ReceivedPhoto, Services
from handlers.router import Router
from storage import conversations, outbox
from storage.attachments import AttachmentStore, ImageRejected
from storage.db import Database
from storage.models import ProcessedUpdate
from storage.outbox import LOCAL_CLAIM, LocalClaim
from storage.people import Sender, identify

log = logging.getLogger(__name__)

IMAGE_MIME_TYPES = ("image/jpeg", "image/png", "image/webp")
# Built once; a Core INSERT costs a fraction of adding an object and flushing the session.
_RECORD_PROCESSED = insert(cast(Table, ProcessedUpdate.__table__))


@dataclass
class StepResult:
    duplicate: bool = False
    outbox_ids: list[int] = field(default_factory=list)
    # Work that must wait for the commit (deleting files no longer referenced).
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    claim: LocalClaim | None = None
    failed: bool = False


class KeyedLocks:
    """One asyncio lock per key, dropped again when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[object, tuple[asyncio.Lock, int]] = {}

    async def acquire(self, key: object) -> None:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        await lock.acquire()

    def release(self, key: object) -> None:
        lock, users = self._locks[key]
        lock.release()
        if users <= 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)


def is_photo(attachment: IncomingAttachment) -> bool:
    return attachment.kind == AttachmentKind.PHOTO or (
        attachment.kind == AttachmentKind.DOCUMENT
        and (attachment.mime_type or "").lower() in IMAGE_MIME_TYPES
    )


class Processor:
    def __init__(
        self,
        db: Database,
        services: Services,
        router: Router,
        attachments: AttachmentStore,
        clock: Clock,
        *,
        downloaders: Mapping[str, Downloader] | None = None,
        dispatcher: OutboxDispatcher | None = None,
    ) -> None:
        self.db = db
        self.services = services
        self.router = router
        self.attachments = attachments
        self.clock = clock
        self.downloaders: dict[str, Downloader] = dict(downloaders or {})
        self.dispatcher = dispatcher
        self._locks = KeyedLocks()
        self.processed = 0

    async def process(self, message: IncomingMessage) -> StepResult:
        """Handle one message (a webhook delivery, a console line)."""
        [result] = await self.process_many([message])
        return result

    async def process_many(self, messages: Sequence[IncomingMessage]) -> list[StepResult]:
        """Handle a batch (one long poll's updates) in ONE transaction, each message in its
        own savepoint: one commit and one trip to the database thread for the whole batch.
        A message that fails is rolled back alone and its sender gets an apology. Raises
        only when the batch could not be committed at all (then nothing of it was)."""
        keys = sorted({(m.channel.value, m.user_id) for m in messages})
        for key in keys:
            await self._locks.acquire(key)
        try:
            return await self._process_many(messages)
        finally:
            for key in keys:
                self._locks.release(key)

    async def _process_many(self, messages: Sequence[IncomingMessage]) -> list[StepResult]:
        photos = [await self._receive_photos(m) if m.attachments else [] for m in messages]
        try:
            results = await self.db.run(self._steps, list(messages), photos)
        except Exception:
            for received in photos:
                self._forget(received)
            raise
        failed = [m for m, r in zip(messages, results, strict=True) if r.failed]
        if failed:
            await self.db.run(self._apologise, failed)
        for received, result in zip(photos, results, strict=True):
            if result.failed or result.duplicate:
                self._forget(received)
            for callback in result.after_commit:
                try:
                    callback()
                except OSError:
                    log.warning("clean-up after a step failed", exc_info=True)
        self.processed += sum(1 for r in results if not (r.failed or r.duplicate))
        claim = results[0].claim if results else None
        self._committed(claim, kick=bool(failed) or claim is None or claim.others_queued)
        return results

    def _committed(self, claim: LocalClaim | None, *, kick: bool) -> None:
        """Hand what the steps claimed to the dispatcher; wake it for anything else."""
        if self.dispatcher is None:
            return
        if claim is not None:
            self.dispatcher.accept(claim.claimed)
        if kick:
            self.dispatcher.kick()

    # ------------------------------------------------------------------ database side

    def _steps(
        self,
        session: Session,
        messages: list[IncomingMessage],
        photos: list[list[ReceivedPhoto]],
        /,
    ) -> list[StepResult]:
        claim = self.dispatcher.local_claim() if self.dispatcher is not None else None
        if claim is not None:
            session.info[LOCAL_CLAIM] = claim
        results: list[StepResult] = []
        for message, received in zip(messages, photos, strict=True):
            claimed_before = len(claim.claimed) if claim is not None else 0
            try:
                with session.begin_nested():
                    result = self._step(session, message, received)
            except IntegrityError:
                # Delivered before (or by another process at the same moment).
                result = StepResult(duplicate=True)
            except Exception:
                log.exception("handling a %s message failed", message.channel)
                result = StepResult(failed=True)
            if (result.duplicate or result.failed) and claim is not None:
                del claim.claimed[claimed_before:]
            result.claim = claim
            results.append(result)
        return results

    def _step(
        self, session: Session, message: IncomingMessage, photos: list[ReceivedPhoto]
    ) -> StepResult:
        now = self.clock.now()
        if message.dedupe_key:
            # A repeated delivery fails here with an IntegrityError (primary key).
            session.execute(
                _RECORD_PROCESSED,
                {
                    "channel": message.channel.value,
                    "update_key": message.dedupe_key,
                    "processed_at": now,
                },
            )
        person, identity = identify(
            session,
            Sender(message.channel.value, message.user_id, message.chat_id, message.display_name),
            commune=self.services.config.commune.id,
            now=now,
        )
        conversation = conversations.load(session, person.id, now=now)
        ctx = Context(
            session=session,
            services=self.services,
            person=person,
            identity=identity,
            conversation=conversation,
            message=message,
            now=now,
            photos=photos,
        )
        self._expire_draft(ctx)
        self.router.handle(ctx)
        ctx.flush_preface()
        session.flush()
        unused = {p.stored.path for p in photos if p.stored} - ctx.kept_paths
        for path in unused:
            ctx.after_commit.append(functools.partial(self.attachments.delete, path))
        return StepResult(outbox_ids=ctx.outbox_ids, after_commit=ctx.after_commit)

    def _expire_draft(self, ctx: Context) -> None:
        expires = ctx.conversation.expires_at
        if expires is not None and expires < ctx.now and ctx.draft is not None:
            intake = self.router.flows.get("intake")
            if intake is not None:
                intake.cancel(ctx)

    def _apologise(self, session: Session, messages: list[IncomingMessage], /) -> None:
        now = self.clock.now()
        for message in messages:
            _person, identity = identify(
                session,
                Sender(
                    message.channel.value, message.user_id, message.chat_id, message.display_name
                ),
                commune=self.services.config.commune.id,
                now=now,
            )
            outbox.enqueue(
                session,
                identity,
                OutgoingMessage(text=texts.SYSTEM_ERROR),
                purpose="reply",
                now=now,
            )

    # ------------------------------------------------------------------ photos

    async def _receive_photos(self, message: IncomingMessage) -> list[ReceivedPhoto]:
        photos: list[ReceivedPhoto] = []
        limit = self.services.config.limits.max_photo_bytes
        for attachment in message.attachments:
            if not is_photo(attachment):
                continue
            if attachment.size is not None and attachment.size > limit:
                photos.append(ReceivedPhoto(error="too_large"))
                continue
            downloader = self.downloaders.get(message.channel.value)
            try:
                if downloader is None:
                    raise LookupError(f"no downloader for {message.channel}")
                data = await downloader(attachment)
            except Exception:
                log.warning("could not download a %s photo", message.channel, exc_info=True)
                photos.append(ReceivedPhoto(error="download_failed"))
                continue
            if len(data) > limit:
                photos.append(ReceivedPhoto(error="too_large"))
                continue
            try:
                stored = await asyncio.to_thread(
                    self.attachments.store_image, data, now=self.clock.now()
                )
            except ImageRejected as exc:
                photos.append(ReceivedPhoto(error=exc.reason))
                continue
            photos.append(ReceivedPhoto(stored=stored))
        return photos

    def _forget(self, photos: list[ReceivedPhoto]) -> None:
        for photo in photos:
            if photo.stored is not None:
                self.attachments.delete(photo.stored.path)
