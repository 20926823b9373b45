"""Story-test helpers: talk to the bot as a person on the console channel."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from bot.app import Runtime, build_runtime
from bot.channels.console import ConsoleChannel, ConsoleSender
from bot.clock import Clock
from bot.config import AppConfig
from bot.messages import OutgoingMessage


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
                for index, option in enumerate(message.options, 1):
                    if label.lower() in option.label.lower():
                        return await self.say(str(index))
                labels = [o.label for o in message.options]
                raise AssertionError(f"no option {label!r} among {labels}")
        raise AssertionError("no message with options yet")

    async def send_photo(self, path: Path) -> list[OutgoingMessage]:
        return await self.say(f"/anh {path}")

    async def receive_pending(self) -> list[OutgoingMessage]:
        """Messages that arrive without this person writing (notifications)."""
        before = len(self.transcript)
        await self.runtime.dispatcher.flush()
        return self.transcript[before:]


def texts_of(messages: Sequence[OutgoingMessage]) -> str:
    return "\n".join(m.text for m in messages)
