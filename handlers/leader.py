"""Leaders and unit heads: statistics on demand (/thongke) and report files (/baocao).

Leaders see the whole commune, unit heads their unit; everyone else is refused politely.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messages import OutgoingMessage
from bot.reports.export import export_xlsx
from bot.reports.periods import Period, PeriodError, parse_period, year_to_date
from bot.reports.weekly import Report, collect_report, render_report
from handlers import texts
from handlers.context import Context, Services
from handlers.router import Router
from storage.attachments import AttachmentStore, record_attachment
from storage.models import OutboxMessage
from storage.people import reachable_identities
from storage.stats import StatsService

STATS_HELP_EXAMPLES = "Ví dụ: /thongke tuan, /thongke thang, /thongke 2026-10-01..2026-10-31"
REPORT_HELP_EXAMPLES = "Ví dụ: /baocao 2026-6thang, /baocao 2026-10"


def scope(ctx: Context) -> tuple[bool, str | None]:
    """(allowed, unit): leaders see the commune (None), heads their unit."""
    if ctx.has_role("leader"):
        return True, None
    heads = sorted(ctx.units_with_role("head"))
    if heads:
        return True, heads[0]
    return False, None


def stats_of(ctx: Context) -> StatsService:
    service: StatsService = ctx.services.extras["stats"]
    return service


def store_chart(ctx: Context, png: bytes) -> int | None:
    """Keep a chart as a file of the person it is for, so that every channel can send it."""
    store = ctx.services.extras.get("attachments")
    if not isinstance(store, AttachmentStore):
        return None
    stored = store.store_file(png, "image/png", now=ctx.now)
    return record_attachment(
        ctx.session,
        stored,
        person_id=ctx.person.id,
        kind="chart",
        channel=ctx.identity.channel,
        now=ctx.now,
    )


def report_message(report: Report, chart_id: int | None) -> OutgoingMessage:
    return OutgoingMessage(text=report.text, attachment_ids=(chart_id,) if chart_id else ())


def _request(
    ctx: Context, args: str, default: str, examples: str
) -> tuple[Period, str | None] | None:
    """The period asked for and the scope (None: the commune, else a unit), or None after
    refusing someone who may not see statistics or explaining a period not understood."""
    allowed, unit = scope(ctx)
    if not allowed:
        ctx.reply(texts.STATS_NOT_ALLOWED)
        return None
    today = ctx.services.deadlines.local_date(ctx.now)
    try:
        period = parse_period(args or default, today, cutoff_day=ctx.config.reports.cutoff_day)
    except PeriodError as error:
        ctx.reply(f"{error}\n{examples}")
        return None
    return period, unit


def register(router: Router) -> None:
    @router.command("thongke")
    def statistics(ctx: Context, args: str) -> None:
        request = _request(ctx, args, "tuan", STATS_HELP_EXAMPLES)
        if request is None:
            return
        period, unit = request
        today = ctx.services.deadlines.local_date(ctx.now)
        data = collect_report(
            ctx.session,
            stats_of(ctx),
            period,
            as_of=ctx.now,
            unit=unit,
            ytd=year_to_date(min(period.last_day, today)),
        )
        report = render_report(data, ctx.config)
        chart_id = store_chart(ctx, report.chart) if report.chart is not None else None
        ctx.send(report_message(report, chart_id))

    @router.command("baocao")
    def report_file(ctx: Context, args: str) -> None:
        request = _request(ctx, args, "thang", REPORT_HELP_EXAMPLES)
        if request is None:
            return
        period, unit = request
        config = ctx.config
        directory = config.storage.data_dir / "reports"
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{secrets.token_hex(8)}.xlsx"
        export_xlsx(ctx.session, stats_of(ctx), period, target, as_of=ctx.now, unit=unit)
        name = f"bao-cao-{config.commune.code.lower()}-{period.label or 'ky'}.xlsx".replace(
            " ", "-"
        )
        ctx.send(
            OutgoingMessage(
                text=texts.report_file_ready(period.title),
                document_path=str(target),
                document_name=_ascii_name(name),
            )
        )


def _ascii_name(name: str) -> str:
    from bot.rules.textnorm import strip_diacritics

    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in strip_diacritics(name))
    return cleaned or "bao-cao.xlsx"


def queue_weekly_reports(
    session: Session,
    services: Services,
    reports: Sequence[tuple[int, Report]],
    *,
    week: str,
    now: datetime,
) -> int:
    """Queue each person's weekly report once (key ``weekly:<week>:<person>``), with its
    chart kept as that person's file; returns how many were queued."""
    store = services.extras.get("attachments")
    queued = 0
    for person_id, report in reports:
        key = f"weekly:{week}:{person_id}"
        if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
            continue
        identities = reachable_identities(session, person_id)
        if not identities:
            continue
        chart_id = None
        if report.chart is not None and isinstance(store, AttachmentStore):
            stored = store.store_file(report.chart, "image/png", now=now)
            chart_id = record_attachment(
                session,
                stored,
                person_id=person_id,
                kind="chart",
                channel=identities[0].channel,
                now=now,
            )
        if services.cases.notify_staff(
            session,
            [person_id],
            report_message(report, chart_id),
            purpose="weekly_report",
            case=None,
            now=now,
            dedupe_key=f"weekly:{week}",
        ):
            queued += 1
    return queued
