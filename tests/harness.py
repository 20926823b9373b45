"""Story-test helpers: talk to the bot as a person on the console channel."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.app import Runtime, build_runtime
from bot.channels.console import ConsoleChannel, ConsoleSender
from bot.clock import Clock
from bot.config import AppConfig
from bot.messages import OutgoingMessage
from tests.fakes.telegram_server import FakeTelegramServer, SentMessage


def console_runtime(config: AppConfig, clock: Clock, **kwargs: object) -> Runtime:
    """A runtime with a console channel that records every user's messages."""
    runtime = build_runtime(
        config,
        clock=clock,
        console=ConsoleSender(None, output=io.StringIO()),
        **kwargs,  # type: ignore[arg-type]
    )
    runtime.db.migrate()
    return runtime


@asynccontextmanager
async def running_console(config: AppConfig, clock: Clock, **kwargs: Any) -> AsyncIterator[Runtime]:
    """:func:`console_runtime`, stopped and closed at the end."""
    runtime = console_runtime(config, clock, **kwargs)
    try:
        yield runtime
    finally:
        await runtime.dispatcher.stop()
        runtime.db.close()


class Person:
    """One console user: ``say`` types a line and returns the bot's replies to it."""

    def __init__(self, runtime: Runtime, user_id: str, name: str | None = None) -> None:
        self.runtime = runtime
        self.user_id = user_id
        self.channel = ConsoleChannel(user_id, name)
        assert runtime.console is not None
        self.console = runtime.console

    @property
    def transcript(self) -> list[OutgoingMessage]:
        return self.console.transcripts.get(self.user_id, [])

    @property
    def last(self) -> OutgoingMessage:
        assert self.transcript, f"{self.user_id} has received nothing"
        return self.transcript[-1]

    async def say(self, line: str) -> list[OutgoingMessage]:
        before = len(self.transcript)
        message = self.channel.to_message(line)
        assert message is not None, "empty line"
        await self.runtime.processor.process(message)
        await self.runtime.dispatcher.flush()
        return self.transcript[before:]

    async def choose(self, label: str) -> list[OutgoingMessage]:
        """Pick the option whose label contains ``label`` from the latest message with options."""
        for message in reversed(self.transcript):
            if message.options:
                numbered = list(enumerate(message.options, 1))
                exact = [(i, o) for i, o in numbered if o.label.lower() == label.lower()]
                for index, option in exact or numbered:
                    if label.lower() in option.label.lower():
                        return await self.say(str(index))
                labels = [o.label for o in message.options]
                raise AssertionError(f"no option {label!r} among {labels}")
        raise AssertionError("no message with options yet")

    async def register(self, role: str, unit: str | None = None) -> list[OutgoingMessage]:
        """Join as staff with a fresh invite code, as after `pakn invite`."""
        return await self.say(f"/dangky {invite_code(self.runtime, role, unit)}")

    async def send_photo(self, path: Path) -> list[OutgoingMessage]:
        return await self.say(f"/anh {path}")

    async def receive_pending(self) -> list[OutgoingMessage]:
        """Messages that arrive without this person writing (notifications)."""
        before = len(self.transcript)
        await self.runtime.dispatcher.flush()
        return self.transcript[before:]


def texts_of(messages: Sequence[OutgoingMessage]) -> str:
    return "\n".join(m.text for m in messages)


# ----------------------------------------------------------------------------- Telegram


def telegram_config(config: AppConfig, server: FakeTelegramServer) -> AppConfig:
    """The config pointed at a fake Bot API server, with a short long-poll."""
    telegram = replace(
        config.telegram,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        poll_timeout=1,
    )
    return replace(config, telegram=telegram)


@asynccontextmanager
async def telegram_runtime(
    config: AppConfig, clock: Clock, server: FakeTelegramServer, **kwargs: Any
) -> AsyncIterator[Runtime]:
    """The real python-telegram-bot Application polling the fake server."""
    options: dict[str, Any] = {
        "per_chat_interval": 0.0,
        "poll_interval": 0.05,
        "backoff_base": 0.05,
        "telegram_rate_limited": False,
    }
    options.update(kwargs)
    runtime = build_runtime(
        telegram_config(config, server), clock=clock, telegram_token=server.token, **options
    )
    runtime.db.migrate()
    await runtime.start(scheduler=False)
    try:
        yield runtime
    finally:
        await runtime.stop()
        runtime.db.close()


class TelegramUser:
    """A person writing to the bot on Telegram through the fake server."""

    def __init__(
        self, server: FakeTelegramServer, runtime: Runtime, user_id: int, name: str = "Lan"
    ) -> None:
        self.server = server
        self.runtime = runtime
        self.user_id = user_id
        self.name = name

    @property
    def received(self) -> list[SentMessage]:
        return self.server.messages_to(self.user_id)

    @property
    def last(self) -> SentMessage:
        assert self.received, f"user {self.user_id} has received nothing"
        return self.received[-1]

    async def _settle(self, before: int) -> list[SentMessage]:
        # Updates are confirmed only after they are processed and committed; then the
        # replies are in the outbox and one flush sends them.
        await self.server.wait_until_consumed()
        await self.runtime.dispatcher.flush()
        return self.received[before:]

    async def say(self, text: str) -> list[SentMessage]:
        before = len(self.received)
        self.server.add_text(self.user_id, text, first_name=self.name)
        return await self._settle(before)

    async def press(self, label: str) -> list[SentMessage]:
        """Press the button containing ``label`` on the latest message that has buttons."""
        for message in reversed(self.received):
            buttons = message.buttons
            if not buttons:
                continue
            exact = [(t, d) for t, d in buttons if t.lower() == label.lower()]
            for text, data in exact or buttons:
                if label.lower() in text.lower() and data is not None:
                    before = len(self.received)
                    self.server.press_button(self.user_id, data, message_id=message.message_id)
                    return await self._settle(before)
            raise AssertionError(f"no button {label!r} among {[t for t, _ in buttons]}")
        raise AssertionError("no message with buttons yet")

    async def send(self, inject: Callable[[], object]) -> list[SentMessage]:
        """Send something else (photo, sticker, location…) with a server ``add_*`` call."""
        before = len(self.received)
        inject()
        return await self._settle(before)


def sent_texts(messages: Sequence[SentMessage]) -> str:
    return "\n".join(m.text or "" for m in messages)


def invite_code(
    runtime: Runtime, role: str, unit: str | None = None, name: str | None = None
) -> str:
    """What `pakn invite` prints: a one-time code for a role."""
    from storage.people import create_invite

    return runtime.db.call(
        create_invite, role=role, unit=unit, now=runtime.clock.now(), display_name=name
    )
