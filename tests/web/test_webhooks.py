"""The bot's web server with real HTTP on 127.0.0.1: webhook secrets, body limits, repeated
deliveries, /healthz, and ``pakn webhook set|delete|info`` against the fake platforms."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import build_runtime
from bot.clock import FakeClock
from bot.config import AppConfig
from bot.webhooks import run_webhook_command
from storage.db import Database
from storage.models import Case
from tests.conftest import make_config
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.zalo_server import FakeZaloServer
from tests.harness import TelegramUser, sent_texts
from tests.stories.zalo_harness import (
    TELEGRAM_SECRET,
    ZALO_SECRET,
    ZaloUser,
    channel_config,
    channel_runtime,
    zalo_texts,
)

LAN = "6ede9afa66b88fe6d6a9"
TG_LAN = 7001


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer() as fake:
        yield fake


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


def zalo_body(text: str, message_id: str = "0123456789abcdef0123", user: str = LAN) -> dict:
    return {
        "event_name": "message.text.received",
        "message": {
            "message_id": message_id,
            "date": 1_790_000_000_000,
            "from": {"id": user, "display_name": "Lan", "is_bot": False},
            "chat": {"id": user, "chat_type": "PRIVATE"},
            "text": text,
        },
    }


def telegram_update(update_id: int, text: str, user: int = TG_LAN) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_790_000_000,
            "chat": {"id": user, "type": "private", "first_name": "Lan"},
            "from": {"id": user, "is_bot": False, "first_name": "Lan"},
            "text": text,
        },
    }


async def register_webhooks(
    config: AppConfig,
    runtime: Any,
    zalo: FakeZaloServer | None,
    telegram: FakeTelegramServer | None,
) -> list[str]:
    lines: list[str] = []
    public = channel_config(config, zalo, telegram, public_base_url=runtime.web.url)
    assert await run_webhook_command(public, "set", out=lines.append) == 0, lines
    return lines


# ----------------------------------------------------------------------------- secrets, limits


@pytest.fixture
async def web_bot(sqlite_config, clock, zalo, telegram):
    async with channel_runtime(
        sqlite_config, clock, zalo, telegram, web=True, polling=False
    ) as runtime:
        yield runtime


async def test_secrets_are_checked(web_bot, zalo, telegram):
    base = web_bot.web.url
    async with httpx.AsyncClient(base_url=base) as http:
        zalo_cases = [
            ({"X-Bot-Api-Secret-Token": ZALO_SECRET}, 200),
            ({"X-Bot-Api-Secret-Token": ZALO_SECRET + "x"}, 403),
            ({"X-Bot-Api-Secret-Token": TELEGRAM_SECRET}, 403),
            ({}, 403),
        ]
        for index, (headers, status) in enumerate(zalo_cases):
            body = zalo_body("/start", message_id=f"{index:020x}")
            response = await http.post("/zalo/webhook", json=body, headers=headers)
            assert response.status_code == status, (headers, response.text)
        tg_cases = [
            ({"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}, 200),
            ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, 403),
            ({"X-Bot-Api-Secret-Token": TELEGRAM_SECRET}, 403),
            ({}, 403),
        ]
        for index, (headers, status) in enumerate(tg_cases):
            update = telegram_update(100 + index, "/start")
            response = await http.post("/telegram/webhook", json=update, headers=headers)
            assert response.status_code == status, (headers, response.text)
    await web_bot.dispatcher.flush()
    # Only the accepted deliveries were processed and answered.
    assert len(zalo.texts(LAN)) == 1
    assert len(telegram.messages_to(TG_LAN)) == 1


async def test_bad_bodies_are_refused(web_bot):
    zalo_headers = {"X-Bot-Api-Secret-Token": ZALO_SECRET}
    tg_headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    big = json.dumps(zalo_body("x" * (web_bot.config.web.max_body_bytes + 10))).encode()

    async def chunks():
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    async with httpx.AsyncClient(base_url=web_bot.web.url) as http:
        for path, headers in (("/zalo/webhook", zalo_headers), ("/telegram/webhook", tg_headers)):
            assert (await http.post(path, content=big, headers=headers)).status_code == 413
            # Without a Content-Length (chunked), the limit holds while reading.
            assert (await http.post(path, content=chunks(), headers=headers)).status_code == 413
            for content in (b"not json", b"[1, 2]", b"\xff\xfe", b'{"a": '):
                response = await http.post(path, content=content, headers=headers)
                assert response.status_code == 400, (path, content)
            # Secrets are checked before the size: no unauthenticated 413s.
            assert (await http.post(path, content=big)).status_code == 403
        # Zalo's empty probe.
        assert (await http.post("/zalo/webhook", headers=zalo_headers)).status_code == 200
        assert (await http.get("/zalo/webhook")).status_code == 405


async def test_a_failed_commit_answers_500_so_the_platform_retries(web_bot, zalo, telegram):
    zalo_channel, tg_channel = web_bot.zalo, web_bot.telegram
    real_zalo, real_tg = zalo_channel.process, tg_channel.process
    failures = {"zalo": 1, "telegram": 1}

    def failing(name, real):
        async def process(message):
            if failures[name]:
                failures[name] -= 1
                raise RuntimeError("database down")
            return await real(message)

        return process

    zalo_channel.process = failing("zalo", real_zalo)
    tg_channel.process = failing("telegram", real_tg)
    await register_webhooks(web_bot.config, web_bot, zalo, telegram)

    # Telegram delivers again after a 5xx: the second attempt is processed.
    lan_tg = TelegramUser(telegram, web_bot, TG_LAN)
    [welcome] = await lan_tg.say("/start")
    assert "Xin chào" in (welcome.text or "")
    assert [d.status for d in telegram.webhook_deliveries] == [500, 200]

    zalo.add_text(LAN, "/start")
    [delivery] = await zalo.wait_for_deliveries(1)
    assert delivery.status == 500
    assert delivery.secret_token == ZALO_SECRET


# ----------------------------------------------------------------------------- repeats


@pytest.fixture
async def web_bot_db(config, clock, zalo, telegram):
    async with channel_runtime(config, clock, zalo, telegram, web=True, polling=False) as runtime:
        yield runtime


async def file_case_on_zalo(user: ZaloUser) -> None:
    await user.say("/start")
    await user.choose("Gửi phản ánh")
    await user.choose("Phản ánh")
    await user.choose("Môi trường")
    await user.say("Khói đốt rác ở bãi đất trống cạnh trường mầm non mỗi tối.")
    await user.choose("Bỏ qua")
    await user.choose("Thôn Nam")
    await user.choose("ẩn danh")


async def test_the_same_update_delivered_twice_creates_one_case(web_bot_db, zalo, telegram):
    bot = web_bot_db
    lines = await register_webhooks(bot.config, bot, zalo, telegram)
    assert any("Zalo: webhook set" in line for line in lines)

    # Zalo, through the fake's own webhook deliveries (unwrapped and wrapped bodies).
    lan = ZaloUser(zalo, bot, LAN)
    zalo.webhook_body_style = "wrapped"
    await file_case_on_zalo(lan)
    zalo.webhook_body_style = "unwrapped"
    number = lan.option_number("Gửi")
    confirmation = await lan.say(number)
    assert "HB-2026-00001" in zalo_texts(confirmation)
    repeat = zalo.webhook_deliveries[-1].body
    before = len(lan.received)
    async with httpx.AsyncClient(base_url=bot.web.url) as http:
        headers = {"X-Bot-Api-Secret-Token": ZALO_SECRET}
        for body in (repeat, {"ok": True, "result": repeat}):
            assert (await http.post("/zalo/webhook", json=body, headers=headers)).status_code == 200
    await bot.dispatcher.flush()
    assert len(lan.received) == before, "a repeat is dropped without an answer"

    # Telegram: the confirming update delivered twice by the platform.
    user = TelegramUser(telegram, bot, TG_LAN)
    await user.say("/start")
    await user.press("Gửi phản ánh")
    await user.press("Phản ánh")
    await user.press("Môi trường")
    await user.say("Khói đốt rác ở bãi đất trống cạnh trường mầm non mỗi tối.")
    await user.press("Bỏ qua")
    await user.press("Thôn Nam")
    await user.press("ẩn danh")
    before = len(user.received)
    update = telegram_update(5000, "Gửi")
    telegram.add_update(update)
    telegram.add_update(update)
    await telegram.wait_until_consumed()
    await bot.dispatcher.flush()
    new = user.received[before:]
    assert len(new) == 1 and "HB-2026-00002" in sent_texts(new)
    assert [d.status for d in telegram.webhook_deliveries[-2:]] == [200, 200]

    with bot.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 2


# ----------------------------------------------------------------------------- healthz


async def test_healthz_reports_backlog_and_last_sweep(web_bot, clock):
    async with httpx.AsyncClient(base_url=web_bot.web.url) as http:
        response = await http.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"database": "ok", "outbox_backlog": 0, "last_sweep": None}
        web_bot.last_sweep = clock.now()
        await web_bot.dispatcher.stop()  # nothing is sent any more: messages wait
        headers = {"X-Bot-Api-Secret-Token": ZALO_SECRET}
        await http.post("/zalo/webhook", json=zalo_body("/start"), headers=headers)
        report = (await http.get("/healthz")).json()
    assert report["outbox_backlog"] == 1
    assert report["last_sweep"] == "2026-11-23T02:00:00+00:00"


async def healthz(config: AppConfig, clock: FakeClock, db: Database, breaker) -> list[Any]:
    config = replace(config, web=replace(config.web, listen_port=0))
    runtime = build_runtime(config, clock=clock, db=db, serve_web=True)
    assert runtime.web is not None
    results = []
    # Only the web server: the rest of the runtime needs a database to start.
    await runtime.web.start()
    try:
        async with httpx.AsyncClient(base_url=runtime.web.url) as http:
            for step in (None, breaker):
                if step is not None:
                    step(runtime)
                response = await http.get("/healthz")
                results.append((response.status_code, response.json()["database"]))
    finally:
        await runtime.web.stop()
    return results


async def test_healthz_reports_a_broken_sqlite_database(tmp_path: Path, clock):
    config = make_config(tmp_path / "bot", f"sqlite:///{tmp_path / 'db' / 'pakn.db'}")
    db = Database(config.storage.database_url)
    db.migrate()

    def remove_database(runtime) -> None:
        runtime.db.engine.dispose()
        shutil.rmtree(tmp_path / "db")

    try:
        assert await healthz(config, clock, db, remove_database) == [(200, "ok"), (503, "error")]
    finally:
        db.close()


async def test_healthz_reports_an_unreachable_postgresql(tmp_path: Path, clock):
    # Port 9 (discard) is closed on 127.0.0.1: connections are refused at once.
    config = make_config(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:9/test")
    db = Database(config.storage.database_url)

    def nothing(_runtime) -> None:
        pass

    try:
        assert await healthz(config, clock, db, nothing) == [(503, "error"), (503, "error")]
    finally:
        db.close()


# ----------------------------------------------------------------------------- pakn webhook


async def test_webhook_command_set_info_delete(sqlite_config, zalo, telegram):
    config = channel_config(sqlite_config, zalo, telegram, public_base_url="https://pakn.example")
    lines: list[str] = []
    assert await run_webhook_command(config, "set", out=lines.append) == 0
    assert telegram.webhook_url == "https://pakn.example/telegram/webhook"
    assert telegram.webhook_secret == TELEGRAM_SECRET
    assert zalo.webhook_url == "https://pakn.example/zalo/webhook"
    assert zalo.webhook_secret == ZALO_SECRET
    assert "Telegram: webhook set to https://pakn.example/telegram/webhook" in lines
    assert "Zalo: webhook set to https://pakn.example/zalo/webhook" in lines

    lines.clear()
    assert await run_webhook_command(config, "info", out=lines.append) == 0
    assert "Telegram: webhook url: https://pakn.example/telegram/webhook" in lines
    assert "Zalo: webhook url: https://pakn.example/zalo/webhook" in lines
    assert not any(ZALO_SECRET in line or TELEGRAM_SECRET in line for line in lines)

    lines.clear()
    assert await run_webhook_command(config, "delete", out=lines.append) == 0
    assert telegram.webhook_url is None
    assert zalo.webhook_url == ""
    lines.clear()
    assert await run_webhook_command(config, "info", out=lines.append) == 0
    assert "Zalo: webhook url: (none: long polling)" in lines


async def test_webhook_command_errors(sqlite_config, zalo, telegram):
    config = channel_config(sqlite_config, zalo, telegram, public_base_url="https://pakn.example")
    cases = [
        (replace(config, web=replace(config.web, public_base_url="")), "web.public_base_url"),
        (
            replace(config, secrets=replace(config.secrets, zalo_webhook_secret="short")),
            "PAKN_ZALO_WEBHOOK_SECRET",
        ),
        (
            replace(config, secrets=replace(config.secrets, telegram_webhook_secret="bad secret!")),
            "PAKN_TELEGRAM_WEBHOOK_SECRET",
        ),
        (
            replace(config, secrets=replace(config.secrets, telegram_token=None, zalo_token=None)),
            "no channel token",
        ),
    ]
    for broken, expected in cases:
        lines: list[str] = []
        assert await run_webhook_command(broken, "set", out=lines.append) == 2
        assert expected in lines[0], lines
    # Nothing was registered with either platform.
    assert telegram.webhook_url is None and zalo.webhook_url == ""

    zalo.fail("setWebhook", error_code=500)
    lines = []
    assert await run_webhook_command(config, "set", out=lines.append) == 1
    assert any(line.startswith("Zalo: set failed") for line in lines)
    bad_token = replace(config, secrets=replace(config.secrets, zalo_token="1:wrong"))
    lines = []
    assert await run_webhook_command(bad_token, "info", out=lines.append) == 1
    assert any("Zalo: info failed" in line and "401" in line for line in lines)
    assert not any("1:wrong" in line for line in lines), "the token is never printed"
