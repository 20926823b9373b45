"""The ``pakn`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.config import AppConfig, load_config
from bot.configerror import ConfigError
from bot.logging_setup import setup_logging

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

    runtime = build_runtime(config, telegram_token=config.secrets.telegram_token)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    log.info("pakn-bot running for %s (Telegram long polling)", config.commune.name)
    try:
        await stop.wait()
    finally:
        await runtime.stop()
        runtime.db.close()


@command("run", "run the bot: Telegram when PAKN_TELEGRAM_TOKEN is set, else the console")
def run_command(args: argparse.Namespace, config: AppConfig) -> int:
    _prepare_database(config)
    if not config.secrets.telegram_token:
        print("PAKN_TELEGRAM_TOKEN is not set: starting the console channel.", file=sys.stderr)
        asyncio.run(_run_console(config, "citizen", None))
        return 0
    asyncio.run(_serve(config))
    return 0


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
