"""Fixtures of the Telegram stories: the fake Bot API server and the bot polling it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import Runtime
from bot.clock import FakeClock
from bot.config import AppConfig
from tests.fakes.telegram_server import FakeTelegramServer
from tests.harness import telegram_runtime


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
async def bot(
    config: AppConfig, clock: FakeClock, server: FakeTelegramServer
) -> AsyncIterator[Runtime]:
    async with telegram_runtime(config, clock, server) as runtime:
        yield runtime
