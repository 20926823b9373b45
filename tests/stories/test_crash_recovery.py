"""Nothing is lost: the bot process is killed (SIGKILL) right after the citizen confirms and
before the confirmation is sent; after a restart the case exists exactly once and the
citizen receives the confirmation."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy

from tests.conftest import REPO
from tests.fakes.telegram_server import FakeTelegramServer, SentMessage

LAN = 7001


def write_config(directory: Path, server: FakeTelegramServer) -> Path:
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    text = text.replace(
        'base_url = "https://api.telegram.org/bot"', f'base_url = "{server.base_url}"'
    )
    text = text.replace(
        'base_file_url = "https://api.telegram.org/file/bot"',
        f'base_file_url = "{server.base_file_url}"',
    )
    text = re.sub(
        r"(\[telegram\][^\[]*?)poll_timeout = \d+", r"\1poll_timeout = 1", text, flags=re.S
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def start_bot(
    config_path: Path, database_url: str, server: FakeTelegramServer
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PAKN_TELEGRAM_TOKEN": server.token,
        "PAKN_DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--config", str(config_path), "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def step(server: FakeTelegramServer, inject: Callable[[], object]) -> SentMessage:
    """Do something as the citizen and wait for the bot's next message."""
    count = len(server.messages_to(LAN))
    inject()
    messages = await server.wait_for(chat_id=LAN, count=count + 1, timeout=20)
    return messages[-1]


def button(message: SentMessage, label: str) -> str:
    for text, data in message.buttons:
        if label in text and data:
            return data
    raise AssertionError(f"no button {label!r} in {message.describe()}")


def count_cases(database_url: str) -> int:
    engine = sqlalchemy.create_engine(
        database_url.replace("postgresql+psycopg", "postgresql+psycopg")
    )
    with engine.connect() as connection:
        count = connection.execute(sqlalchemy.text("SELECT count(*) FROM cases")).scalar_one()
    engine.dispose()
    return int(count)


@pytest.mark.slow
async def test_sigkill_after_confirm_loses_nothing(tmp_path: Path, database_url: str):
    async with FakeTelegramServer() as server:
        config_path = write_config(tmp_path / "commune", server)
        bot = start_bot(config_path, database_url, server)
        try:
            menu = await step(server, lambda: server.add_text(LAN, "/start"))
            kinds = await step(
                server, lambda: server.press_button(LAN, button(menu, "Gửi phản ánh"))
            )
            categories = await step(
                server, lambda: server.press_button(LAN, button(kinds, "Phản ánh"))
            )
            await step(server, lambda: server.press_button(LAN, button(categories, "Nông nghiệp")))
            photos = await step(
                server,
                lambda: server.add_text(LAN, "Kênh tưới thôn Hạ bị lấp, ruộng không có nước."),
            )
            places = await step(server, lambda: server.press_button(LAN, button(photos, "Bỏ qua")))
            contact = await step(
                server, lambda: server.press_button(LAN, button(places, "Thôn Hạ"))
            )
            summary = await step(
                server, lambda: server.press_button(LAN, button(contact, "ẩn danh"))
            )

            # The confirmation will hang at the server; kill the bot while it does.
            calls_before = server.calls["sendMessage"]
            server.delay("sendMessage", 60)
            server.press_button(LAN, button(summary, "Gửi"))
            await server.wait_for_calls("sendMessage", calls_before + 1, timeout=20)
            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=10)
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait()

        assert count_cases(database_url) == 1
        assert not any("Mã hồ sơ" in (m.text or "") for m in server.messages_to(LAN))

        restarted = start_bot(config_path, database_url, server)
        try:
            [confirmation] = await server.wait_for(
                lambda m: "Mã hồ sơ: HB-2026-00001" in (m.text or ""), chat_id=LAN, timeout=30
            )
            assert confirmation.chat_id == LAN
            # The confirm press may be handed out again after the restart; it is dropped.
            await server.wait_until_consumed(timeout=20)
            status = await step(server, lambda: server.add_text(LAN, "/tracuu HB-2026-00001"))
            assert "Hồ sơ HB-2026-00001" in (status.text or "")
        finally:
            restarted.send_signal(signal.SIGTERM)
            try:
                restarted.wait(timeout=20)
            except subprocess.TimeoutExpired:
                restarted.kill()
                restarted.wait()
        assert count_cases(database_url) == 1
        assert restarted.returncode == 0, (
            restarted.stderr.read().decode() if restarted.stderr else ""
        )
