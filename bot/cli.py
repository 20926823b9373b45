"""The ``pakn`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ROLES, AppConfig, load_config
from bot.configerror import ConfigError
from bot.logging_setup import setup_logging

if TYPE_CHECKING:
    from storage.db import Database

log = logging.getLogger("pakn")

Command = Callable[[argparse.Namespace, AppConfig], int]
COMMANDS: dict[str, tuple[str, Command, Callable[[argparse.ArgumentParser], None]]] = {}


def command(
    name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None] | None = None
) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        COMMANDS[name] = (help_text, fn, arguments or (lambda _parser: None))
        return fn

    return register


def _prepare_database(config: AppConfig) -> None:
    from storage.db import Database

    db = Database(config.storage.database_url)
    try:
        db.migrate()
    finally:
        db.close()


@command("migrate", "apply database migrations")
def migrate_command(_args: argparse.Namespace, config: AppConfig) -> int:
    _prepare_database(config)
    print("Database schema is up to date.")
    return 0


def _chat_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="user", default="citizen", help="console user id")
    parser.add_argument("--name", default=None, help="display name of that user")


async def _run_console(config: AppConfig, user: str, name: str | None) -> None:
    from bot.app import build_runtime
    from bot.channels.console import ConsoleChannel, ConsoleSender, run_console

    runtime = build_runtime(config, console=ConsoleSender(user))
    await runtime.start()
    try:
        await run_console(
            ConsoleChannel(user, name),
            runtime.processor.process,
            runtime.dispatcher.flush,
            banner=(
                f"pakn-bot – {config.commune.name} – kênh dòng lệnh (console).\n"
                "Gõ /start để bắt đầu, /thoat để thoát. Gửi ảnh: /anh ĐƯỜNG_DẪN; "
                "gửi vị trí: /vitri VĨ_ĐỘ,KINH_ĐỘ."
            ),
        )
    finally:
        await runtime.stop()
        runtime.db.close()


@command("chat", "talk to the bot in this terminal (console channel)", _chat_arguments)
def chat_command(args: argparse.Namespace, config: AppConfig) -> int:
    _prepare_database(config)
    asyncio.run(_run_console(config, args.user, args.name))
    return 0


async def _serve(config: AppConfig) -> None:
    from bot.app import build_runtime

    # With a public URL both channels receive webhooks on the bot's web server
    # (register them with `pakn webhook set`); without one they use long polling.
    webhooks = bool(config.web.public_base_url)
    runtime = build_runtime(
        config,
        telegram_token=config.secrets.telegram_token,
        telegram_rate_limited=config.telegram.rate_limiter,
        telegram_polling=not webhooks,
        telegram_send_process=config.telegram.send_process,
        zalo_token=config.secrets.zalo_token,
        zalo_polling=not webhooks,
        serve_web=webhooks,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    channels = ", ".join(name for name in ("telegram", "zalo") if name in runtime.channels)
    mode = f"webhooks at {config.web.public_base_url}" if webhooks else "long polling"
    log.info("pakn-bot running for %s (%s; %s)", config.commune.name, channels, mode)
    try:
        await stop.wait()
    finally:
        await runtime.stop()
        runtime.db.close()


@command(
    "run",
    "run the bot: Telegram/Zalo when PAKN_TELEGRAM_TOKEN/PAKN_ZALO_TOKEN is set, else the console",
)
def run_command(args: argparse.Namespace, config: AppConfig) -> int:
    _prepare_database(config)
    if not config.secrets.telegram_token and not config.secrets.zalo_token:
        print(
            "Neither PAKN_TELEGRAM_TOKEN nor PAKN_ZALO_TOKEN is set: starting the console channel.",
            file=sys.stderr,
        )
        asyncio.run(_run_console(config, "citizen", None))
        return 0
    asyncio.run(_serve(config))
    return 0


def _open_db(config: AppConfig) -> Database:
    from storage.db import Database

    db = Database(config.storage.database_url)
    db.migrate()
    return db


def _route_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help="a citizen's text")
    parser.add_argument("--json", action="store_true", help="print the decision as JSON")


@command("route", "show how a text would be routed (kind, category, unit)", _route_arguments)
def route_command(args: argparse.Namespace, config: AppConfig) -> int:
    import json

    from bot.app import classifier_for

    classifier = classifier_for(config)
    decision = classifier.classify(args.text)
    if args.json:
        print(json.dumps(decision.as_json_dict(), ensure_ascii=False))
        return 0
    confident = classifier.is_confident(decision, config.routing.min_confidence)
    print(f"kind:       {decision.kind}")
    print(f"category:   {decision.category} ({config.category_name(decision.category)})")
    print(f"unit:       {decision.unit} ({config.unit_name(decision.unit)})")
    print(
        f"confidence: {decision.confidence:.2f} ({'used as is' if confident else 'citizen picks'})"
    )
    for phrase, space, label, weight in classifier.explain(args.text):
        print(f"  {weight:+.1f} {space}:{label} «{phrase}»")
    return 0


def _faq_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="faq_command", required=True)
    ask = sub.add_parser("ask", help="show how a question would be answered")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")
    sub.add_parser("check", help="validate the FAQ corpus (exit 1 when broken)")
    misses = sub.add_parser("misses", help="most frequent unanswered or unhelpful questions")
    misses.add_argument("--since", default="7d", help="e.g. 7d, 24h, 30d (default 7d)")
    misses.add_argument("--limit", type=int, default=30)
    sub.add_parser("reload", help="check the corpus; the running bot reloads it by itself")


def _since(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([dh])", text.strip())
    if not match:
        raise ValueError("--since must look like 7d or 24h")
    amount = int(match[1])
    return timedelta(days=amount) if match[2] == "d" else timedelta(hours=amount)


@command("faq", "FAQ corpus tools: ask, check, misses, reload", _faq_arguments)
def faq_command(args: argparse.Namespace, config: AppConfig) -> int:
    import json

    from faq.corpus import REQUIRED_TOPIC_IDS, check_corpus, load_corpus

    if args.faq_command in ("check", "reload"):
        from bot.app import faq_for

        try:
            corpus = load_corpus([*faq_for(config).directories])
        except ValueError as error:
            print(f"FAQ corpus is broken: {error}", file=sys.stderr)
            return 1
        problems = check_corpus(corpus, REQUIRED_TOPIC_IDS)
        for problem in problems:
            print(f"- {problem}", file=sys.stderr)
        if problems:
            print(f"FAQ corpus has {len(problems)} problem(s).", file=sys.stderr)
            return 1
        variants = sum(len(t.questions) for t in corpus.topics.values())
        print(f"FAQ corpus OK: {len(corpus.topics)} topics, {variants} question variants.")
        if args.faq_command == "reload":
            print("The running bot picks up corpus changes within 30 seconds.")
        return 0
    if args.faq_command == "ask":
        from bot.app import faq_for

        service = faq_for(config)
        decision = service.match(args.question)
        if args.json:
            print(json.dumps(decision.as_json_dict(), ensure_ascii=False))
            return 0
        print(f"outcome: {decision.outcome}  score: {decision.score:.2f}")
        topic = service.topic(decision.topic_id) if decision.topic_id else None
        if topic is not None:
            print(f"topic:   {topic.id} – {topic.title}")
            if decision.outcome == "answer":
                print(service.answer(topic))
        for topic_id, score in decision.alternatives:
            print(f"  also {topic_id} ({score:.2f})")
        return 0
    from bot.clock import SystemClock
    from storage.models import FaqLog

    try:
        since = SystemClock().now() - _since(args.since)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    db = _open_db(config)
    try:
        rows = db.call(
            lambda session: [
                (row.question, row.outcome)
                for row in session.query(FaqLog).filter(FaqLog.at >= since)
            ]
        )
    finally:
        db.close()
    from collections import Counter

    from bot.rules.textnorm import normalize

    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    outcomes: dict[str, Counter[str]] = {}
    for question, outcome in rows:
        key = normalize(question)
        counts[key] += 1
        example.setdefault(key, question)
        outcomes.setdefault(key, Counter())[outcome] += 1
    if not counts:
        print(f"No unanswered or unhelpful questions since {args.since}.")
        return 0
    print(f"{sum(counts.values())} question(s) since {args.since}; most frequent first:")
    for key, count in counts.most_common(args.limit):
        detail = ", ".join(f"{o} {n}" for o, n in outcomes[key].items())
        print(f"{count:>4}  {example[key]}  ({detail})")
    return 0


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--period",
        required=True,
        help="2026-6thang, 2026-9thang, 2026-nam, 2026-10, 2026-quy3 or FROM..TO (YYYY-MM-DD)",
    )
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--out", required=True, help="file to write")
    parser.add_argument("--unit", help="only this unit (default: the whole commune)")


@command("report", "export the figures of a reporting period (XLSX or CSV)", _report_arguments)
def report_command(args: argparse.Namespace, config: AppConfig) -> int:
    from bot.clock import SystemClock
    from bot.reports.export import export_file
    from bot.reports.periods import PeriodError, parse_period
    from bot.rules.deadlines import DeadlineCalculator
    from storage.stats import StatsService

    calculator = DeadlineCalculator(config.calendar, config.commune.timezone)
    now = SystemClock().now()
    try:
        period = parse_period(
            args.period, calculator.local_date(now), cutoff_day=config.reports.cutoff_day
        )
    except PeriodError as error:
        print(error, file=sys.stderr)
        return 2
    if args.unit and args.unit not in config.units:
        print(f"unknown unit {args.unit!r}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    db = _open_db(config)
    try:
        db.call(
            export_file,
            StatsService(config, calculator),
            period,
            out,
            fmt=args.format,
            as_of=now,
            unit=args.unit,
        )
    finally:
        db.close()
    print(f"Wrote {out} ({period.title}).")
    return 0


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="demo_command", required=True)
    seed = sub.add_parser("seed", help="fill the database with 12 weeks of sample cases")
    seed.add_argument("--weeks", type=int, default=12)
    seed.add_argument("--per-week", type=int, default=30)


@command("demo", "sample data for trying the reports", _demo_arguments)
def demo_command(args: argparse.Namespace, config: AppConfig) -> int:
    from bot.clock import SystemClock
    from bot.demo import DemoRefused, seed_demo

    db = _open_db(config)
    try:
        written = seed_demo(
            db, config, SystemClock(), weeks=args.weeks, cases_per_week=args.per_week
        )
    except DemoRefused as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        db.close()
    if written == 0:
        print("Demo data is already there.")
    else:
        print(f"Wrote {written} sample cases over the past {args.weeks} weeks.")
        print("Leaders see them with /thongke tuan and in the Monday report.")
    return 0


def _invite_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", required=True, choices=ROLES)
    parser.add_argument("--unit", help="unit id (required for officer and head)")
    parser.add_argument("--name", help="the person's name, shown to colleagues")


@command("invite", "print a one-time registration code (valid 72 h) for a role", _invite_arguments)
def invite_command(args: argparse.Namespace, config: AppConfig) -> int:
    from bot.clock import SystemClock
    from storage.people import create_invite

    if args.role in ("officer", "head") and not args.unit:
        print(f"--unit is required for the role {args.role}", file=sys.stderr)
        return 2
    if args.unit and args.unit not in config.units:
        known = ", ".join(config.units)
        print(f"unknown unit {args.unit!r}; known units: {known}", file=sys.stderr)
        return 2
    unit = args.unit if args.role in ("officer", "head") else None
    db = _open_db(config)
    try:
        code = db.call(
            create_invite,
            role=args.role,
            unit=unit,
            now=SystemClock().now(),
            display_name=args.name,
        )
    finally:
        db.close()
    where = f" of {config.unit_name(unit)}" if unit else ""
    print(f"Invite code for {args.role}{where}: {code}")
    print(f"Valid 72 hours, single use. The person sends in the bot chat: /dangky {code}")
    return 0


@command("people", "list officers, unit heads, leaders and admins")
def people_command(_args: argparse.Namespace, config: AppConfig) -> int:
    from storage.people import all_staff

    db = _open_db(config)
    try:
        rows = db.call(
            lambda session: [
                (
                    p.id,
                    p.full_name or p.display_name or "",
                    [(r.role, r.unit) for r in roles],
                    [f"{i.channel}" for i in identities],
                )
                for p, roles, identities in all_staff(session)
            ]
        )
    finally:
        db.close()
    if not rows:
        print(
            "No staff registered yet. Create an invite with: pakn invite --role officer --unit ID"
        )
        return 0
    for person_id, name, roles, channels in rows:
        described = ", ".join(
            f"{role} ({config.unit_name(unit)})" if unit else role for role, unit in roles
        )
        print(f"#{person_id:<5} {name:<30} {described:<50} {'/'.join(sorted(set(channels)))}")
    return 0


def _revoke_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("person", type=int, help="person number from `pakn people`")
    parser.add_argument("--role", choices=ROLES, help="only this role (default: all roles)")
    parser.add_argument("--unit", help="only the role in this unit")


@command("revoke", "remove a person's role(s)", _revoke_arguments)
def revoke_command(args: argparse.Namespace, config: AppConfig) -> int:
    from bot.clock import SystemClock
    from storage.people import revoke_roles

    db = _open_db(config)
    try:
        count = db.call(
            revoke_roles, args.person, now=SystemClock().now(), role=args.role, unit=args.unit
        )
    finally:
        db.close()
    print(f"Revoked {count} role(s) of person #{args.person}.")
    return 0 if count else 1


def _outbox_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--retry", action="store_true", help="queue failed messages again")
    parser.add_argument("--all", action="store_true", help="also list messages being sent")


@command(
    "outbox",
    "show pending and failed outgoing messages; --retry sends failed ones again",
    _outbox_arguments,
)
def outbox_command(args: argparse.Namespace, config: AppConfig) -> int:
    from bot.clock import SystemClock
    from storage import outbox

    db = _open_db(config)
    try:
        if args.retry:
            count = db.call(outbox.retry_failed, now=SystemClock().now())
            print(f"{count} failed message(s) queued again; the running bot sends them.")
        counts = db.call(outbox.counts_by_status)
        statuses = [outbox.PENDING, outbox.FAILED, outbox.UNREACHABLE]
        if args.all:
            statuses.append(outbox.SENDING)
        rows = db.call(
            lambda session: [
                (m.id, m.status, m.channel, m.purpose, m.attempts, m.next_attempt_at, m.last_error)
                for m in outbox.list_messages(session, statuses)
            ]
        )
    finally:
        db.close()
    print("Outbox: " + ", ".join(f"{status} {count}" for status, count in sorted(counts.items())))
    for row_id, status, channel, purpose, attempts, next_at, error in rows:
        print(
            f"#{row_id:<7} {status:<11} {channel:<8} {purpose:<20} attempts={attempts} "
            f"next={next_at:%Y-%m-%d %H:%M} {error or ''}"
        )
    return 0


def _webhook_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("set", "delete", "info"))


@command(
    "webhook",
    "register (set), remove (delete) or show (info) the Telegram and Zalo webhooks",
    _webhook_arguments,
)
def webhook_command(args: argparse.Namespace, config: AppConfig) -> int:
    from bot.webhooks import run_webhook_command

    return asyncio.run(run_webhook_command(config, args.action))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pakn", description="pakn-bot: commune feedback bot")
    parser.add_argument(
        "--config",
        default=os.environ.get("PAKN_CONFIG", "config.toml"),
        help="path of config.toml (default: ./config.toml or $PAKN_CONFIG)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, _fn, arguments) in COMMANDS.items():
        arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # The database work runs in a thread; a shorter GIL switch interval gives the event
    # loop back quickly after each network call (measured: ~15 % more steps/s).
    sys.setswitchinterval(0.001)
    setup_logging(verbose=args.verbose)
    try:
        config = load_config(Path(args.config))
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    _help, fn, _arguments = COMMANDS[args.command]
    return fn(args, config)


if __name__ == "__main__":
    raise SystemExit(main())
