"""Story-test helpers for Zalo: the real runtime (Zalo adapter, optionally Telegram and the
web server) against FakeZaloServer / FakeTelegramServer on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from bot.app import Runtime, build_runtime
from bot.clock import Clock
from bot.config import AppConfig
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.zalo_server import FakeZaloServer, ZaloSent

ZALO_SECRET = "zalo-webhook-secret-0123"
TELEGRAM_SECRET = "telegram-webhook-secret_0123"
OPTION_LINE = re.compile(r"^  (\d+)\. (.+)$", re.MULTILINE)


def channel_config(
    config: AppConfig,
    zalo: FakeZaloServer | None = None,
    telegram: FakeTelegramServer | None = None,
    *,
    public_base_url: str = "",
    attachment_link_hours: int | None = None,
) -> AppConfig:
    """The config pointed at the fake servers, with short long polls, the web server on a
    free local port and webhook secrets set."""
    if zalo is not None:
        config = replace(config, zalo=replace(config.zalo, base_url=zalo.base_url, poll_timeout=1))
    if telegram is not None:
        config = replace(
            config,
            telegram=replace(
                config.telegram,
                base_url=telegram.base_url,
                base_file_url=telegram.base_file_url,
                poll_timeout=1,
            ),
        )
    web = replace(
        config.web, public_base_url=public_base_url, listen_host="127.0.0.1", listen_port=0
    )
    if attachment_link_hours is not None:
        web = replace(web, attachment_link_hours=attachment_link_hours)
    secrets = replace(
        config.secrets,
        zalo_token=zalo.token if zalo else None,
        telegram_token=telegram.token if telegram else None,
        zalo_webhook_secret=ZALO_SECRET,
        telegram_webhook_secret=TELEGRAM_SECRET,
    )
    return replace(config, web=web, secrets=secrets)


@asynccontextmanager
async def channel_runtime(
    config: AppConfig,
    clock: Clock,
    zalo: FakeZaloServer | None = None,
    telegram: FakeTelegramServer | None = None,
    *,
    web: bool = False,
    polling: bool = True,
    attachment_link_hours: int | None = None,
    **kwargs: Any,
) -> AsyncIterator[Runtime]:
    """A started runtime with the Zalo (and/or Telegram) channel. With ``web`` the bot's web
    server runs on a free port and file links point at it (it is the "public" address)."""
    options: dict[str, Any] = {
        "per_chat_interval": 0.0,
        "poll_interval": 0.05,
        "backoff_base": 0.05,
        "telegram_rate_limited": False,
        "zalo_overall_per_second": 0,
    }
    options.update(kwargs)
    config = channel_config(config, zalo, telegram, attachment_link_hours=attachment_link_hours)
    runtime = build_runtime(
        config,
        clock=clock,
        zalo_token=zalo.token if zalo else None,
        zalo_polling=polling,
        telegram_token=telegram.token if telegram else None,
        telegram_polling=polling,
        serve_web=web,
        **options,
    )
    runtime.db.migrate()
    await runtime.start(scheduler=False)
    if runtime.web is not None and runtime.links is not None:
        runtime.links.base_url = runtime.web.url
    try:
        yield runtime
    finally:
        await runtime.stop()
        runtime.db.close()


def options_of(text: str | None) -> list[tuple[str, str]]:
    """The numbered options at the end of a Zalo message: [("1", label), …]."""
    return OPTION_LINE.findall(text or "")


class ZaloUser:
    """A person writing to the bot on Zalo through the fake server."""

    def __init__(
        self, server: FakeZaloServer, runtime: Runtime, user_id: str, name: str = "Lan"
    ) -> None:
        self.server = server
        self.runtime = runtime
        self.user_id = user_id
        self.name = name

    @property
    def received(self) -> list[ZaloSent]:
        return [s for s in self.server.sent if s.chat_id == self.user_id]

    @property
    def last(self) -> ZaloSent:
        assert self.received, f"Zalo user {self.user_id} has received nothing"
        return self.received[-1]

    async def send(self, inject: Callable[[], object]) -> list[ZaloSent]:
        """Inject an update (``server.add_*``), wait until the bot has processed it (by
        polling or through the webhook) and sent the replies; return the replies."""
        channel = self.runtime.zalo
        assert channel is not None
        before, fed = len(self.received), channel.fed
        inject()
        await channel.wait_fed(fed + 1)
        await self.runtime.dispatcher.flush()
        return self.received[before:]

    async def say(self, text: str) -> list[ZaloSent]:
        return await self.send(
            lambda: self.server.add_text(self.user_id, text, display_name=self.name)
        )

    async def send_image(self, data: bytes, caption: str | None = None) -> list[ZaloSent]:
        return await self.send(
            lambda: self.server.add_image(
                self.user_id, data, caption=caption, display_name=self.name
            )
        )

    def option_number(self, label: str) -> str:
        for message in reversed(self.received):
            options = options_of(message.text)
            if not options:
                continue
            for number, text in options:
                if label.lower() in text.lower():
                    return number
            raise AssertionError(f"no option {label!r} among {[t for _, t in options]}")
        raise AssertionError("no message with numbered options yet")

    async def choose(self, label: str) -> list[ZaloSent]:
        """Reply with the number of the option whose label contains ``label``."""
        return await self.say(self.option_number(label))


def zalo_texts(messages: Sequence[ZaloSent]) -> str:
    return "\n".join(m.text or "" for m in messages)
