"""Application assembly: one place that wires storage, handlers, channels and the scheduler."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.base import ChannelBinding, Downloader
from bot.channels.console import ConsoleSender, read_photo
from bot.channels.send_process import SenderSettings, SendProcess
from bot.channels.telegram import (
    POOL_SIZE,
    TelegramChannel,
    TelegramSender,
    build_application,
)
from bot.channels.zalo import PhotoDownloader, ZaloChannel, ZaloSender
from bot.channels.zalo_client import ZaloBotClient
from bot.clock import Clock, SystemClock
from bot.config import AppConfig
from bot.dispatcher import OutboxDispatcher
from bot.links import LinkSigner, load_secret
from bot.messages import IncomingMessage
from bot.processing import Processor
from bot.reports.weekly import collect_weekly, render_report
from bot.rules.deadlines import DeadlineCalculator, Milestone
from bot.rules.delivery_windows import DeliveryWindows
from bot.rules.routing import RoutingClassifier, build_classifier
from faq.service import FaqService
from handlers.app import build_router
from handlers.context import Services
from handlers.leader import queue_weekly_reports
from handlers.router import Router
from storage.attachments import AttachmentStore
from storage.cases import CaseService
from storage.db import Database
from storage.models import PersonRole
from storage.reminders import ReminderSweep, SweepResult, housekeeping
from storage.stats import StatsService

if TYPE_CHECKING:
    from bot.web import WebServer

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
    # Webhooks, /healthz and file links (bot/web.py); None when polling only.
    web: WebServer | None = None
    links: LinkSigner | None = None
    # When the reminder/escalation sweep last ran, for /healthz.
    last_sweep: datetime | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _reminders: ReminderSweep | None = None

    @property
    def reminders(self) -> ReminderSweep:
        if self._reminders is None:
            self._reminders = ReminderSweep(self.services.cases)
        return self._reminders

    async def run_sweep(self) -> SweepResult:
        """Reminders, escalation and closing unrated cases; queued messages go out at once."""
        result = await self.db.run(self.reminders.run, self.clock.now())
        self.last_sweep = self.clock.now()
        if result.queued or result.closed_unrated:
            self.dispatcher.kick()
        return result

    async def run_weekly_report(self) -> int:
        """The Monday report: the commune to each leader, their unit to each head."""
        now = self.clock.now()
        stats: StatsService = self.services.extras["stats"]
        staff = await self.db.run(_weekly_recipients)
        heads = {unit for _person, role, unit in staff if role == "head" and unit}
        data = await self.db.run(collect_weekly, stats, as_of=now, units=sorted(heads))
        commune = await asyncio.to_thread(render_report, data.commune, self.config)
        units = {
            unit: await asyncio.to_thread(render_report, report, self.config)
            for unit, report in data.units.items()
        }
        reports = [(person, commune) for person, role, _unit in staff if role == "leader"]
        reports += [
            (person, units[unit])
            for person, role, unit in staff
            if role == "head" and unit is not None and unit in units
        ]
        week = data.commune.period.first_day.isoformat()
        queued = await self.db.run(queue_weekly_reports, self.services, reports, week=week, now=now)
        if queued:
            self.dispatcher.kick()
        return queued

    async def run_housekeeping(self) -> None:
        await self.db.run(housekeeping, self.clock.now())

    @property
    def telegram(self) -> TelegramChannel | None:
        binding = self.channels.get("telegram")
        return binding.adapter if binding else None  # type: ignore[return-value]

    @property
    def zalo(self) -> ZaloChannel | None:
        binding = self.channels.get("zalo")
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
        if self.web is not None:
            await self.web.start()
        if scheduler:
            self.scheduler = AsyncIOScheduler(timezone=self.config.commune.timezone)
            self.scheduler.add_job(
                self.dispatcher.kick, "interval", seconds=2, id="outbox-tick", coalesce=True
            )
            self.scheduler.add_job(
                self.run_sweep,
                "interval",
                minutes=1,
                id="reminder-sweep",
                coalesce=True,
                max_instances=1,
                next_run_time=datetime.now(self.config.commune.timezone),
            )
            self.scheduler.add_job(
                self.run_housekeeping, "cron", hour=3, id="housekeeping", coalesce=True
            )
            day, clock_time = self.config.reports.weekly_cron.split()
            hour, minute = clock_time.split(":")
            self.scheduler.add_job(
                self.run_weekly_report,
                CronTrigger(
                    day_of_week=day,
                    hour=int(hour),
                    minute=int(minute),
                    timezone=self.config.commune.timezone,
                ),
                id="weekly-report",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=3600,
            )
            self.scheduler.add_job(
                self.services.extras["faq"].reload_if_changed,
                "interval",
                seconds=30,
                id="faq-reload",
                coalesce=True,
            )
            self.scheduler.start()

    async def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.web is not None:
            await self.web.stop()
        # Finish the sends under way while the channels' clients are still open.
        await self.dispatcher.stop()
        for binding in self.channels.values():
            if binding.stop is not None:
                await binding.stop()
        for task in self._tasks:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("a background task had failed")
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
        classifier=classifier_for(config),
        extras={
            "attachments": store,
            "faq": faq_for(config),
            "stats": StatsService(config, deadlines),
        },
    )


def faq_for(config: AppConfig) -> FaqService:
    return FaqService(
        config.faq.extra_corpus_dirs,
        faq_facts(config),
        answer_threshold=config.faq.answer_threshold,
        answer_margin=config.faq.answer_margin,
        suggest_threshold=config.faq.suggest_threshold,
        clear_lead_threshold=config.faq.clear_lead_threshold,
        clear_lead_margin=config.faq.clear_lead_margin,
    )


def faq_facts(config: AppConfig) -> dict[str, str]:
    """The commune's facts that FAQ answers quote (placeholders in faq/data/*.toml)."""
    commune = config.commune
    policy = config.deadlines

    def limit(milestone: Milestone, kind: str = "phan_anh_kien_nghi") -> str:
        found = policy.limit_for(milestone, kind=kind)
        return found.describe(remote=policy.remote_area) if found else ""

    return {
        "commune_name": commune.name,
        "authority": commune.authority,
        "commune_address": commune.address,
        "commune_phone": commune.phone,
        "commune_hotline": commune.hotline,
        "commune_email": commune.email,
        "office_hours": commune.office_hours,
        "reception_schedule": commune.reception_schedule,
        "one_stop_desk": commune.one_stop_desk,
        "public_service_portal": commune.public_service_portal,
        "open_days": limit("open"),
        "pakn_answer_days": limit("answer"),
        "khieu_nai_accept_days": limit("accept", "khieu_nai"),
        "khieu_nai_answer_days": limit("answer", "khieu_nai"),
        "to_cao_accept_days": limit("accept", "to_cao"),
        "to_cao_answer_days": limit("answer", "to_cao"),
        "rating_days": limit("rating"),
        "reopen_days": limit("reopen"),
        "data_retention": commune.data_retention,
    }


def classifier_for(config: AppConfig) -> RoutingClassifier:
    return build_classifier(
        {category.id: category.unit for category in config.categories.values()},
        config.routing.extra_keyword_files,
        complaint_unit=config.deadlines.complaint_unit,
    )


def telegram_binding(
    config: AppConfig,
    token: str,
    process: Any,
    *,
    rate_limited: bool,
    per_chat_interval: float,
    overall_per_second: float,
    polling: bool = True,
    process_many: Any = None,
    send_process: bool = False,
) -> ChannelBinding:
    application = build_application(
        token,
        base_url=config.telegram.base_url,
        base_file_url=config.telegram.base_file_url,
        rate_limited=rate_limited,
    )
    # One gate for all requests of this bot token except the long poll (its own connection).
    in_flight = asyncio.Semaphore(POOL_SIZE)
    sender: TelegramSender | SendProcess
    if send_process:
        sender = SendProcess(
            SenderSettings(
                token=token,
                base_url=config.telegram.base_url,
                base_file_url=config.telegram.base_file_url,
                rate_limited=rate_limited,
                per_chat_interval=per_chat_interval,
                overall_per_second=overall_per_second,
            )
        )
    else:
        sender = TelegramSender(
            application.bot,
            per_chat_interval=per_chat_interval,
            overall_per_second=overall_per_second,
            in_flight=in_flight,
        )
    channel = TelegramChannel(
        application,
        process,
        poll_timeout=config.telegram.poll_timeout,
        in_flight=in_flight,
        process_many=process_many,
        answer_callback=sender.answer_callback if isinstance(sender, SendProcess) else None,
    )

    async def start() -> None:
        if isinstance(sender, SendProcess):
            await sender.start()
        await channel.start(polling=polling)

    async def stop() -> None:
        await channel.stop()
        if isinstance(sender, SendProcess):
            await sender.stop()

    return ChannelBinding(
        name="telegram",
        sender=sender,
        download=channel.download,
        start=start,
        stop=stop,
        adapter=channel,
    )


def zalo_binding(
    config: AppConfig,
    token: str,
    process: Any,
    *,
    per_chat_interval: float,
    links: LinkSigner | None = None,
    polling: bool = True,
    overall_per_second: float | None = None,
    backoff_base: float = 0.5,
) -> ChannelBinding:
    """The Zalo channel: a poller (or webhook receiver), the photo downloader and the
    sender. Polling and sending use separate HTTP clients, so a long poll never holds a
    connection a send is waiting for."""
    poll_client = ZaloBotClient(token, base_url=config.zalo.base_url)
    send_client = ZaloBotClient(token, base_url=config.zalo.base_url)
    channel = ZaloChannel(
        poll_client,
        process,
        downloader=PhotoDownloader(config.limits.max_photo_bytes),
        poll_timeout=config.zalo.poll_timeout,
        backoff_base=backoff_base,
    )
    sender = ZaloSender(
        send_client,
        links=links,
        data_dir=config.storage.data_dir,
        per_chat_interval=per_chat_interval,
        overall_per_second=(
            overall_per_second
            if overall_per_second is not None
            else config.outbox.overall_per_second
        ),
    )

    async def start() -> None:
        await channel.start(polling=polling)

    async def stop() -> None:
        await channel.stop()
        await send_client.close()

    return ChannelBinding(
        name="zalo",
        sender=sender,
        download=channel.download,
        start=start,
        stop=stop,
        adapter=channel,
    )


def link_signer(config: AppConfig, clock: Clock) -> LinkSigner:
    """Signs the expiring file links; ``base_url`` is ``web.public_base_url``."""
    return LinkSigner(
        load_secret(config.storage.data_dir, config.secrets.link_secret),
        clock,
        base_url=config.web.public_base_url,
        lifetime=timedelta(hours=config.web.attachment_link_hours),
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
    telegram_send_process: bool = False,
    per_chat_interval: float | None = None,
    poll_interval: float = 5.0,
    backoff_base: float = 2.0,
    extra_channels: Sequence[ChannelBinding] = (),
    zalo_token: str | None = None,
    zalo_polling: bool = True,
    zalo_overall_per_second: float | None = None,
    serve_web: bool = False,
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

    async def process_many(messages: Sequence[IncomingMessage]) -> object:
        return await processors[0].process_many(messages)

    bindings: list[ChannelBinding] = list(extra_channels)
    if console is not None:
        bindings.append(ChannelBinding(name="console", sender=console, download=read_photo))
    token = telegram_token
    if token:
        interval = (
            per_chat_interval
            if per_chat_interval is not None
            else (1.0 / config.outbox.per_chat_per_second if telegram_rate_limited else 0.0)
        )
        bindings.append(
            telegram_binding(
                config,
                token,
                process,
                rate_limited=telegram_rate_limited,
                per_chat_interval=interval,
                overall_per_second=config.outbox.overall_per_second if telegram_rate_limited else 0,
                polling=telegram_polling,
                process_many=process_many,
                send_process=telegram_send_process,
            )
        )
    links = link_signer(config, clock) if (serve_web or config.web.public_base_url) else None
    if zalo_token:
        bindings.append(
            zalo_binding(
                config,
                zalo_token,
                process,
                per_chat_interval=(
                    per_chat_interval
                    if per_chat_interval is not None
                    else 1.0 / config.outbox.per_chat_per_second
                ),
                links=links,
                polling=zalo_polling,
                overall_per_second=zalo_overall_per_second,
                backoff_base=min(0.5, backoff_base),
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
        on_unreachable=services.cases.on_delivery_refused,
    )
    downloaders: dict[str, Downloader] = {
        binding.name: binding.download for binding in bindings if binding.download is not None
    }
    processor = Processor(
        db, services, router, store, clock, downloaders=downloaders, dispatcher=dispatcher
    )
    processors.append(processor)
    runtime = Runtime(
        config=config,
        clock=clock,
        db=db,
        store=store,
        services=services,
        router=router,
        processor=processor,
        dispatcher=dispatcher,
        channels={binding.name: binding for binding in bindings},
        links=links,
    )
    if serve_web:
        from bot.web import build_web_server

        runtime.web = build_web_server(runtime)
    return runtime


def _weekly_recipients(session: Session) -> list[tuple[int, str, str | None]]:
    """(person, role, unit) of every leader and unit head."""
    return [
        (role.person_id, role.role, role.unit)
        for role in session.scalars(
            select(PersonRole).where(
                PersonRole.role.in_(["leader", "head"]), PersonRole.revoked_at.is_(None)
            )
        )
    ]
