"""The outbox dispatcher: claims queued messages, sends them through channel senders and
records the outcome.

* Messages to one chat go out in order, one chat worker per chat, spaced by the channel's
  per-chat interval (Telegram: 1 message/s per private chat). The overall rate of a bot
  token is enforced inside the channel sender (python-telegram-bot's ``AIORateLimiter``).
* ``RetryLater`` (429 with ``retry_after``, timeouts, network errors, 5xx) → the row goes
  back to the queue with exponential backoff and jitter, or after ``retry_after`` exactly;
  a ``retry_after`` also pauses the whole channel, as Telegram asks.
* ``Unreachable`` (the person blocked the bot) → the row is closed as unreachable and the
  ``on_unreachable`` hook runs in the same transaction (it marks the person and tells the
  unit head).
* ``Rejected`` (our request was wrong) → the row is kept as failed with the error, for
  ``pakn outbox``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.messages import OutgoingMessage
from storage import outbox
from storage.db import Database
from storage.models import Attachment, OutboxMessage
from storage.outbox import ClaimedMessage, LocalClaim, payload_to_message

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A channel could not deliver a message."""


class RetryLater(DeliveryError):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Unreachable(DeliveryError):
    """The person cannot be reached on this channel any more (blocked the bot)."""


class Rejected(DeliveryError):
    """The channel refused the request as wrong; sending it again would not help."""


@dataclass(frozen=True)
class OutboundFile:
    attachment_id: int
    path: Path
    mime_type: str


class ChannelSender(Protocol):
    """Sends one outbox message on one channel. Pacing (rate limits of the platform) is the
    sender's business; the dispatcher only keeps the order per chat."""

    channel: str
    # Chats this process may send to on this channel; None for all (the console prints only
    # its own user's messages).
    only_chats: Sequence[str] | None

    async def send(
        self, chat_id: str, message: OutgoingMessage, files: Sequence[OutboundFile]
    ) -> None: ...


SENT_BATCH_DELAY = 0.02
UnreachableHook = Callable[[Session, ClaimedMessage, datetime], None]


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _attachment_files(session: Session, ids: Sequence[int]) -> list[tuple[int, str, str]]:
    rows = session.execute(
        select(Attachment.id, Attachment.path, Attachment.mime_type).where(Attachment.id.in_(ids))
    ).all()
    order = {attachment_id: index for index, attachment_id in enumerate(ids)}
    return sorted(((r[0], r[1], r[2]) for r in rows), key=lambda r: order[r[0]])


def _mark_many_sent(session: Session, ids: Sequence[int], worker: str, now: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker)
        .values(
            status=outbox.SENT,
            sent_at=now,
            claimed_until=None,
            attempts=OutboxMessage.attempts + 1,
        )
    )


class OutboxDispatcher:
    def __init__(
        self,
        db: Database,
        senders: Sequence[ChannelSender],
        clock: Clock,
        *,
        attachments_root: Path,
        max_attempts: int = 8,
        lease: timedelta = timedelta(seconds=60),
        backoff_base: float = 2.0,
        backoff_cap: float = 600.0,
        poll_interval: float = 1.0,
        on_unreachable: UnreachableHook | None = None,
        worker_id: str | None = None,
        claim_batch: int = 200,
    ) -> None:
        self.db = db
        self.senders = {sender.channel: sender for sender in senders}
        self.clock = clock
        self.attachments_root = attachments_root
        self.max_attempts = max_attempts
        self.lease = lease
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.poll_interval = poll_interval
        self.on_unreachable = on_unreachable
        self.claim_batch = claim_batch
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()
        self._queues: dict[tuple[str, str], deque[ClaimedMessage]] = {}
        self._workers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._paused_until: dict[str, float] = {}
        self._sent: list[int] = []
        self._sent_writer: asyncio.Task[None] | None = None
        self._pump_lock = asyncio.Lock()
        self._stopping = False
        self.delivered = 0

    # ------------------------------------------------------------------ driving

    def local_claim(self) -> LocalClaim:
        """A claim for rows written now that this dispatcher can send at once."""
        return LocalClaim(
            worker=self.worker_id,
            lease=self.lease,
            channels={name: sender.only_chats for name, sender in self.senders.items()},
        )

    def accept(self, claimed: Sequence[ClaimedMessage]) -> None:
        """Send rows claimed in a committed transaction (see ``LocalClaim``). While stopping,
        they are left claimed; the next start takes them back."""
        if self._stopping:
            return
        for message in claimed:
            self._enqueue(message)

    def kick(self) -> None:
        """Something was queued: claim and send now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Claim and send until cancelled."""
        try:
            released = await self.db.run(
                outbox.release_abandoned, host=socket.gethostname(), is_alive=_process_alive
            )
        except Exception:
            log.exception("could not look for messages left by a stopped process")
            released = 0
        if released:
            log.info("took back %d message(s) left by a process that stopped mid-send", released)
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            self._wake.clear()
            try:
                await self.pump()
            except Exception:
                log.exception("outbox pump failed; retrying at the next tick")

    async def pump(self) -> int:
        """Claim every due row and hand it to its chat worker; returns how many."""
        # One pump at a time: ``flush`` must not finish while the background loop's claim
        # is still on its way back from the database.
        async with self._pump_lock:
            return await self._pump()

    async def _pump(self) -> int:
        total = 0
        while True:
            claimed = await self.db.run(
                outbox.claim,
                worker=self.worker_id,
                now=self.clock.now(),
                channels=list(self.senders),
                lease=self.lease,
                limit=self.claim_batch,
                only_chats={
                    name: sender.only_chats
                    for name, sender in self.senders.items()
                    if sender.only_chats is not None
                },
            )
            for message in claimed:
                self._enqueue(message)
            total += len(claimed)
            if len(claimed) < self.claim_batch:
                return total

    async def flush(self, within: float = 30.0) -> None:
        """Send everything that is due now and wait until it has been handled."""
        async with asyncio.timeout(within):
            while True:
                claimed = await self.pump()
                await self._wait_workers()
                await self._write_sent()
                if claimed == 0 and not self._workers:
                    return

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        await self._wait_workers()
        await self._write_sent()

    async def _wait_workers(self) -> None:
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    # ------------------------------------------------------------------ per chat

    def _enqueue(self, message: ClaimedMessage) -> None:
        key = (message.channel, message.chat_id)
        self._queues.setdefault(key, deque()).append(message)
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._chat_worker(key))

    async def _chat_worker(self, key: tuple[str, str]) -> None:
        queue = self._queues[key]
        try:
            while queue:
                message = queue.popleft()
                sender = self.senders[message.channel]
                await self._wait_while_paused(sender.channel)
                await self._deliver(sender, message)
        finally:
            self._queues.pop(key, None)
            self._workers.pop(key, None)

    async def _wait_while_paused(self, channel: str) -> None:
        paused = self._paused_until.get(channel, 0.0) - time.monotonic()
        if paused > 0:
            await asyncio.sleep(paused)

    async def _deliver(self, sender: ChannelSender, claimed: ClaimedMessage) -> None:
        try:
            message = payload_to_message(claimed.payload)
            files = await self._files(message)
            await sender.send(claimed.chat_id, message, files)
        except RetryLater as exc:
            await self._retry(claimed, str(exc), exc.retry_after, channel=sender.channel)
        except Unreachable as exc:
            await self.db.run(self._give_up_unreachable, claimed, str(exc))
        except Rejected as exc:
            log.warning("outbox %s rejected by %s: %s", claimed.id, sender.channel, exc)
            await self.db.run(
                outbox.mark_given_up, claimed.id, worker=self.worker_id, error=str(exc)
            )
        except Exception as exc:
            # A bug or an unexpected error: keep the row, try again later.
            log.exception("outbox %s: unexpected error from %s", claimed.id, sender.channel)
            await self._retry(claimed, f"{type(exc).__name__}: {exc}", None, channel=sender.channel)
        else:
            self.delivered += 1
            self._sent.append(claimed.id)
            self._schedule_sent_write()

    async def _retry(
        self, claimed: ClaimedMessage, error: str, retry_after: float | None, *, channel: str
    ) -> None:
        attempts = claimed.attempts + 1
        if retry_after is not None:
            # Telegram's flood control is per bot: hold back the whole channel.
            self._paused_until[channel] = time.monotonic() + retry_after
            delay = retry_after
        else:
            delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempts - 1))
            delay *= random.uniform(0.5, 1.5)
        if attempts >= self.max_attempts and retry_after is None:
            log.warning("outbox %s failed after %d attempts: %s", claimed.id, attempts, error)
            await self.db.run(outbox.mark_given_up, claimed.id, worker=self.worker_id, error=error)
            return
        retry_at = self.clock.now() + timedelta(seconds=delay)
        await self.db.run(
            outbox.mark_retry, claimed.id, worker=self.worker_id, error=error, retry_at=retry_at
        )
        asyncio.get_running_loop().call_later(delay, self._wake.set)

    def _give_up_unreachable(self, session: Session, claimed: ClaimedMessage, error: str) -> None:
        outbox.mark_given_up(
            session, claimed.id, worker=self.worker_id, error=error, status=outbox.UNREACHABLE
        )
        if self.on_unreachable is not None:
            self.on_unreachable(session, claimed, self.clock.now())

    async def _files(self, message: OutgoingMessage) -> list[OutboundFile]:
        if not message.attachment_ids:
            return []
        rows = await self.db.run(_attachment_files, list(message.attachment_ids))
        return [OutboundFile(r[0], self.attachments_root / r[1], r[2]) for r in rows]

    def _schedule_sent_write(self) -> None:
        # Sent rows are marked in batches: one transaction for many messages.
        if self._sent_writer is None or self._sent_writer.done():
            self._sent_writer = asyncio.create_task(self._write_sent_soon())

    async def _write_sent_soon(self) -> None:
        await asyncio.sleep(SENT_BATCH_DELAY)
        await self._write_sent()

    async def _write_sent(self) -> None:
        while self._sent:
            ids, self._sent = self._sent, []
            await self.db.run(_mark_many_sent, ids, self.worker_id, self.clock.now())
