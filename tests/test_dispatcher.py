"""The outbox dispatcher against the fake Bot API server: failures, flood control, blocked
users, bad requests, and two dispatchers sharing one PostgreSQL database."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.app import build_services
from bot.channels.send_process import SenderSettings, SendProcess
from bot.channels.telegram import TelegramSender, build_application
from bot.clock import SystemClock
from bot.dispatcher import OutboxDispatcher
from bot.messages import OutgoingMessage
from storage import outbox
from storage.attachments import AttachmentStore
from storage.cases import CaseDraft
from storage.db import Database
from storage.models import Case, ChannelIdentity, OutboxMessage
from storage.people import Sender, grant_role, identify
from tests.conftest import HCM, REPO
from tests.fakes.telegram_server import FakeTelegramServer


@pytest.fixture
async def server():
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
def db(database_url: str, tmp_path):
    database = Database(database_url)
    database.migrate()
    yield database
    database.close()


def queue_messages(db: Database, chats: list[int], per_chat: int) -> list[str]:
    """Queue ``per_chat`` numbered messages for each chat; returns their texts."""
    now = datetime.now(UTC)
    texts: list[str] = []

    def write(session) -> None:
        for chat in chats:
            _person, identity = identify(
                session, Sender("telegram", str(chat), str(chat), "Lan"), commune="ha_bac", now=now
            )
            for index in range(per_chat):
                text = f"Tin nhắn {index} cho {chat}"
                texts.append(text)
                outbox.enqueue(
                    session, identity, OutgoingMessage(text=text), purpose="test", now=now
                )

    db.call(write)
    return texts


@pytest.fixture(params=["in_process", "send_process"])
def sender_kind(request: pytest.FixtureRequest) -> str:
    """Every delivery story holds for both senders: in the bot's process, and in a second
    process fed over a pipe (``bot/channels/send_process.py``, what `pakn run` uses)."""
    return str(request.param)


@asynccontextmanager
async def dispatching(
    db: Database,
    server: FakeTelegramServer,
    *,
    per_chat_interval: float = 0.0,
    overall: float = 0.0,
    timeout: float = 5.0,
    kind: str = "in_process",
    **kwargs,
) -> AsyncIterator[OutboxDispatcher]:
    application = build_application(
        server.token,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        rate_limited=False,
        timeout=timeout,
    )
    await application.initialize()
    sender: TelegramSender | SendProcess
    if kind == "send_process":
        sender = SendProcess(
            SenderSettings(
                token=server.token,
                base_url=server.base_url,
                base_file_url=server.base_file_url,
                rate_limited=False,
                per_chat_interval=per_chat_interval,
                overall_per_second=overall,
                timeout=timeout,
            )
        )
        await sender.start()
    else:
        sender = TelegramSender(
            application.bot, per_chat_interval=per_chat_interval, overall_per_second=overall
        )
    options = {"backoff_base": 0.05, "poll_interval": 0.05, "max_attempts": 20}
    options.update(kwargs)
    dispatcher = OutboxDispatcher(
        db, [sender], SystemClock(), attachments_root=db_path(db), **options
    )
    task = asyncio.create_task(dispatcher.run())
    try:
        yield dispatcher
    finally:
        await dispatcher.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if isinstance(sender, SendProcess):
            await sender.stop()
        await application.shutdown()


def db_path(db: Database):
    from pathlib import Path

    return Path("/nonexistent-attachments")


def statuses(db: Database) -> Counter[str]:
    return Counter(db.call(lambda s: list(s.scalars(select(OutboxMessage.status)))))


async def test_server_errors_and_timeouts_then_recovery_deliver_everything(db, server, sender_kind):
    texts = queue_messages(db, [101, 102, 103], per_chat=4)
    server.fail("sendMessage", status=500, times=6)
    server.fail("sendMessage", status=502, times=2)
    server.delay("sendMessage", 2.0, times=2)
    async with dispatching(db, server, timeout=0.5, kind=sender_kind) as dispatcher:
        dispatcher.kick()
        await server.wait_until(
            lambda: {m.text for m in server.sent} >= set(texts), timeout=30, what="all delivered"
        )
        await server.wait_until(lambda: statuses(db) == Counter({"sent": len(texts)}), timeout=10)
    delivered = Counter(m.text for m in server.sent)
    assert set(delivered) == set(texts), "none lost"
    # Timed-out requests may have been carried out by the server after all (at least once).
    assert sum(delivered.values()) <= len(texts) + 2
    with_errors = db.call(
        lambda s: list(s.scalars(select(OutboxMessage).where(OutboxMessage.attempts > 1)))
    )
    assert with_errors and all(row.last_error for row in with_errors)


async def test_retry_after_is_waited_as_told(db, server, sender_kind):
    queue_messages(db, [201], per_chat=1)
    server.fail("sendMessage", status=429, times=1, retry_after=1)
    async with dispatching(db, server, kind=sender_kind) as dispatcher:
        dispatcher.kick()
        [message] = await server.wait_for(chat_id=201, timeout=10)
    [refused] = server.rejected
    assert refused.status == 429
    assert message.at - refused.at >= 1.0


async def test_enforced_flood_limits_are_never_exceeded(db, database_url, sender_kind):
    async with FakeTelegramServer(enforce_flood_limits=True) as server:
        busy = [301, 302, 303]
        queue_messages(db, busy, per_chat=3)
        queue_messages(db, list(range(400, 440)), per_chat=1)
        async with dispatching(
            db, server, per_chat_interval=1.0, overall=30, kind=sender_kind
        ) as dispatcher:
            dispatcher.kick()
            await server.wait_until(lambda: len(server.sent) == 49, timeout=30, what="49 sent")
        assert server.flood_violations == []
        times = sorted(m.at for m in server.sent)
        assert times[-1] - times[0] >= 1.0, "49 messages cannot go out within one second"


async def test_a_blocked_user_is_marked_unreachable(db, server, sender_kind):
    queue_messages(db, [501], per_chat=2)
    server.block_chat(501)
    async with dispatching(db, server, kind=sender_kind) as dispatcher:
        await dispatcher.flush()
    assert statuses(db) == Counter({"unreachable": 2})
    # Without a hook the row is closed; the runtime's hook also marks the identity.


async def test_bad_request_is_kept_as_failed_then_retried_by_the_admin(db, server, sender_kind):
    queue_messages(db, [601], per_chat=1)
    server.fail("sendMessage", status=400, times=1, description="Bad Request: chat not found")
    async with dispatching(db, server, kind=sender_kind) as dispatcher:
        await dispatcher.flush()
        assert statuses(db) == Counter({"failed": 1})
        [row] = db.call(lambda s: list(s.scalars(select(OutboxMessage))))
        assert "chat not found" in (row.last_error or "").lower()
        assert db.call(outbox.retry_failed, now=datetime.now(UTC)) == 1
        await dispatcher.flush()
    assert statuses(db) == Counter({"sent": 1})


@pytest.mark.postgres
async def test_two_dispatchers_on_postgres_send_each_message_once(postgres_url, server):
    first_db = Database(postgres_url, workers=4)
    first_db.migrate()
    second_db = Database(postgres_url, workers=4)
    try:
        texts = queue_messages(first_db, list(range(700, 760)), per_chat=5)
        # Small claims, so that the two interleave instead of one taking everything.
        async with (
            dispatching(first_db, server, claim_batch=10) as first,
            dispatching(second_db, server, claim_batch=10) as second,
        ):
            await asyncio.gather(first.pump(), second.pump(), first.flush(), second.flush())
            await server.wait_until(lambda: len(server.sent) >= len(texts), timeout=30)
            await asyncio.gather(first.flush(), second.flush())
        counts = Counter(m.text for m in server.sent)
        assert set(counts) == set(texts)
        assert max(counts.values()) == 1, "a message went out twice"
        assert first.delivered > 0 and second.delivered > 0, "both did part of the work"
        assert statuses(first_db) == Counter({"sent": len(texts)})
    finally:
        second_db.close()
        first_db.close()


async def test_runtime_hook_tells_the_unit_head_when_a_citizen_blocked_the_bot(
    config, clock, server
):
    from tests.harness import TelegramUser, invite_code, telegram_runtime

    async with telegram_runtime(config, clock, server) as runtime:
        head = TelegramUser(server, runtime, 902, "Trưởng phòng")
        await head.say(f"/dangky {invite_code(runtime, 'head', 'y_te')}")
        citizen = TelegramUser(server, runtime, 901)
        await citizen.say("/start")
        await citizen.press("Gửi phản ánh")
        await citizen.press("Phản ánh")
        await citizen.press("Y tế")
        await citizen.say("Trạm y tế đóng cửa giờ hành chính, không có người trực.")
        await citizen.press("Bỏ qua")
        await citizen.press("Bỏ qua")
        await citizen.press("ẩn danh")
        await citizen.press("Gửi")
        server.block_chat(901)
        await head.press("Tiếp nhận")
        await runtime.dispatcher.flush()
        assert any(
            "Không gửi được tin nhắn cho người gửi hồ sơ HB-2026-00001" in (m.text or "")
            for m in head.received
        )
        blocked = runtime.db.call(
            lambda s: (
                s.scalars(select(ChannelIdentity).where(ChannelIdentity.chat_id == "901"))
                .one()
                .unreachable_since
            )
        )
        assert blocked is not None


@pytest.mark.postgres
@pytest.mark.slow
async def test_two_worker_processes_send_every_message_and_reminder_once(
    postgres_url, server, sqlite_config, tmp_path
):
    """Two OS processes, each sweeping and dispatching, share one PostgreSQL database."""
    officer_chat = 990
    db = Database(postgres_url)
    db.migrate()
    config = sqlite_config  # only its commune facts and policies are used
    services = build_services(
        replace(config, limits=replace(config.limits, max_cases_per_person_per_day=100)),
        AttachmentStore(tmp_path),
    )
    created = datetime(2026, 11, 9, 9, 0, tzinfo=HCM)  # a Monday

    def twenty_cases(session) -> None:
        officer, _ = identify(
            session,
            Sender("telegram", str(officer_chat), str(officer_chat), "Kế"),
            commune="ha_bac",
            now=created,
        )
        grant_role(session, officer.id, "officer", "kinh_te", now=created)
        citizen, citizen_identity = identify(
            session, Sender("console", "lan", "lan", None), commune="ha_bac", now=created
        )
        for number in range(20):
            services.cases.create(
                session,
                citizen_id=citizen.id,
                reply_to=citizen_identity,
                draft=CaseDraft("phan_anh_kien_nghi", "moi_truong", f"Rác số {number}", "console"),
                now=created,
            )

    db.call(twenty_cases)
    texts = queue_messages(db, list(range(800, 840)), per_chat=5)
    due = db.call(lambda s: s.scalar(select(func.min(Case.due_at))))
    db.close()
    sweep_at = due.astimezone(HCM).replace(hour=8, minute=0)

    async def worker() -> int:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.stories.worker_process",
            postgres_url,
            server.base_url,
            server.token,
            sweep_at.isoformat(),
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()[-3000:]
        return int(out.decode().split()[-1])

    delivered = await asyncio.gather(worker(), worker())
    counts = Counter(m.text for m in server.sent)
    assert {t: n for t, n in counts.items() if t in texts and n != 1} == {}
    assert set(texts) <= set(counts), "none lost"
    to_officer = [m.text or "" for m in server.messages_to(officer_chat)]
    notices = [t for t in to_officer if t.startswith("📥 Hồ sơ mới")]
    reminders = [t for t in to_officer if "Hôm nay là hạn giải quyết" in t]
    assert len(notices) == len(set(notices)) == 20
    assert len(reminders) == len(set(reminders)) == 20, "each reminder exactly once"
    assert sum(delivered) == len(server.sent) == len(texts) + 40
    assert all(part > 0 for part in delivered), f"both processes did part of the work: {delivered}"
