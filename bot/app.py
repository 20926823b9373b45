"""Application assembly: one place that wires storage, handlers, channels and the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.channels.base import ChannelBinding, Downloader
from bot.channels.console import ConsoleSender, read_photo
from bot.channels.telegram import TelegramChannel, TelegramSender, build_application
from bot.clock import Clock, SystemClock
from bot.config import AppConfig
from bot.dispatcher import OutboxDispatcher
from bot.messages import IncomingMessage
from bot.processing import Processor
from bot.rules.deadlines import DeadlineCalculator
from bot.rules.delivery_windows import DeliveryWindows
from handlers.app import build_router
from handlers.context import Services
from handlers.router import Router
from storage.attachments import AttachmentStore
from storage.cases import CaseService
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: AppConfig
    clock: Clock
    db: Database
    store: AttachmentStore
    services: Services
    router: Router
    processor: Processor
    dispatcher: OutboxDispatcher
    channels: dict[str, ChannelBinding] = field(default_factory=dict)
    scheduler: AsyncIOScheduler | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def telegram(self) -> TelegramChannel | None:
        binding = self.channels.get("telegram")
        return binding.adapter if binding else None  # type: ignore[return-value]

    @property
    def console(self) -> ConsoleSender | None:
        binding = self.channels.get("console")
        return binding.sender if binding else None  # type: ignore[return-value]

    async def start(self, *, scheduler: bool = True) -> None:
        for binding in self.channels.values():
            if binding.start is not None:
                await binding.start()
        self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="outbox"))
        if scheduler:
            self.scheduler = AsyncIOScheduler(timezone=self.config.commune.timezone)
            self.scheduler.add_job(
                self.dispatcher.kick, "interval", seconds=2, id="outbox-tick", coalesce=True
            )
            self.scheduler.start()

    async def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for binding in self.channels.values():
            if binding.stop is not None:
                await binding.stop()
        await self.dispatcher.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()


def build_services(config: AppConfig, store: AttachmentStore) -> Services:
    deadlines = DeadlineCalculator(config.calendar, config.commune.timezone)
    windows = DeliveryWindows(
        deadlines,
        office_time=config.reminders.office_time,
        quiet_start=config.reminders.citizen_quiet_start,
        quiet_end=config.reminders.citizen_quiet_end,
    )
    return Services(
        config=config,
        deadlines=deadlines,
        cases=CaseService(config, deadlines, windows),
        extras={"attachments": store},
    )


def telegram_binding(
    config: AppConfig,
    token: str,
    process: Any,
    *,
    rate_limited: bool,
    per_chat_interval: float,
    polling: bool = True,
) -> ChannelBinding:
    application = build_application(
        token,
        base_url=config.telegram.base_url,
        base_file_url=config.telegram.base_file_url,
        rate_limited=rate_limited,
    )
    channel = TelegramChannel(application, process, poll_timeout=config.telegram.poll_timeout)

    async def start() -> None:
        await channel.start(polling=polling)

    return ChannelBinding(
        name="telegram",
        sender=TelegramSender(application.bot, per_chat_interval=per_chat_interval),
        download=channel.download,
        start=start,
        stop=channel.stop,
        adapter=channel,
    )


def build_runtime(
    config: AppConfig,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    console: ConsoleSender | None = None,
    telegram_token: str | None = None,
    telegram_rate_limited: bool = True,
    telegram_polling: bool = True,
    per_chat_interval: float | None = None,
    poll_interval: float = 5.0,
    backoff_base: float = 2.0,
    extra_channels: Sequence[ChannelBinding] = (),
) -> Runtime:
    clock = clock or SystemClock()
    db = db or Database(config.storage.database_url)
    store = AttachmentStore(config.storage.attachments_dir)
    services = build_services(config, store)
    router = build_router()
    processors: list[Processor] = []

    async def process(message: IncomingMessage) -> object:
        # The channels are built before the processor, which needs their downloaders.
        return await processors[0].process(message)

    bindings: list[ChannelBinding] = list(extra_channels)
    if console is not None:
        bindings.append(ChannelBinding(name="console", sender=console, download=read_photo))
    token = telegram_token
    if token:
        interval = (
            per_chat_interval
            if per_chat_interval is not None
            else 1.0 / config.outbox.per_chat_per_second
        )
        bindings.append(
            telegram_binding(
                config,
                token,
                process,
                rate_limited=telegram_rate_limited,
                per_chat_interval=interval,
                polling=telegram_polling,
            )
        )
    dispatcher = OutboxDispatcher(
        db,
        [binding.sender for binding in bindings],
        clock,
        attachments_root=config.storage.attachments_dir,
        max_attempts=config.outbox.max_attempts,
        poll_interval=poll_interval,
        backoff_base=backoff_base,
    )
    downloaders: dict[str, Downloader] = {
        binding.name: binding.download for binding in bindings if binding.download is not None
    }
    processor = Processor(
        db, services, router, store, clock, downloaders=downloaders, on_committed=dispatcher.kick
    )
    processors.append(processor)
    return Runtime(
        config=config,
        clock=clock,
        db=db,
        store=store,
        services=services,
        router=router,
        processor=processor,
        dispatcher=dispatcher,
        channels={binding.name: binding for binding in bindings},
    )
