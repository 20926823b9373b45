"""Application assembly: one place that wires storage, handlers, channels and the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.channels.console import ConsoleSender, read_photo
from bot.channels.telegram import TelegramChannel, TelegramSender, build_application
from bot.clock import Clock, SystemClock
from bot.config import AppConfig
from bot.dispatcher import ChannelSender, OutboxDispatcher
from bot.processing import Downloader, Processor
from bot.rules.deadlines import DeadlineCalculator
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
    telegram: TelegramChannel | None = None
    console: ConsoleSender | None = None
    scheduler: AsyncIOScheduler | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def start(self, *, telegram_polling: bool = True, scheduler: bool = True) -> None:
        if self.telegram is not None:
            await self.telegram.start(polling=telegram_polling)
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
        if self.telegram is not None:
            await self.telegram.stop()
        await self.dispatcher.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()


def build_services(config: AppConfig, store: AttachmentStore) -> Services:
    deadlines = DeadlineCalculator(config.calendar, config.commune.timezone)
    return Services(
        config=config,
        deadlines=deadlines,
        cases=CaseService(config, deadlines),
        extras={"attachments": store},
    )


def build_runtime(
    config: AppConfig,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    console: ConsoleSender | None = None,
    telegram_token: str | None = None,
    telegram_rate_limited: bool = True,
    per_chat_interval: float | None = None,
    poll_interval: float = 5.0,
    backoff_base: float = 2.0,
    extra_senders: Sequence[ChannelSender] = (),
) -> Runtime:
    clock = clock or SystemClock()
    db = db or Database(config.storage.database_url)
    store = AttachmentStore(config.storage.attachments_dir)
    services = build_services(config, store)
    router = build_router()
    senders: list[ChannelSender] = list(extra_senders)
    downloaders: dict[str, Downloader] = {}
    if console is not None:
        senders.append(console)
        downloaders["console"] = read_photo
    telegram: TelegramChannel | None = None
    token = telegram_token or config.secrets.telegram_token
    processor_ref: list[Processor] = []

    async def process(message: Any) -> object:
        return await processor_ref[0].process(message)

    if token:
        application = build_application(
            token,
            base_url=config.telegram.base_url,
            base_file_url=config.telegram.base_file_url,
            rate_limited=telegram_rate_limited,
        )
        telegram = TelegramChannel(application, process, poll_timeout=config.telegram.poll_timeout)
        interval = (
            per_chat_interval
            if per_chat_interval is not None
            else 1.0 / config.outbox.per_chat_per_second
        )
        senders.append(TelegramSender(application.bot, per_chat_interval=interval))
        downloaders["telegram"] = telegram.download
    dispatcher = OutboxDispatcher(
        db,
        senders,
        clock,
        attachments_root=config.storage.attachments_dir,
        max_attempts=config.outbox.max_attempts,
        poll_interval=poll_interval,
        backoff_base=backoff_base,
    )
    processor = Processor(
        db,
        services,
        router,
        store,
        clock,
        downloaders=downloaders,
        on_committed=dispatcher.kick,
    )
    processor_ref.append(processor)
    return Runtime(
        config=config,
        clock=clock,
        db=db,
        store=store,
        services=services,
        router=router,
        processor=processor,
        dispatcher=dispatcher,
        telegram=telegram,
        console=console,
    )
