"""Sending from a second process (`bot/channels/send_process.py`), as `pakn run` does: the
bot's replies and button answers are made by a child process, which can die and be replaced
without losing a message, and which never outlives the bot."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Runtime
from bot.channels.send_process import SenderSettings, SendProcess
from bot.clock import FakeClock
from bot.config import AppConfig
from storage.models import OutboxMessage
from tests.fakes.images import jpeg_bytes
from tests.fakes.telegram_server import FakeTelegramServer
from tests.harness import TelegramUser, sent_texts, telegram_runtime
from tests.stories.test_crash_recovery import LAN, start_bot, step, write_config

MAI = 5101


def sender_of(runtime: Runtime) -> SendProcess:
    sender = runtime.channels["telegram"].sender
    assert isinstance(sender, SendProcess)
    return sender


async def gone(pid: int, timeout: float = 20.0) -> bool:
    """Wait for a process (not necessarily our child) to end: a pidfd becomes readable."""
    try:
        descriptor = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()
    loop.add_reader(descriptor, ended.set)
    try:
        async with asyncio.timeout(timeout):
            await ended.wait()
    finally:
        loop.remove_reader(descriptor)
        os.close(descriptor)
    return True


async def file_case_with_a_photo(mai: TelegramUser, server: FakeTelegramServer) -> str:
    await mai.say("/start")
    await mai.press("Gửi phản ánh")
    await mai.press("Phản ánh")
    await mai.press("Giao thông")
    await mai.say("Ổ gà lớn giữa đường liên thôn, xe máy đi đêm rất nguy hiểm.")
    replies = await mai.send(lambda: server.add_photo(MAI, jpeg_bytes(200, 150)))
    assert "Đã nhận ảnh 1/5" in sent_texts(replies)
    await mai.press("Xong")
    await mai.press("Thôn Nam")
    await mai.press("ẩn danh")
    [confirmation] = await mai.press("Gửi")
    return confirmation.text or ""


async def test_citizen_files_a_case_while_a_second_process_sends(
    config: AppConfig, clock: FakeClock, server: FakeTelegramServer
):
    async with telegram_runtime(config, clock, server, telegram_send_process=True) as bot:
        sender = sender_of(bot)
        assert sender.pid is not None and sender.pid != os.getpid()
        mai = TelegramUser(server, bot, MAI, "Mai")
        confirmation = await file_case_with_a_photo(mai, server)
        assert "Mã hồ sơ: HB-2026-00001" in confirmation
        # Each of the 7 button presses was answered, by the child (nobody waits for that).
        await server.wait_until(lambda: len(server.answered_callbacks) == 7, what="7 answers")
        assert len({a["callback_query_id"] for a in server.answered_callbacks}) == 7
        child = sender.pid
    assert child is not None and await gone(child), "the sender exits with the bot"


async def test_a_killed_sender_is_replaced_and_no_reply_is_lost(
    config: AppConfig, clock: FakeClock, server: FakeTelegramServer
):
    async with telegram_runtime(config, clock, server, telegram_send_process=True) as bot:
        sender = sender_of(bot)
        mai = TelegramUser(server, bot, MAI, "Mai")
        await mai.say("/start")
        first = sender.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await gone(first)
        # The reply to this message goes through a new sender process.
        [kinds] = await mai.press("Gửi phản ánh")
        assert "Phản ánh, kiến nghị" in sent_texts([kinds])
        assert sender.starts == 2 and sender.pid != first
        statuses = bot.db.call(lambda s: set(s.scalars(select(OutboxMessage.status))))
        assert statuses == {"sent"}


async def test_a_sender_that_cannot_reach_telegram_still_stops_with_the_bot(unused_tcp_port):
    nowhere = f"http://127.0.0.1:{unused_tcp_port}/bot"
    sender = SendProcess(
        SenderSettings(
            token="123456:" + "A" * 35,
            base_url=nowhere,
            base_file_url=nowhere,
            rate_limited=False,
            per_chat_interval=0.0,
            overall_per_second=0.0,
        )
    )
    await sender.start()
    await sender.stop()
    # It left on its own when its input closed (a kill after the wait would give -9).
    assert sender.returncode == 0


@pytest.mark.slow
async def test_the_sender_never_outlives_a_killed_bot(tmp_path: Path, database_url: str):
    async with FakeTelegramServer() as server:
        bot = start_bot(write_config(tmp_path / "commune", server), database_url, server)
        try:
            menu = await step(server, lambda: server.add_text(LAN, "/start"))
            assert "Xin chào" in (menu.text or "")
            [child] = [
                int(p.parent.name)
                for p in Path("/proc").glob("[0-9]*/stat")
                if p.read_text().rsplit(")", 1)[1].split()[1] == str(bot.pid)
            ]
            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=10)
            assert await gone(child)
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait()
            assert isinstance(bot, subprocess.Popen)
