"""Telegram requests that only send (sendMessage, sendPhoto, answerCallbackQuery) made by a
child process.

A conversation step costs the bot process two kinds of work: the HTTP stack of
python-telegram-bot and httpx, and the database. In one process both hold the GIL, so the bot
uses one core however many the machine has. Here the sending half runs in a child process fed
over a pipe, so the two halves use two cores.

Nothing about delivery changes: the outbox dispatcher in the parent still claims rows, keeps
the order per chat, retries and marks rows sent; ``SendProcess.send`` is its
``ChannelSender`` and waits for the child's answer. The child owns the bot token's pacing
(``TelegramSender``). If the child dies, the sends waiting on it fail with ``RetryLater``
(the dispatcher puts the rows back in the queue) and the next send starts a new child. If
the parent dies, the child sees the pipe close and exits.

Frames on the pipe are a 4-byte length and a pickled dict; the child is our own code on the
other end of a private pipe, so pickle is safe here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import pickle
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.dispatcher import OutboundFile, Rejected, RetryLater, Unreachable
from bot.messages import Channel, OutgoingMessage
from storage.outbox import message_to_payload, payload_to_message

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
# A send is a few requests of at most 20 s each; past this the child is taken as stuck.
SEND_TIMEOUT = 300.0
# A child that keeps dying is started again at most this often.
RESTART_INTERVAL = 1.0
STOP_TIMEOUT = 10.0
DRAIN_TIMEOUT = 2.0


@dataclass(frozen=True)
class SenderSettings:
    """What the child needs to build its ``TelegramSender``. The token travels over the
    pipe, never on the command line (which other users of the machine can read)."""

    token: str
    base_url: str
    base_file_url: str
    rate_limited: bool
    per_chat_interval: float
    overall_per_second: float
    timeout: float = 20.0


def _frame(body: dict[str, Any]) -> bytes:
    data = pickle.dumps(body, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


async def _read_frame(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    try:
        header = await reader.readexactly(_LENGTH.size)
        (length,) = _LENGTH.unpack(header)
        body: dict[str, Any] = pickle.loads(await reader.readexactly(length))
    except asyncio.IncompleteReadError:
        return None
    return body


def _outcome_to_error(outcome: tuple[Any, ...] | None) -> Exception | None:
    if outcome is None:
        return None
    kind, reason, retry_after = outcome
    if kind == "unreachable":
        return Unreachable(reason)
    if kind == "rejected":
        return Rejected(reason)
    return RetryLater(reason, retry_after=retry_after)


def _error_to_outcome(error: BaseException) -> tuple[str, str, float | None]:
    if isinstance(error, Unreachable):
        return ("unreachable", str(error), None)
    if isinstance(error, Rejected):
        return ("rejected", str(error), None)
    if isinstance(error, RetryLater):
        return ("retry", str(error), error.retry_after)
    return ("retry", f"{type(error).__name__}: {error}", None)


@dataclass(eq=False)
class _Child:
    """One child process and the sends waiting for its answers."""

    process: asyncio.subprocess.Process
    pending: dict[int, asyncio.Future[tuple[Any, ...] | None]] = field(default_factory=dict)
    ended: bool = False

    def usable(self) -> bool:
        stdin = self.process.stdin
        return (
            not self.ended
            and self.process.returncode is None
            and stdin is not None
            and not stdin.is_closing()
        )

    def write(self, body: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(_frame(body))


class SendProcess:
    """The parent's side: a ``ChannelSender`` for Telegram whose requests a child makes."""

    channel = Channel.TELEGRAM.value
    only_chats: Sequence[str] | None = None

    def __init__(self, settings: SenderSettings) -> None:
        self.settings = settings
        self._child: _Child | None = None
        self._readers: set[asyncio.Task[None]] = set()
        self._answers: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._starting: asyncio.Lock | None = None
        self._last_start = 0.0
        self._stopping = False
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self._child.process.pid if self._child is not None else None

    @property
    def returncode(self) -> int | None:
        """The exit code of the latest child, None while it runs."""
        return self._child.process.returncode if self._child is not None else None

    async def start(self) -> None:
        self._stopping = False
        await self._running_child()

    async def stop(self) -> None:
        """Let the child finish what it has (it exits when its input closes)."""
        self._stopping = True
        if self._answers:
            await asyncio.wait(self._answers, timeout=STOP_TIMEOUT)
        child = self._child
        if child is not None:
            if child.process.stdin is not None:
                child.process.stdin.close()
            try:
                await asyncio.wait_for(child.process.wait(), timeout=STOP_TIMEOUT)
            except TimeoutError:
                child.process.kill()
                await child.process.wait()
        if self._readers:
            await asyncio.wait(self._readers)

    async def send(
        self, chat_id: str, message: OutgoingMessage, files: Sequence[OutboundFile]
    ) -> None:
        child = await self._running_child()
        # No await between the check above and registering: the reader cannot fail this
        # child's pending sends in between without the next check seeing it.
        request_id = next(self._ids)
        future: asyncio.Future[tuple[Any, ...] | None] = asyncio.get_running_loop().create_future()
        child.pending[request_id] = future
        child.write(
            {
                "op": "send",
                "id": request_id,
                "chat_id": chat_id,
                "payload": message_to_payload(message),
                "files": [(f.attachment_id, str(f.path), f.mime_type) for f in files],
            }
        )
        try:
            outcome = await asyncio.wait_for(future, timeout=SEND_TIMEOUT)
        except TimeoutError:
            raise RetryLater("the sender process did not answer in time") from None
        finally:
            child.pending.pop(request_id, None)
        error = _outcome_to_error(outcome)
        if error is not None:
            raise error

    def answer_callback(self, query_id: str) -> None:
        """Stop the spinner on a pressed button; nobody waits for the result, and a button
        that keeps spinning is only cosmetic, so this never fails."""
        child = self._child
        if child is not None and child.usable():
            child.write({"op": "answer", "query_id": query_id})
            return
        task = asyncio.create_task(self._answer_later(query_id))
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _answer_later(self, query_id: str) -> None:
        with contextlib.suppress(RetryLater):
            child = await self._running_child()
            child.write({"op": "answer", "query_id": query_id})

    # ------------------------------------------------------------------ the child

    async def _running_child(self) -> _Child:
        child = self._child
        if child is not None and child.usable():
            return child
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            child = self._child
            if child is not None and child.usable():
                return child
            if self._stopping:
                raise RetryLater("the bot is stopping")
            wait = self._last_start + RESTART_INTERVAL - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_start = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.channels.send_process",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            child = _Child(process)
            child.write({"op": "init", **asdict(self.settings)})
            self._child = child
            self.starts += 1
            reader = asyncio.create_task(self._read_answers(child), name="telegram-sender")
            self._readers.add(reader)
            reader.add_done_callback(self._readers.discard)
            return child

    async def _read_answers(self, child: _Child) -> None:
        assert child.process.stdout is not None
        while (frame := await _read_frame(child.process.stdout)) is not None:
            future = child.pending.get(frame["id"])
            if future is not None and not future.done():
                future.set_result(frame.get("outcome"))
        # Anything still waiting goes back to the outbox queue (no await before this).
        child.ended = True
        for future in child.pending.values():
            if not future.done():
                future.set_result(("retry", "the sender process stopped", None))
        code = await child.process.wait()
        if not self._stopping:
            log.warning("the Telegram sender process stopped (exit code %s)", code)


# ---------------------------------------------------------------------- child side


async def _initialize(bot: Any) -> None:
    from telegram.error import InvalidToken, TelegramError

    failures = 0
    while True:
        try:
            await bot.initialize()
            return
        except InvalidToken:
            # PTB's message quotes the token; say only what happened.
            log.error("Telegram rejected the bot token; the sender keeps trying")
        except TelegramError as exc:
            log.warning("sender could not reach Telegram (%s); retrying", type(exc).__name__)
        failures += 1
        await asyncio.sleep(min(30.0, 0.5 * 2**failures))


async def _serve(reader: asyncio.StreamReader, output: Any) -> None:
    from bot.channels.telegram import POOL_SIZE, TelegramSender, build_application

    # Frames are read as they come, so that a parent gone while Telegram is still out of
    # reach (``_initialize`` retrying) is noticed too.
    frames: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    closed = asyncio.Event()

    async def read_all() -> None:
        while (frame := await _read_frame(reader)) is not None:
            frames.put_nowait(frame)
        frames.put_nowait(None)
        closed.set()

    reading = asyncio.create_task(read_all())
    init = await frames.get()
    if init is None or init.get("op") != "init":
        return
    settings = SenderSettings(**{k: v for k, v in init.items() if k != "op"})
    application = build_application(
        settings.token,
        base_url=settings.base_url,
        base_file_url=settings.base_file_url,
        rate_limited=settings.rate_limited,
        timeout=settings.timeout,
    )
    initializing = asyncio.create_task(_initialize(application.bot))
    parent_gone = asyncio.create_task(closed.wait())
    await asyncio.wait({initializing, parent_gone}, return_when=asyncio.FIRST_COMPLETED)
    parent_gone.cancel()
    if not initializing.done():
        initializing.cancel()
        return
    in_flight = asyncio.Semaphore(POOL_SIZE)
    sender = TelegramSender(
        application.bot,
        per_chat_interval=settings.per_chat_interval,
        overall_per_second=settings.overall_per_second,
        in_flight=in_flight,
    )
    tasks: set[asyncio.Task[None]] = set()

    def answer(body: dict[str, Any]) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            output.write(_frame(body))

    async def send(frame: dict[str, Any]) -> None:
        files = [OutboundFile(i, Path(p), m) for i, p, m in frame["files"]]
        outcome: tuple[Any, ...] | None = None
        try:
            await sender.send(frame["chat_id"], payload_to_message(frame["payload"]), files)
        except Exception as error:
            outcome = _error_to_outcome(error)
        answer({"id": frame["id"], "outcome": outcome})

    async def answer_callback(query_id: str) -> None:
        from telegram.error import TelegramError

        with contextlib.suppress(TelegramError):
            async with in_flight:
                await application.bot.answer_callback_query(query_id)

    while (frame := await frames.get()) is not None:
        if frame["op"] == "send":
            task = asyncio.create_task(send(frame))
        elif frame["op"] == "answer":
            task = asyncio.create_task(answer_callback(frame["query_id"]))
        else:
            continue
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    # The parent closed the pipe. When it stops, its dispatcher has had every send answered
    # first, so only button answers can be under way. When it died, nobody can record what
    # is sent now and the outbox will send it again: stop at once rather than twice.
    if tasks:
        _done, pending = await asyncio.wait(tasks, timeout=DRAIN_TIMEOUT)
        for task in pending:
            task.cancel()
    with contextlib.suppress(Exception):
        await application.shutdown()
    await reading


async def _child_main() -> None:
    # Frames go to the original stdout; anything else printed to stdout goes to stderr.
    frames_fd = os.dup(1)
    os.dup2(2, 1)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    transport, _protocol = await loop.connect_write_pipe(
        asyncio.Protocol, os.fdopen(frames_fd, "wb", buffering=0)
    )
    try:
        await _serve(reader, transport)
    finally:
        transport.close()


if __name__ == "__main__":
    from bot.logging_setup import setup_logging

    setup_logging()
    sys.setswitchinterval(0.001)
    asyncio.run(_child_main())
