"""``pakn webhook set|delete|info``: register, remove or show the webhooks of the channels
that have a token (Telegram: ``PAKN_TELEGRAM_TOKEN``, Zalo: ``PAKN_ZALO_TOKEN``).

The webhook URLs are ``{web.public_base_url}/telegram/webhook`` and ``/zalo/webhook``, served
by ``pakn run`` (bot/web.py) when ``web.public_base_url`` is set. Each platform sends the
secret given here in a header that the server checks: ``PAKN_TELEGRAM_WEBHOOK_SECRET``
(1–256 characters ``A-Z a-z 0-9 _ -``) and ``PAKN_ZALO_WEBHOOK_SECRET`` (8–256 characters).
Both secrets are checked before anything is registered, so a typo never leaves one channel
switched to webhooks and the other not.

The output is for the IT admin and in English; the exit status is 0 on success, 1 when a
platform refused or could not be reached, 2 for a configuration problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from bot.channels.zalo_client import ZaloBotClient, ZaloError
from bot.config import AppConfig

ACTIONS = ("set", "delete", "info")
TELEGRAM_PATH = "/telegram/webhook"
ZALO_PATH = "/zalo/webhook"
_TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")

Print = Callable[[str], None]


class WebhookSetupError(Exception):
    """A configuration problem found before calling any platform."""


def webhook_urls(config: AppConfig) -> tuple[str, str]:
    base = config.web.public_base_url.rstrip("/")
    return base + TELEGRAM_PATH, base + ZALO_PATH


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "never"


def check_setup(config: AppConfig, action: str) -> list[str]:
    """Channels to act on; raises ``WebhookSetupError`` with a clear message otherwise."""
    if action not in ACTIONS:
        raise WebhookSetupError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    secrets = config.secrets
    channels = [
        name
        for name, token in (("telegram", secrets.telegram_token), ("zalo", secrets.zalo_token))
        if token
    ]
    if not channels:
        raise WebhookSetupError(
            "no channel token is set: set PAKN_TELEGRAM_TOKEN and/or PAKN_ZALO_TOKEN"
        )
    if action != "set":
        return channels
    if not config.web.public_base_url:
        raise WebhookSetupError(
            "web.public_base_url is empty in the config: set it to the public https address "
            "of this server (e.g. https://pakn.example.gov.vn) before registering webhooks"
        )
    if "telegram" in channels:
        secret = secrets.telegram_webhook_secret
        if not secret or not _TELEGRAM_SECRET.fullmatch(secret):
            raise WebhookSetupError(
                "PAKN_TELEGRAM_WEBHOOK_SECRET must be set to 1-256 characters of "
                "A-Z, a-z, 0-9, _ and -"
            )
    if "zalo" in channels:
        secret = secrets.zalo_webhook_secret
        if not secret or not 8 <= len(secret) <= 256:
            raise WebhookSetupError("PAKN_ZALO_WEBHOOK_SECRET must be set to 8-256 characters")
    return channels


async def _telegram(config: AppConfig, action: str, out: Print) -> bool:
    from telegram import Bot
    from telegram.error import TelegramError

    token = config.secrets.telegram_token
    assert token is not None
    url, _ = webhook_urls(config)
    bot = Bot(token, base_url=config.telegram.base_url, base_file_url=config.telegram.base_file_url)
    try:
        async with bot:
            if action == "set":
                await bot.set_webhook(
                    url,
                    secret_token=config.secrets.telegram_webhook_secret,
                    allowed_updates=["message", "callback_query"],
                )
                out(f"Telegram: webhook set to {url}")
            elif action == "delete":
                await bot.delete_webhook()
                out("Telegram: webhook deleted (the bot can poll again)")
            else:
                info = await bot.get_webhook_info()
                out(f"Telegram: webhook url: {info.url or '(none: long polling)'}")
                out(f"Telegram: pending updates: {info.pending_update_count}")
                if info.last_error_message:
                    out(
                        f"Telegram: last error: {info.last_error_message} "
                        f"at {_when(info.last_error_date)}"
                    )
    except TelegramError as exc:
        out(f"Telegram: {action} failed: {exc.message}")
        return False
    return True


async def _zalo(config: AppConfig, action: str, out: Print) -> bool:
    token = config.secrets.zalo_token
    assert token is not None
    _, url = webhook_urls(config)
    try:
        async with ZaloBotClient(token, base_url=config.zalo.base_url) as client:
            if action == "set":
                secret = config.secrets.zalo_webhook_secret
                assert secret is not None
                info = await client.set_webhook(url, secret)
                out(f"Zalo: webhook set to {info.url or url}")
            elif action == "delete":
                await client.delete_webhook()
                out("Zalo: webhook deleted (the bot can poll again)")
            else:
                info = await client.get_webhook_info()
                out(f"Zalo: webhook url: {info.url or '(none: long polling)'}")
                out(f"Zalo: updated at: {_when(info.updated_at)}")
    except ZaloError as exc:
        out(f"Zalo: {action} failed: {exc}")
        return False
    return True


async def run_webhook_command(config: AppConfig, action: str, out: Print = print) -> int:
    """Do ``action`` for every channel that has a token; returns the exit status."""
    try:
        channels = check_setup(config, action)
    except WebhookSetupError as exc:
        out(f"error: {exc}")
        return 2
    if action == "set" and not config.web.public_base_url.startswith("https://"):
        out("warning: Telegram and Zalo deliver webhooks only to https:// addresses")
    ok = True
    if "telegram" in channels:
        ok = await _telegram(config, action, out) and ok
    if "zalo" in channels:
        ok = await _zalo(config, action, out) and ok
    if action == "set" and ok:
        out("Start (or restart) `pakn run`: with web.public_base_url set it serves the webhooks.")
    return 0 if ok else 1
