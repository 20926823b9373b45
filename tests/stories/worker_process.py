"""A dispatcher-and-sweep worker run as its own OS process by the concurrency test.

    python -m tests.stories.worker_process DATABASE_URL BOT_BASE_URL TOKEN NOW_ISO

Sweeps reminders at NOW (an injected office-time moment) and sends the outbox through the
Telegram API at BOT_BASE_URL until nothing is left to send, then exits.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.app import build_services
from bot.channels.telegram import TelegramSender, build_application
from bot.clock import FakeClock, SystemClock
from bot.config import load_config
from bot.dispatcher import OutboxDispatcher
from storage.attachments import AttachmentStore
from storage.db import Database
from storage.models import OutboxMessage
from storage.reminders import ReminderSweep

REPO = Path(__file__).resolve().parents[2]


async def main(database_url: str, base_url: str, token: str, now: str) -> None:
    config = load_config(REPO / "config.toml", env={"PAKN_DATABASE_URL": database_url})
    clock = FakeClock(datetime.fromisoformat(now))
    db = Database(database_url, workers=4)
    services = build_services(config, AttachmentStore(Path("/nonexistent")))
    sweep = ReminderSweep(services.cases)
    application = build_application(
        token, base_url=base_url, base_file_url=base_url, rate_limited=False, timeout=10
    )
    await application.initialize()
    sender = TelegramSender(application.bot, per_chat_interval=0, overall_per_second=0)
    # The sweep runs at the injected moment; sending happens now.
    # Small claims, so that two workers interleave.
    dispatcher = OutboxDispatcher(
        db, [sender], SystemClock(), attachments_root=Path("/nonexistent"), claim_batch=5
    )
    try:
        for _ in range(200):
            await db.run(sweep.run, clock.now())
            await dispatcher.flush(within=60)
            left = await db.run(
                lambda s: s.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status.in_(["pending", "sending"]))
                )
            )
            if not left:
                break
        print(f"delivered {dispatcher.delivered}", flush=True)
    finally:
        await application.shutdown()
        db.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
